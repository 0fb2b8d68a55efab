/**
 * Restarts on the same DATA_DIR (src/server.ts, TaskService.recover, src/tasks/migrate.ts, secrets.ts): what was
 * stored survives, tasks that were active resume or end saying why, the secret key persists so sealed passwords
 * still open, and the committed migrations are applied once. Reads go through the typed client (dcs-migrate/client).
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS_DIR } from '../../src/tasks/migrate.ts';
import { controlledExecutors } from '../helpers/executors.ts';
import { startTestService, waitForStatus } from '../helpers/service.ts';
import {
  createBackupImport,
  createOnline,
  freshProject,
  listed,
  SOURCE_PASSWORD,
  TARGET_PASSWORD,
} from './support.ts';

function sql<T>(dbFile: string, fn: (db: Database.Database) => T): T {
  const db = new Database(dbFile);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

test('ListMigrationTask, ListMigrationTaskLogs, ShowMigrationTaskStats: tasks, logs and stats survive a restart', async () => {
  const ex = controlledExecutors();
  let svc = await startTestService({ executors: ex });
  try {
    const p = freshProject();
    const id = await createBackupImport(svc.agent, p);
    const run = await ex.backup_import.runOf(id);
    await run.ctx.log('ERROR', 'TARGET_KEY_BUSY', 'busy: key=k1', ['k1']);
    run.ctx.stats({ fullMigrationProgress: '100', sourceDbsize: '7', targetDbsize: '7', targetOps: '3' });
    run.succeed();
    await waitForStatus(svc.agent, p, id, 'SUCCESS');
    const before = {
      list: (
        await svc.client.GET('/v2/{project_id}/migration-tasks', { params: { path: { project_id: p } } })
      ).data,
      logs: (
        await svc.client.GET('/v2/{project_id}/migration-task/{task_id}/logs', {
          params: { path: { project_id: p, task_id: id }, query: { limit: 100 } },
        })
      ).data,
      stats: (
        await svc.client.GET('/v2/{project_id}/migration-task/{task_id}/stats', {
          params: { path: { project_id: p, task_id: id } },
        })
      ).data,
    };
    assert.equal(before.stats?.target_ops, '3');

    svc = await svc.restart({ executors: controlledExecutors() });
    const after = {
      list: (
        await svc.client.GET('/v2/{project_id}/migration-tasks', { params: { path: { project_id: p } } })
      ).data,
      logs: (
        await svc.client.GET('/v2/{project_id}/migration-task/{task_id}/logs', {
          params: { path: { project_id: p, task_id: id }, query: { limit: 100 } },
        })
      ).data,
      stats: (
        await svc.client.GET('/v2/{project_id}/migration-task/{task_id}/stats', {
          params: { path: { project_id: p, task_id: id } },
        })
      ).data,
    };
    assert.deepEqual(after, before);
  } finally {
    await svc.dispose();
  }
});

test('ShowMigrationTaskStats: stats not yet flushed when the service stops are kept', async () => {
  const ex = controlledExecutors({ backup_import: { resumable: true } });
  let svc = await startTestService({ executors: ex });
  try {
    const p = freshProject();
    const id = await createBackupImport(svc.agent, p);
    (await ex.backup_import.runOf(id)).ctx.stats({ targetOps: '42', sourceDbsize: '1000' });
    svc = await svc.restart({ executors: controlledExecutors({ backup_import: { resumable: true } }) });
    const stats = await svc.client.GET('/v2/{project_id}/migration-task/{task_id}/stats', {
      params: { path: { project_id: p, task_id: id } },
    });
    assert.equal(stats.data?.target_ops, '42');
    assert.equal(stats.data?.source_dbsize, '1000');
  } finally {
    await svc.dispose();
  }
});

test('CreateMigrationTask: a backup import MIGRATING at a restart with a non-resumable executor ends FAILED saying why', async () => {
  const ex = controlledExecutors();
  let svc = await startTestService({ executors: ex });
  try {
    const p = freshProject();
    const id = await createBackupImport(svc.agent, p);
    const run = await ex.backup_import.runOf(id);
    svc = await svc.restart({ executors: controlledExecutors() });
    assert.ok(run.ctx.signal.aborted, 'the shutdown aborted the run');
    const t = await listed(svc.agent, p, id);
    assert.equal(t?.status, 'FAILED');
    assert.match(String(t?.error_message), /service stopped while the task was MIGRATING/);
    assert.match(String(t?.error_message), /cannot resume/);
    const logs = await svc.client.GET('/v2/{project_id}/migration-task/{task_id}/logs', {
      params: { path: { project_id: p, task_id: id }, query: { log_level: 'ERROR' } },
    });
    assert.equal(logs.data?.log_num, 1);
    assert.equal(logs.data?.migration_logs[0].log_code, 'TASK_ERR_INTERRUPTED');
  } finally {
    await svc.dispose();
  }
});

test('CreateMigrationTask: a backup import MIGRATING at a restart with a resumable executor resumes (resumed: true)', async () => {
  const ex = controlledExecutors({ backup_import: { resumable: true } });
  let svc = await startTestService({ executors: ex });
  try {
    const p = freshProject();
    const id = await createBackupImport(svc.agent, p);
    const first = await ex.backup_import.runOf(id);
    assert.equal(first.task.resumed, false);
    await first.ctx.checkpoint({ file: 0, offset: 1234 });
    const ex2 = controlledExecutors({ backup_import: { resumable: true } });
    svc = await svc.restart({ executors: ex2 });
    const again = await ex2.backup_import.runOf(id);
    assert.equal(again.task.resumed, true);
    assert.deepEqual(again.task.checkpoint, { file: 0, offset: 1234 });
    assert.equal(again.task.target.password, TARGET_PASSWORD);
    assert.equal((await listed(svc.agent, p, id))?.status, 'MIGRATING');
    const logs = await svc.client.GET('/v2/{project_id}/migration-task/{task_id}/logs', {
      params: { path: { project_id: p, task_id: id }, query: { limit: 100 } },
    });
    assert.ok(logs.data?.migration_logs.some((l) => l.log_code === 'TASK_RESUMED'));
    again.succeed();
    await waitForStatus(svc.agent, p, id, 'SUCCESS');
  } finally {
    await svc.dispose();
  }
});

test('SetOnlineMigrationTask: an online task INCRMIGEATING at a restart resumes with the same passwords', async () => {
  const ex = controlledExecutors({ online: { resumable: true } });
  let svc = await startTestService({ executors: ex });
  try {
    const p = freshProject();
    const id = await createOnline(svc.agent, p);
    const run = await ex.online.runOf(id);
    await run.ctx.phase('incremental');
    const ex2 = controlledExecutors({ online: { resumable: true } });
    svc = await svc.restart({ executors: ex2 });
    const again = await ex2.online.runOf(id);
    assert.equal(again.task.resumed, true);
    assert.equal(
      again.task.source?.password,
      SOURCE_PASSWORD,
      'the secret key persisted: sealed passwords open',
    );
    assert.equal(again.task.target.password, TARGET_PASSWORD);
    assert.equal((await listed(svc.agent, p, id))?.status, 'INCRMIGEATING');
    const stop = await svc.client.POST('/v2/{project_id}/migration-task/{task_id}/sync-stop', {
      params: { path: { project_id: p, task_id: id } },
    });
    assert.equal(stop.response.status, 204);
  } finally {
    await svc.dispose();
  }
});

test('StopMigrationTask: a task TERMINATING when the service stopped is TERMINATED after the restart', async () => {
  let svc = await startTestService();
  try {
    const p = freshProject();
    const id = await createBackupImport(svc.agent, p);
    await svc.close();
    // As if the process died between the stop request and the executor's drain.
    sql(svc.dbFile, (db) => db.prepare("UPDATE Task SET status = 'TERMINATING' WHERE id = ?").run(id));
    const ex = controlledExecutors();
    svc = await svc.restart({ executors: ex });
    assert.equal((await listed(svc.agent, p, id))?.status, 'TERMINATED');
    assert.equal(ex.backup_import.runs.length, 0, 'nothing is run again');
    const logs = await svc.client.GET('/v2/{project_id}/migration-task/{task_id}/logs', {
      params: { path: { project_id: p, task_id: id }, query: { limit: 100 } },
    });
    assert.ok(logs.data?.migration_logs.some((l) => l.log_code === 'TASK_STOPPED'));
  } finally {
    await svc.dispose();
  }
});

test('CreateOnlineMigrationTask: a task CREATING when the service stopped is RUNNING after the restart', async () => {
  let svc = await startTestService();
  try {
    const p = freshProject();
    const id = await createOnline(svc.agent, p, null);
    await svc.close();
    sql(svc.dbFile, (db) => db.prepare("UPDATE Task SET status = 'CREATING' WHERE id = ?").run(id));
    svc = await svc.restart();
    assert.equal((await listed(svc.agent, p, id))?.status, 'RUNNING');
  } finally {
    await svc.dispose();
  }
});

test('the secret key file is created once (mode 0600) and kept across restarts', async () => {
  let svc = await startTestService();
  try {
    const keyFile = join(svc.dataDir, 'secret.key');
    const st = statSync(keyFile);
    assert.equal(st.mode & 0o777, 0o600);
    const before = st.mtimeMs;
    svc = await svc.restart();
    assert.equal(statSync(keyFile).mtimeMs, before);
  } finally {
    await svc.dispose();
  }
});

test('migrations are applied once: one _prisma_migrations row per committed migration after restarts', async () => {
  let svc = await startTestService();
  try {
    svc = await svc.restart();
    svc = await svc.restart();
    const committed = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    assert.ok(committed.length >= 1);
    const rows = sql(svc.dbFile, (db) =>
      db
        .prepare(
          'SELECT migration_name, finished_at, rolled_back_at FROM _prisma_migrations ORDER BY migration_name',
        )
        .all(),
    ) as { migration_name: string; finished_at: string | null; rolled_back_at: string | null }[];
    assert.deepEqual(
      rows.map((r) => r.migration_name),
      committed,
    );
    for (const r of rows) {
      assert.ok(r.finished_at, r.migration_name);
      assert.equal(r.rolled_back_at, null);
    }
  } finally {
    await svc.dispose();
  }
});
