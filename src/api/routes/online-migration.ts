/** Online-migration resource: create a task, then configure (and start) it. */
import { Router } from 'express';
import type { TaskService } from '../../tasks/index.ts';
import { showBody } from '../present.ts';
import { json } from '../typed.ts';

export function onlineMigrationRouter(tasks: TaskService): Router {
  const r = Router();
  r.post(
    '/v2/:project_id/migration/instance',
    json('CreateOnlineMigrationTask', async ({ params, body }) => {
      const { task, jobId } = await tasks.createOnline(params.project_id, body);
      return { instance_id: task.id, job_id: jobId };
    }),
  );
  r.post(
    '/v2/:project_id/migration/:task_id/task',
    json('SetOnlineMigrationTask', async ({ params, body }) => {
      const t = await tasks.configureOnline(params.project_id, params.task_id, body);
      return { id: t.id, name: t.name, status: showBody(t).status };
    }),
  );
  return r;
}
