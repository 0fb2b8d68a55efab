/** Migration-task resource: backup-import creation and every operation on existing tasks of either kind. */
import { Router } from 'express';
import type { BatchResult, TaskService } from '../../tasks/index.ts';
import { batchItemError } from '../errors.ts';
import { listItem, logBody, showBody, statsBody } from '../present.ts';
import { json, noContent } from '../typed.ts';

const DEFAULT_LIMIT = 10;

/** One per-item result of batch-stop / batch-restart. */
function batchItem(x: BatchResult) {
  return x.error
    ? { task_id: x.taskId, result: 'failed' as const, ...batchItemError(x.error) }
    : { task_id: x.taskId, result: 'success' as const };
}

export function migrationTasksRouter(tasks: TaskService): Router {
  const r = Router();
  const base = '/v2/:project_id';

  r.post(
    `${base}/migration-task`,
    json('CreateMigrationTask', async ({ params, body }) => {
      const t = await tasks.createBackupImport(params.project_id, body);
      return { id: t.id, name: t.name, status: showBody(t).status, error: '' };
    }),
  );

  r.get(
    `${base}/migration-tasks`,
    json('ListMigrationTask', async ({ params, query }) => {
      const { count, tasks: rows } = await tasks.list(params.project_id, {
        offset: Number(query.offset ?? 0),
        limit: Number(query.limit ?? DEFAULT_LIMIT),
        name: query.name,
      });
      return { count, migration_tasks: rows.map(listItem) };
    }),
  );

  r.post(
    `${base}/migration-task/batch-stop`,
    json('BatchStopMigrationTasks', async ({ params, body }) => {
      const results = await tasks.batchStop(params.project_id, body.migration_tasks);
      return {
        migration_tasks: results.map(batchItem),
      };
    }),
  );

  r.post(
    `${base}/migration-tasks/batch-restart`,
    json('BatchRestartOnlineMigrationTasks', async ({ params, body }) => {
      const results = await tasks.batchRestart(params.project_id, body.migration_tasks);
      return {
        migration_tasks: results.map(batchItem),
      };
    }),
  );

  r.delete(
    `${base}/migration-tasks/delete`,
    json('DeleteMigrationTask', async ({ params, body }) => {
      // As the live API: ids that name no task are ignored, and the request's list is echoed.
      await tasks.delete(params.project_id, body.task_id_list);
      return { task_id_list: body.task_id_list };
    }),
  );

  r.get(
    `${base}/migration-task/:task_id`,
    json('ShowMigrationTask', async ({ params }) =>
      showBody(await tasks.get(params.project_id, params.task_id)),
    ),
  );

  r.put(
    `${base}/migration-task/:task_id`,
    json('UpdateMigrationTask', async ({ params, body }) => {
      await tasks.update(params.project_id, params.task_id, body);
      return {};
    }),
  );

  r.post(
    `${base}/migration-task/:task_id/stop`,
    json('StopMigrationTask', async ({ params }) =>
      showBody(await tasks.stop(params.project_id, params.task_id)),
    ),
  );

  r.post(
    `${base}/migration-task/:task_id/sync-stop`,
    noContent('StopMigrationTaskSync', async ({ params }) => {
      await tasks.syncStop(params.project_id, params.task_id);
    }),
  );

  r.get(
    `${base}/migration-task/:task_id/stats`,
    json('ShowMigrationTaskStats', async ({ params }) =>
      statsBody(await tasks.stats(params.project_id, params.task_id)),
    ),
  );

  r.get(
    `${base}/migration-task/:task_id/logs`,
    json('ListMigrationTaskLogs', async ({ params, query }) => {
      const { count, logs } = await tasks.logs(params.project_id, params.task_id, {
        offset: Number(query.offset ?? 0),
        limit: Number(query.limit ?? DEFAULT_LIMIT),
        level: query.log_level,
      });
      return { log_num: count, migration_logs: logs.map(logBody) };
    }),
  );

  r.post(
    `${base}/migration-task/:task_id/exchange-ip`,
    noContent('ExchangeInstanceIp', async ({ params, body }) => {
      await tasks.exchangeIp(params.project_id, params.task_id, {
        exchanged_ip: body.exchanged_ip ?? undefined,
        is_exchange_domain: body.is_exchange_domain,
      });
    }),
  );

  r.post(
    `${base}/migration-task/:task_id/rollback-ip`,
    noContent('RollbackExchangeInstanceIp', async ({ params }) => {
      await tasks.rollbackIp(params.project_id, params.task_id);
    }),
  );

  return r;
}
