/**
 * TaskService behaviour the HTTP suites cannot reach in reasonable time: a sync-stop whose executor does not drain
 * within syncStopTimeoutMs (60 s in the server) fails, and the API maps that failure to 500 DCS.5000 as the spec
 * says, while the task keeps stopping and still ends TERMINATED.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { toDcs } from '../../src/api/errors.ts';
import { createLogger } from '../../src/log.ts';
import { type Db, InstanceDirectory, openDb, SecretBox, TaskService } from '../../src/tasks/index.ts';
import { controlledExecutors } from '../helpers/executors.ts';

const dir = mkdtempSync(join(tmpdir(), 'dcs-tasks-'));
const ex = controlledExecutors({ backup_import: { onAbort: 'ignore' } });
let db: Db;
let tasks: TaskService;

before(() => {
  db = openDb(`file:${join(dir, 'dcs-migrate.db')}`);
  tasks = new TaskService({
    db,
    secrets: SecretBox.open(undefined, dir),
    instances: new InstanceDirectory(),
    executors: ex,
    logger: createLogger('silent'),
    concurrency: 4,
    syncStopTimeoutMs: 50,
  });
});
after(async () => {
  for (const r of ex.backup_import.runs) r.succeed();
  await tasks.close();
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test('syncStop: an executor that does not drain in time is an error mapped to 500 DCS.5000; the task still ends TERMINATED', async () => {
  const task = await tasks.createBackupImport('p1', {
    task_name: 'slow-drain',
    migration_type: 'backupfile_import',
    migration_method: 'full_amount_migration',
    backup_files: { bucket_name: 'b', files: [{ file_name: 'dump.rdb' }] },
    target_instance: { id: '', addrs: '10.0.0.5:6379' },
  });
  const run = await ex.backup_import.runOf(task.id);
  const err = await tasks.syncStop('p1', task.id).then(
    () => assert.fail('syncStop should fail after its timeout'),
    (e: unknown) => e,
  );
  assert.equal((err as { code?: string }).code, 'TASK_ERR_STOP_TIMEOUT');
  assert.deepEqual(toDcs(err), {
    status: 500,
    body: { error_code: 'DCS.5000', error_msg: 'Internal error.', error_ext_msg: null },
  });
  assert.equal((await tasks.get('p1', task.id)).status, 'TERMINATING');
  run.succeed();
  await run.done;
  for (let i = 0; i < 100 && (await tasks.get('p1', task.id)).status !== 'TERMINATED'; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal((await tasks.get('p1', task.id)).status, 'TERMINATED');
});
