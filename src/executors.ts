/** The executors this build runs, one per task kind (src/runner/index.ts defines the interface). */
import { onlineExecutor } from './online/index.ts';
import { type ExecutorRegistry, unavailableExecutor } from './runner/index.ts';

export function defaultExecutors(): ExecutorRegistry {
  return {
    backup_import: unavailableExecutor('Backup import from S3-compatible buckets'),
    online: onlineExecutor(),
  };
}
