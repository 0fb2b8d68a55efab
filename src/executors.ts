/** The executors this build runs, one per task kind (src/runner/index.ts defines the interface). */
import type { Config } from './config.ts';
import { onlineExecutor } from './online/index.ts';
import { backupImportExecutor } from './pipeline/index.ts';
import type { ExecutorRegistry } from './runner/index.ts';

export function defaultExecutors(config: Pick<Config, 's3'>): ExecutorRegistry {
  return {
    backup_import: backupImportExecutor({ s3: config.s3 }),
    online: onlineExecutor(),
  };
}
