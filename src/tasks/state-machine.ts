/**
 * The task lifecycle: one explicit transition table for both task kinds. Every status change in the service goes
 * through `transition()`; every API operation that depends on the status asks `allowed()`. Status values are
 * spelled as the DCS wire spells them (`INCRMIGEATING`, see openapi x-dcs-note).
 */

export type TaskKind = 'backup_import' | 'online';

export const TASK_STATUSES = [
  'CREATING',
  'RUNNING',
  'MIGRATING',
  'FULLMIGRATING',
  'INCRMIGEATING',
  'TERMINATING',
  'TERMINATED',
  'SUCCESS',
  'FAILED',
  'MIGRATION_FAILED',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** What moves a task from one status to another. */
export type TaskEvent =
  /** Online task created and its job done: pending configuration. */
  | 'created'
  /** SetOnlineMigrationTask. */
  | 'configure'
  /** Full sync of an incremental online task finished; the live stream is applied from now on. */
  | 'incremental'
  /** Incremental could not continue and a new full sync started (resume_mode auto). */
  | 'resync'
  /** Executor finished every file / the full sync (full_amount_migration). */
  | 'succeed'
  | 'fail'
  /** Stop requested (API stop, batch-stop, sync-stop). */
  | 'stop'
  /** Executor acknowledged the stop after draining in-flight writes. */
  | 'stopped'
  /** BatchRestartOnlineMigrationTasks. */
  | 'restart'
  /** ExchangeInstanceIp: cut over and stop following the source. */
  | 'exchange';

type Row = readonly [TaskKind, TaskStatus, TaskEvent, TaskStatus];

/** The transition table. A move not listed here is refused (DCS.4957 at the API). */
export const TRANSITIONS: readonly Row[] = [
  // Backup import: MIGRATING → SUCCESS | FAILED | TERMINATING → TERMINATED
  ['backup_import', 'MIGRATING', 'succeed', 'SUCCESS'],
  ['backup_import', 'MIGRATING', 'fail', 'FAILED'],
  ['backup_import', 'MIGRATING', 'stop', 'TERMINATING'],
  ['backup_import', 'TERMINATING', 'stopped', 'TERMINATED'],
  ['backup_import', 'TERMINATING', 'fail', 'FAILED'],

  // Online: CREATING → RUNNING (pending configuration) → FULLMIGRATING → SUCCESS | INCRMIGEATING → …
  ['online', 'CREATING', 'created', 'RUNNING'],
  ['online', 'CREATING', 'fail', 'FAILED'],
  ['online', 'RUNNING', 'configure', 'FULLMIGRATING'],
  // Nothing runs before configuration, so a stop ends the task at once.
  ['online', 'RUNNING', 'stop', 'TERMINATED'],
  ['online', 'FULLMIGRATING', 'succeed', 'SUCCESS'],
  ['online', 'FULLMIGRATING', 'incremental', 'INCRMIGEATING'],
  ['online', 'FULLMIGRATING', 'fail', 'FAILED'],
  ['online', 'FULLMIGRATING', 'stop', 'TERMINATING'],
  ['online', 'INCRMIGEATING', 'resync', 'FULLMIGRATING'],
  ['online', 'INCRMIGEATING', 'fail', 'FAILED'],
  ['online', 'INCRMIGEATING', 'stop', 'TERMINATING'],
  ['online', 'INCRMIGEATING', 'exchange', 'SUCCESS'],
  ['online', 'TERMINATING', 'stopped', 'TERMINATED'],
  ['online', 'TERMINATING', 'fail', 'FAILED'],
  ['online', 'TERMINATED', 'restart', 'FULLMIGRATING'],
  ['online', 'FAILED', 'restart', 'FULLMIGRATING'],
  ['online', 'MIGRATION_FAILED', 'restart', 'FULLMIGRATING'],
  ['online', 'SUCCESS', 'restart', 'FULLMIGRATING'],
];

/** Statuses in which an executor is (or should be) working on the task. */
export const ACTIVE_STATUSES: ReadonlySet<TaskStatus> = new Set([
  'CREATING',
  'MIGRATING',
  'FULLMIGRATING',
  'INCRMIGEATING',
  'TERMINATING',
]);

/** Final statuses: the task only changes again by an explicit restart. */
export const TERMINAL_STATUSES: ReadonlySet<TaskStatus> = new Set([
  'SUCCESS',
  'FAILED',
  'MIGRATION_FAILED',
  'TERMINATED',
]);

/** Operations that are not status changes but are only allowed in some statuses. */
export type TaskOperation = 'delete' | 'update' | 'rollback';

const OPERATIONS: Record<TaskOperation, Record<TaskKind, readonly TaskStatus[]>> = {
  // A task with a running executor must be stopped first (as Huawei's Terraform provider does before deleting).
  delete: {
    backup_import: ['SUCCESS', 'FAILED', 'TERMINATED', 'MIGRATION_FAILED'],
    online: ['RUNNING', 'SUCCESS', 'FAILED', 'TERMINATED', 'MIGRATION_FAILED'],
  },
  // resume_mode only means something to an online task; it takes effect at the next reconnect.
  update: {
    backup_import: [],
    online: [
      'RUNNING',
      'FULLMIGRATING',
      'INCRMIGEATING',
      'SUCCESS',
      'FAILED',
      'TERMINATED',
      'MIGRATION_FAILED',
    ],
  },
  // Roll back an IP exchange: only after one (task_status is checked by the service as well).
  rollback: { backup_import: [], online: ['SUCCESS'] },
};

const index = new Map<string, TaskStatus>();
for (const [kind, from, event, to] of TRANSITIONS) index.set(`${kind}|${from}|${event}`, to);

/** The status `event` leads to from `from`, or null when the table has no such move. */
export function nextStatus(kind: TaskKind, from: TaskStatus, event: TaskEvent): TaskStatus | null {
  return index.get(`${kind}|${from}|${event}`) ?? null;
}

export function canTransition(kind: TaskKind, from: TaskStatus, event: TaskEvent): boolean {
  return index.has(`${kind}|${from}|${event}`);
}

export function allowed(kind: TaskKind, status: TaskStatus, op: TaskOperation): boolean {
  return OPERATIONS[op][kind].includes(status);
}

export function isTaskStatus(s: string): s is TaskStatus {
  return (TASK_STATUSES as readonly string[]).includes(s);
}
