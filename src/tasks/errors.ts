import { MigrationError } from '../errors.ts';

/** Task-service errors; `src/api/errors.ts` maps each code to its DCS body. */
export class TaskError extends MigrationError {}

export const taskNotFound = (taskId: string) =>
  new TaskError('TASK_ERR_NOT_FOUND', 'Instance job is not found.', { task: taskId });

export const taskStateConflict = (taskId: string, status: string, op: string) =>
  new TaskError(
    'TASK_ERR_STATE',
    `This operation is not allowed when the task is in the current state: cannot ${op} a task in status ${status}.`,
    { task: taskId },
  );

/** A request field with a value the service cannot use (beyond what the spec validates). */
export const invalidField = (field: string, why: string) =>
  new TaskError('TASK_ERR_INVALID_FIELD', `Invalid ${field} in the request: ${why}`, { field });

export const unknownInstance = (field: string, id: string) =>
  new TaskError(
    'TASK_ERR_UNKNOWN_INSTANCE',
    `Invalid instance ID: ${field} "${id}" is not a known instance (give addrs, or add it to DCS_INSTANCES_FILE).`,
    { field },
  );

export const jobNotFound = (jobId: string) =>
  new TaskError('TASK_ERR_JOB_NOT_FOUND', 'Instance job is not found.', { job: jobId });
