/**
 * The runner executes tasks. Executors for each task kind plug in behind `Executor`; the in-process pool
 * (`pool.ts`) is the default, and the same interface can later sit on a job queue.
 */
import type { TaskKind } from '../tasks/state-machine.ts';

export type { TaskKind };

export interface Endpoint {
  id: string;
  name: string;
  /** host:port[,host:port…] */
  addrs: string;
  password: string | undefined;
}

/** What an executor is given about its task (passwords decrypted, nothing else from the store). */
export interface TaskSpec {
  id: string;
  projectId: string;
  kind: TaskKind;
  migrationMethod: 'full_amount_migration' | 'incremental_migration';
  resumeMode: 'auto' | 'manual';
  /** MB/s, null = unlimited. */
  bandwidthLimitMb: number | null;
  backupFiles: { fileSource: string; bucketName: string; files: { name: string; size?: string }[] } | null;
  source: Endpoint | null;
  target: Endpoint;
  /** Saved by a previous run of this task (e.g. replication id and offset), null on a first run. */
  checkpoint: unknown;
  /** True when this run continues a task that was active when the service stopped. */
  resumed: boolean;
}

export interface TaskStats {
  fullMigrationProgress: string;
  offset: string;
  sourceDbsize: string;
  targetDbsize: string;
  targetInputKbps: string;
  targetOps: string;
  isMigrating: boolean;
}

export type LogLevel = 'INFO' | 'WARN' | 'ERROR';

export interface ExecutorContext {
  readonly task: TaskSpec;
  /** Aborted when the task is stopped or the service shuts down; drain in-flight writes, then return. */
  readonly signal: AbortSignal;
  log(level: LogLevel, code: string, message: string, keyword?: string[]): Promise<void>;
  /** Latest counters; persisted at most once a second and when the run ends. */
  stats(patch: Partial<TaskStats>): void;
  checkpoint(data: unknown): Promise<void>;
  /** Online tasks: the full sync is done and the live stream is applied from now on (or a full resync began). */
  phase(event: 'incremental' | 'resync'): Promise<void>;
}

export interface Executor {
  /**
   * Resolves when the task is done, or, once `signal` is aborted, when in-flight work is drained. Throws a typed
   * error (MigrationError) on failure.
   */
  run(ctx: ExecutorContext): Promise<void>;
  /** Whether a task found active after a restart can continue (else it is marked FAILED, saying why). */
  readonly resumable: boolean;
}

export type ExecutorRegistry = Record<TaskKind, Executor>;

/** What the pool needs from the task service (which owns the store and the state machine). */
export interface RunnerHost {
  /** Builds the spec of a task about to run; null when it no longer exists. */
  spec(taskId: string, resumed: boolean): Promise<TaskSpec | null>;
  /** The executor returned: normally (`succeed`), after a stop (`stopped`) or with an error (`fail`). */
  finished(
    taskId: string,
    outcome: { event: 'succeed' | 'stopped' | 'fail'; error?: unknown },
  ): Promise<void>;
  context(taskId: string, signal: AbortSignal, spec: TaskSpec): ExecutorContext;
}

export type { PoolOptions } from './pool.ts';
export { TaskPool } from './pool.ts';
export { unavailableExecutor } from './unavailable.ts';
