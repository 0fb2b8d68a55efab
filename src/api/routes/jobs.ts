/** Job resource: the asynchronous job returned by CreateOnlineMigrationTask, polled by clients such as Terraform. */
import { Router } from 'express';
import type { TaskService } from '../../tasks/index.ts';
import { json } from '../typed.ts';

const ms = (d: Date | null) => (d ? String(d.getTime()) : '');

export function jobsRouter(tasks: TaskService): Router {
  const r = Router();
  r.get(
    '/v2/:project_id/jobs/:job_id',
    json('ShowJobInfo', async ({ params }) => {
      const job = await tasks.job(params.project_id, params.job_id);
      return {
        job_id: job.id,
        status: job.status as 'INIT' | 'RUNNING' | 'SUCCESS' | 'FAIL',
        begin_time: ms(job.beginTime),
        end_time: ms(job.endTime),
        fail_reason: job.failReason,
      };
    }),
  );
  return r;
}
