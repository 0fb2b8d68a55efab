/**
 * The task service: creates tasks, moves them through the state machine, persists logs and stats, and hands
 * them to the runner. The API layer calls only this; it holds no business logic of its own.
 */
import { randomBytes } from 'node:crypto';
import { MigrationError } from '../errors.ts';
import type { Task } from '../generated/prisma/client.ts';
import type { Logger } from '../log.ts';
import {
  type Executor,
  type ExecutorContext,
  type ExecutorRegistry,
  type LogLevel,
  type RunnerHost,
  TaskPool,
  type TaskSpec,
  type TaskStats,
} from '../runner/index.ts';
import type { Db } from './db.ts';
import { invalidField, jobNotFound, TaskError, taskNotFound, taskStateConflict } from './errors.ts';
import type { InstanceDirectory, InstanceRef, ResolvedInstance } from './instances.ts';
import type { SecretBox } from './secrets.ts';
import {
  ACTIVE_STATUSES,
  allowed,
  canTransition,
  nextStatus,
  type TaskEvent,
  type TaskKind,
  type TaskOperation,
  type TaskStatus,
  TERMINAL_STATUSES,
} from './state-machine.ts';

export type { Task };

export interface TaskServiceDeps {
  db: Db;
  secrets: SecretBox;
  instances: InstanceDirectory;
  executors: ExecutorRegistry;
  logger: Logger;
  concurrency: number;
  /** How long sync-stop waits for the executor to drain before answering. */
  syncStopTimeoutMs?: number;
}

export interface BackupImportInput {
  task_name: string;
  description?: string | null;
  migration_type: string;
  migration_method: string;
  backup_files?: {
    file_source?: string | null;
    bucket_name?: string | null;
    files?: { file_name: string; size?: string | null; update_at?: string | null }[] | null;
    backup_id?: string | null;
  } | null;
  target_instance?: InstanceRef | null;
}

export interface OnlineCreateInput {
  name: string;
  description?: string | null;
  vpc_id: string;
  subnet_id: string;
  security_group_id: string;
}

export interface OnlineConfigInput {
  migration_method: string;
  resume_mode: string;
  bandwidth_limit_mb?: string | number | null;
  source_instance?: InstanceRef | null;
  target_instance?: InstanceRef | null;
}

/** One item of a batch call; the API maps `error` to its DCS code like any other error. */
export interface BatchResult {
  taskId: string;
  error: TaskError | null;
}

export interface LogRow {
  createdAt: Date;
  level: string;
  code: string;
  message: string;
  keyword: string[];
}

/** Public (API-visible) form of a stored instance: never a password. */
export interface StoredInstance {
  id: string;
  name: string;
  addrs: string;
}

const STATS_FLUSH_MS = 1000;

export function newTaskId(): string {
  return randomBytes(16).toString('hex');
}

export class TaskService implements RunnerHost {
  readonly #db: Db;
  readonly #secrets: SecretBox;
  readonly #instances: InstanceDirectory;
  readonly #log: Logger;
  readonly #pool: TaskPool;
  readonly #syncStopTimeoutMs: number;
  readonly #pendingStats = new Map<string, { patch: Partial<TaskStats>; timer: NodeJS.Timeout | null }>();

  constructor(deps: TaskServiceDeps) {
    this.#db = deps.db;
    this.#secrets = deps.secrets;
    this.#instances = deps.instances;
    this.#log = deps.logger.child({ component: 'tasks' });
    this.#pool = new TaskPool(this, deps.executors, { concurrency: deps.concurrency });
    this.#syncStopTimeoutMs = deps.syncStopTimeoutMs ?? 60_000;
  }

  /**
   * After a crash or restart no task stays active forever: CREATING ones complete, TERMINATING ones end as
   * TERMINATED, running ones resume when their executor can, else they are marked FAILED saying why.
   */
  async recover(): Promise<void> {
    const active = await this.#db.task.findMany({
      where: { status: { in: [...ACTIVE_STATUSES] } },
      orderBy: { createdAt: 'asc' },
    });
    for (const t of active) {
      const kind = t.kind as TaskKind;
      const status = t.status as TaskStatus;
      if (status === 'CREATING') {
        await this.#transition(t, 'created');
      } else if (status === 'TERMINATING') {
        await this.#transition(t, 'stopped');
        await this.#addLog(t.id, 'INFO', 'TASK_STOPPED', 'Task stopped while the service was not running.');
      } else if (this.#pool.executor(kind).resumable) {
        await this.#addLog(
          t.id,
          'INFO',
          'TASK_RESUMED',
          `Service restarted: resuming the task from status ${status}.`,
        );
        this.#pool.enqueue(t.id, kind, true);
      } else {
        const msg = `The service stopped while the task was ${status}; a ${kind === 'backup_import' ? 'backup import' : 'task'} of this kind cannot resume, start a new task to retry.`;
        await this.#fail(t, new TaskError('TASK_ERR_INTERRUPTED', msg));
      }
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
    await Promise.all([...this.#pendingStats.keys()].map((id) => this.#flushStats(id)));
  }

  // ---- creation ------------------------------------------------------------------------------------------

  async createBackupImport(projectId: string, body: BackupImportInput): Promise<Task> {
    if (body.migration_type !== 'backupfile_import') {
      throw invalidField(
        'migration_type',
        'this operation imports backup files ("backupfile_import"); create online migrations with POST /v2/{project_id}/migration/instance',
      );
    }
    const bf = body.backup_files;
    if (!bf) throw invalidField('backup_files', 'is required for a backup import');
    const fileSource = bf.file_source || 'self_build_obs';
    if (fileSource === 'backup_record') {
      throw invalidField(
        'backup_files.file_source',
        '"backup_record" is not available: this service keeps no backup records; import from a bucket with "self_build_obs"',
      );
    }
    if (!bf.bucket_name)
      throw invalidField('backup_files.bucket_name', 'is required when file_source is self_build_obs');
    const files = bf.files ?? [];
    if (!files.length) throw invalidField('backup_files.files', 'must name at least one file');
    for (const [i, f] of files.entries()) {
      if (!f.file_name) throw invalidField(`backup_files.files[${i}].file_name`, 'must not be empty');
    }
    const target = this.#instances.resolve('target_instance', body.target_instance);
    const task = await this.#db.task.create({
      data: {
        id: newTaskId(),
        projectId,
        kind: 'backup_import',
        name: body.task_name,
        description: body.description ?? '',
        status: 'MIGRATING',
        migrationType: 'backupfile_import',
        migrationMethod: body.migration_method,
        backupFiles: JSON.stringify({
          file_source: fileSource,
          bucket_name: bf.bucket_name,
          files: files.map((f) => ({
            file_name: f.file_name,
            ...(f.size ? { size: f.size } : {}),
            ...(f.update_at ? { update_at: f.update_at } : {}),
          })),
        }),
        ...this.#instanceColumns('target', target),
      },
    });
    await this.#addLog(
      task.id,
      'INFO',
      'TASK_CREATED',
      `Backup import task created: ${files.length} file(s) from bucket ${bf.bucket_name}.`,
    );
    this.#pool.enqueue(task.id, 'backup_import');
    return task;
  }

  /** CreateOnlineMigrationTask: the task and its creation job, which completes at once (nothing to provision). */
  async createOnline(projectId: string, body: OnlineCreateInput): Promise<{ task: Task; jobId: string }> {
    const id = newTaskId();
    const jobId = newTaskId();
    const now = new Date();
    const [task] = await this.#db.$transaction([
      this.#db.task.create({
        data: {
          id,
          projectId,
          kind: 'online',
          name: body.name,
          description: body.description ?? '',
          status: 'CREATING',
          migrationType: 'online_migration',
          vpcId: body.vpc_id,
          subnetId: body.subnet_id,
          securityGroupId: body.security_group_id,
        },
      }),
      this.#db.job.create({
        data: { id: jobId, projectId, taskId: id, status: 'SUCCESS', beginTime: now, endTime: now },
      }),
    ]);
    const created = await this.#transition(task, 'created');
    await this.#addLog(
      id,
      'INFO',
      'TASK_CREATED',
      'Online migration task created; waiting for configuration.',
    );
    return { task: created, jobId };
  }

  async configureOnline(projectId: string, taskId: string, body: OnlineConfigInput): Promise<Task> {
    const task = await this.get(projectId, taskId);
    if (task.kind !== 'online') throw taskStateConflict(taskId, task.status, 'configure');
    this.#require(task, 'configure');
    const bandwidth = parseBandwidth(body.bandwidth_limit_mb);
    const source = this.#instances.resolve('source_instance', body.source_instance);
    const target = this.#instances.resolve('target_instance', body.target_instance);
    if (sameAddrs(source.addrs, target.addrs)) {
      throw invalidField('target_instance.addrs', 'the target must not be the source instance');
    }
    const updated = await this.#transition(task, 'configure', {
      migrationMethod: body.migration_method,
      resumeMode: body.resume_mode,
      bandwidthLimitMb: bandwidth,
      checkpoint: null,
      ...this.#instanceColumns('source', source),
      ...this.#instanceColumns('target', target),
    });
    await this.#addLog(
      taskId,
      'INFO',
      'TASK_CONFIGURED',
      `Migration configured: ${body.migration_method}, resume_mode ${body.resume_mode}.`,
    );
    this.#pool.enqueue(taskId, 'online');
    return updated;
  }

  // ---- reading -------------------------------------------------------------------------------------------

  /** A task of this project; any other (including another project's) is "not found", as the live API answers. */
  async get(projectId: string, taskId: string): Promise<Task> {
    const task = await this.#db.task.findFirst({ where: { id: taskId, projectId } });
    if (!task) throw taskNotFound(taskId);
    return task;
  }

  async list(projectId: string, q: { offset: number; limit: number; name?: string }) {
    const where = { projectId, ...(q.name ? { name: { contains: q.name } } : {}) };
    const [count, tasks] = await this.#db.$transaction([
      this.#db.task.count({ where }),
      this.#db.task.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        skip: q.offset,
        take: q.limit,
      }),
    ]);
    return { count, tasks };
  }

  async stats(projectId: string, taskId: string): Promise<Task> {
    await this.#flushStats(taskId);
    return this.get(projectId, taskId);
  }

  async logs(projectId: string, taskId: string, q: { offset: number; limit: number; level?: string }) {
    await this.get(projectId, taskId);
    const where = { taskId, ...(q.level ? { level: q.level } : {}) };
    const [count, rows] = await this.#db.$transaction([
      this.#db.taskLog.count({ where }),
      this.#db.taskLog.findMany({ where, orderBy: { id: 'desc' }, skip: q.offset, take: q.limit }),
    ]);
    return {
      count,
      logs: rows.map(
        (r): LogRow => ({
          createdAt: r.createdAt,
          level: r.level,
          code: r.code,
          message: r.message,
          keyword: JSON.parse(r.keyword),
        }),
      ),
    };
  }

  async job(projectId: string, jobId: string) {
    const job = await this.#db.job.findFirst({ where: { id: jobId, projectId } });
    if (!job) throw jobNotFound(jobId);
    return job;
  }

  // ---- changing ------------------------------------------------------------------------------------------

  async update(projectId: string, taskId: string, body: { resume_mode?: string | null }): Promise<Task> {
    const task = await this.get(projectId, taskId);
    this.#requireOp(task, 'update');
    if (!body.resume_mode) return task;
    if (body.resume_mode !== 'auto' && body.resume_mode !== 'manual') {
      throw invalidField('resume_mode', 'must be "auto" or "manual"');
    }
    const updated = await this.#db.task.update({
      where: { id: taskId },
      data: { resumeMode: body.resume_mode },
    });
    await this.#addLog(taskId, 'INFO', 'TASK_UPDATED', `resume_mode set to ${body.resume_mode}.`);
    return updated;
  }

  /**
   * Deletes the listed tasks of this project. Unknown ids are ignored (as the live API); a task that is still
   * running refuses the whole request, so nothing is half deleted.
   */
  async delete(projectId: string, ids: string[]): Promise<void> {
    const tasks = await this.#db.task.findMany({ where: { projectId, id: { in: ids } } });
    for (const t of tasks) this.#requireOp(t, 'delete');
    const found = tasks.map((t) => t.id);
    await this.#db.$transaction([
      this.#db.job.deleteMany({ where: { taskId: { in: found } } }),
      this.#db.task.deleteMany({ where: { id: { in: found } } }),
    ]);
  }

  /** Requests a stop; the executor drains and the task ends TERMINATED. Returns the task as it is now. */
  async stop(projectId: string, taskId: string): Promise<Task> {
    const task = await this.get(projectId, taskId);
    this.#require(task, 'stop');
    const stopping = await this.#transition(task, 'stop');
    await this.#addLog(taskId, 'INFO', 'TASK_STOPPING', 'Stop requested.');
    if (stopping.status === 'TERMINATING') {
      const how = this.#pool.stop(taskId);
      if (how !== 'signalled') return this.#transition(stopping, 'stopped');
    }
    return stopping;
  }

  /** Stops and waits until the executor has drained; an error if that takes longer than syncStopTimeoutMs. */
  async syncStop(projectId: string, taskId: string): Promise<Task> {
    const current = await this.get(projectId, taskId);
    // Already ended: nothing to stop, and the caller's goal (a stopped task) holds.
    if (TERMINAL_STATUSES.has(current.status as TaskStatus)) return current;
    if (current.status !== 'TERMINATING') await this.stop(projectId, taskId);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#pool.settled(taskId),
      new Promise((r) => {
        timer = setTimeout(r, this.#syncStopTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    const t = await this.get(projectId, taskId);
    if (t.status === 'TERMINATING') {
      throw new TaskError(
        'TASK_ERR_STOP_TIMEOUT',
        `The task is still draining after ${this.#syncStopTimeoutMs} ms; it will end TERMINATED.`,
        { task: taskId },
      );
    }
    return t;
  }

  async batchStop(projectId: string, ids: string[]): Promise<BatchResult[]> {
    return this.#batch(ids, (id) => this.stop(projectId, id));
  }

  async batchRestart(projectId: string, ids: string[]): Promise<BatchResult[]> {
    return this.#batch(ids, async (id) => {
      const task = await this.get(projectId, id);
      if (task.kind !== 'online') throw taskStateConflict(id, task.status, 'restart a backup import');
      this.#require(task, 'restart');
      await this.#transition(task, 'restart', { error: null, taskStatus: null, finishedAt: null });
      await this.#addLog(id, 'INFO', 'TASK_RESTARTED', 'Task restarted.');
      this.#pool.enqueue(id, 'online');
    });
  }

  /**
   * ExchangeInstanceIp. This service cannot move network addresses between instances it does not own; the
   * exchange is the cut-over: the incremental sync is drained and stopped, and clients are to be pointed at the
   * target (said in the task log).
   */
  async exchangeIp(
    projectId: string,
    taskId: string,
    body: { exchanged_ip?: string[]; is_exchange_domain?: boolean },
  ) {
    const task = await this.get(projectId, taskId);
    if (task.migrationMethod !== 'incremental_migration')
      throw taskStateConflict(taskId, task.status, 'exchange IPs of');
    // Exchanging addresses only means something between instances known by id (both ends DCS, as the vendor asks).
    if (!storedInstance(task.source)?.id || !storedInstance(task.target)?.id) {
      throw taskStateConflict(
        taskId,
        task.status,
        'exchange IPs (source and target must be instances given by id) of',
      );
    }
    this.#require(task, 'exchange');
    await this.#db.task.update({ where: { id: taskId }, data: { taskStatus: 'EXCHANGING' } });
    this.#pool.stop(taskId);
    await this.#pool.settled(taskId);
    const fresh = await this.get(projectId, taskId);
    if (fresh.status !== 'INCRMIGEATING') {
      await this.#db.task.update({ where: { id: taskId }, data: { taskStatus: null } });
      throw taskStateConflict(taskId, fresh.status, 'exchange IPs of');
    }
    await this.#transition(fresh, 'exchange', { taskStatus: 'EXCHANGE_SUCCESS', finishedAt: new Date() });
    const ips = body.exchanged_ip?.length ? ` (${body.exchanged_ip.join(', ')})` : '';
    await this.#addLog(
      taskId,
      'INFO',
      'IP_EXCHANGED',
      `Cut-over done: incremental sync stopped. Addresses${ips} are not switched by this service; point clients at the target.`,
    );
  }

  async rollbackIp(projectId: string, taskId: string): Promise<void> {
    const task = await this.get(projectId, taskId);
    if (task.taskStatus !== 'EXCHANGE_SUCCESS')
      throw taskStateConflict(taskId, task.status, 'roll back the IP exchange of');
    this.#requireOp(task, 'rollback');
    await this.#db.task.update({ where: { id: taskId }, data: { taskStatus: 'ROLLBACK_SUCCESS' } });
    await this.#addLog(
      taskId,
      'INFO',
      'IP_ROLLED_BACK',
      'IP exchange rolled back: point clients at the source again.',
    );
  }

  decryptPassword(sealed: string | null): string | undefined {
    return sealed ? this.#secrets.open(sealed) : undefined;
  }

  // ---- RunnerHost ----------------------------------------------------------------------------------------

  async spec(taskId: string, resumed: boolean): Promise<TaskSpec | null> {
    const t = await this.#db.task.findUnique({ where: { id: taskId } });
    if (!t || !ACTIVE_STATUSES.has(t.status as TaskStatus)) return null;
    await this.#db.task.update({
      where: { id: taskId },
      data: { runEpoch: { increment: 1 }, isMigrating: true },
    });
    const target = storedInstance(t.target);
    const source = storedInstance(t.source);
    const bf = t.backupFiles ? JSON.parse(t.backupFiles) : null;
    return {
      id: t.id,
      projectId: t.projectId,
      kind: t.kind as TaskKind,
      migrationMethod: (t.migrationMethod ?? 'full_amount_migration') as TaskSpec['migrationMethod'],
      resumeMode: (t.resumeMode ?? 'auto') as TaskSpec['resumeMode'],
      bandwidthLimitMb: t.bandwidthLimitMb,
      backupFiles: bf && {
        fileSource: bf.file_source,
        bucketName: bf.bucket_name,
        files: bf.files.map((f: { file_name: string; size?: string }) => ({
          name: f.file_name,
          size: f.size,
        })),
      },
      source: source && { ...source, password: this.decryptPassword(t.sourcePassword) },
      target: {
        ...(target ?? { id: '', name: '', addrs: '' }),
        password: this.decryptPassword(t.targetPassword),
      },
      checkpoint: t.checkpoint ? JSON.parse(t.checkpoint) : null,
      resumed,
    };
  }

  context(taskId: string, signal: AbortSignal, spec: TaskSpec): ExecutorContext {
    return {
      task: spec,
      signal,
      log: (level: LogLevel, code: string, message: string, keyword?: string[]) =>
        this.#addLog(taskId, level, code, message, keyword),
      stats: (patch) => this.#queueStats(taskId, patch),
      checkpoint: async (data) => {
        await this.#db.task.update({ where: { id: taskId }, data: { checkpoint: JSON.stringify(data) } });
      },
      phase: async (event) => {
        const t = await this.#db.task.findUnique({ where: { id: taskId } });
        // A resumed run may already be in the phase it reports (e.g. INCRMIGEATING after a restart): nothing to do.
        if (t && !signal.aborted && canTransition(t.kind as TaskKind, t.status as TaskStatus, event)) {
          await this.#transition(t, event);
          await this.#addLog(
            taskId,
            'INFO',
            event === 'incremental' ? 'INCR_STARTED' : 'FULL_RESYNC',
            event === 'incremental'
              ? 'Full sync done; applying the live command stream.'
              : 'Incremental sync cannot continue from the saved offset; starting a new full sync.',
          );
        }
      },
    };
  }

  async finished(
    taskId: string,
    outcome: { event: 'succeed' | 'stopped' | 'fail'; error?: unknown },
  ): Promise<void> {
    await this.#flushStats(taskId);
    const t = await this.#db.task.findUnique({ where: { id: taskId } });
    if (!t) return;
    if (outcome.event === 'fail') {
      await this.#fail(t, outcome.error);
      return;
    }
    if (outcome.event === 'stopped') {
      if (t.status === 'TERMINATING') {
        await this.#transition(t, 'stopped', { isMigrating: false, finishedAt: new Date() });
        await this.#addLog(taskId, 'INFO', 'TASK_STOPPED', 'Task stopped; in-flight writes were drained.');
      } else {
        await this.#db.task.update({ where: { id: taskId }, data: { isMigrating: false } });
      }
      if (outcome.error)
        this.#log.warn({ task: taskId, err: outcome.error }, 'executor error while stopping');
      return;
    }
    await this.#transition(t, 'succeed', { isMigrating: false, finishedAt: new Date() });
    await this.#addLog(taskId, 'INFO', 'TASK_SUCCEEDED', 'Migration finished successfully.');
  }

  // ---- internals -----------------------------------------------------------------------------------------

  async #fail(t: Task, error: unknown): Promise<void> {
    const message = errorMessage(error);
    const code = error instanceof MigrationError ? error.code : 'INTERNAL';
    if (!(error instanceof MigrationError)) this.#log.error({ task: t.id, err: error }, 'executor failed');
    const next = nextStatus(t.kind as TaskKind, t.status as TaskStatus, 'fail');
    if (next)
      await this.#transition(t, 'fail', { error: message, isMigrating: false, finishedAt: new Date() });
    await this.#addLog(t.id, 'ERROR', code, message);
  }

  #require(task: Task, event: TaskEvent): void {
    if (!nextStatus(task.kind as TaskKind, task.status as TaskStatus, event)) {
      throw taskStateConflict(task.id, task.status, event);
    }
  }

  #requireOp(task: Task, op: TaskOperation): void {
    if (!allowed(task.kind as TaskKind, task.status as TaskStatus, op))
      throw taskStateConflict(task.id, task.status, op);
  }

  /**
   * Moves a task by the transition table, atomically: the update only applies if the status is still the one
   * the move was computed from (compare-and-set), so concurrent stops and completions cannot both win.
   */
  async #transition(task: Task, event: TaskEvent, data: Record<string, unknown> = {}): Promise<Task> {
    for (let current = task; ; ) {
      const to = nextStatus(current.kind as TaskKind, current.status as TaskStatus, event);
      if (!to) throw taskStateConflict(current.id, current.status, event);
      const res = await this.#db.task.updateMany({
        where: { id: current.id, status: current.status },
        data: { ...data, status: to },
      });
      const fresh = await this.#db.task.findUnique({ where: { id: current.id } });
      if (!fresh) throw taskNotFound(current.id);
      if (res.count === 1) {
        this.#log.info({ task: current.id, from: current.status, to, event }, 'task status');
        return fresh;
      }
      current = fresh;
    }
  }

  #instanceColumns(side: 'source' | 'target', inst: ResolvedInstance) {
    const pub: StoredInstance = { id: inst.id, name: inst.name, addrs: inst.addrs };
    return side === 'source'
      ? {
          source: JSON.stringify(pub),
          sourcePassword: inst.password ? this.#secrets.seal(inst.password) : null,
        }
      : {
          target: JSON.stringify(pub),
          targetPassword: inst.password ? this.#secrets.seal(inst.password) : null,
        };
  }

  async #addLog(
    taskId: string,
    level: LogLevel,
    code: string,
    message: string,
    keyword: string[] = [],
  ): Promise<void> {
    // DCS knows INFO and ERROR only; a warning is an INFO line whose log_code says WARN.
    const dcsLevel = level === 'ERROR' ? 'ERROR' : 'INFO';
    const logCode = level === 'WARN' && !code.startsWith('WARN') ? `WARN_${code}` : code;
    try {
      await this.#db.taskLog.create({
        data: { taskId, level: dcsLevel, code: logCode, message, keyword: JSON.stringify(keyword) },
      });
    } catch (err) {
      // The task may have been deleted meanwhile; the service log still has the line.
      this.#log.debug({ task: taskId, err }, 'task log not stored');
    }
    this.#log[level === 'ERROR' ? 'error' : level === 'WARN' ? 'warn' : 'info'](
      { task: taskId, code },
      message,
    );
  }

  #queueStats(taskId: string, patch: Partial<TaskStats>): void {
    const p = this.#pendingStats.get(taskId) ?? { patch: {}, timer: null };
    Object.assign(p.patch, patch);
    if (!p.timer) {
      p.timer = setTimeout(() => void this.#flushStats(taskId), STATS_FLUSH_MS);
      p.timer.unref();
    }
    this.#pendingStats.set(taskId, p);
  }

  async #flushStats(taskId: string): Promise<void> {
    const p = this.#pendingStats.get(taskId);
    if (!p) return;
    this.#pendingStats.delete(taskId);
    if (p.timer) clearTimeout(p.timer);
    const s = p.patch;
    await this.#db.task
      .updateMany({
        where: { id: taskId },
        data: {
          ...(s.fullMigrationProgress !== undefined && { fullMigrationProgress: s.fullMigrationProgress }),
          ...(s.offset !== undefined && { statOffset: s.offset }),
          ...(s.sourceDbsize !== undefined && { sourceDbsize: s.sourceDbsize }),
          ...(s.targetDbsize !== undefined && { targetDbsize: s.targetDbsize }),
          ...(s.targetInputKbps !== undefined && { targetInputKbps: s.targetInputKbps }),
          ...(s.targetOps !== undefined && { targetOps: s.targetOps }),
          ...(s.isMigrating !== undefined && { isMigrating: s.isMigrating }),
        },
      })
      .catch((err) => this.#log.warn({ task: taskId, err }, 'stats not stored'));
  }

  async #batch(ids: string[], op: (id: string) => Promise<unknown>): Promise<BatchResult[]> {
    const out: BatchResult[] = [];
    for (const id of ids) {
      try {
        await op(id);
        out.push({ taskId: id, error: null });
      } catch (err) {
        if (!(err instanceof TaskError)) throw err;
        out.push({ taskId: id, error: err });
      }
    }
    return out;
  }
}

export function storedInstance(json: string | null): StoredInstance | null {
  return json ? (JSON.parse(json) as StoredInstance) : null;
}

function parseBandwidth(v: string | number | null | undefined): number | null {
  if (v === undefined || v === null || v === '') return null;
  const n = typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 10240) {
    throw invalidField('bandwidth_limit_mb', 'must be an integer number of MB/s from 1 to 10240');
  }
  return n;
}

function sameAddrs(a: string, b: string): boolean {
  const norm = (s: string) =>
    s
      .split(',')
      .map((x) => x.trim().replace(/^localhost:/, '127.0.0.1:'))
      .sort()
      .join(',');
  return norm(a) === norm(b);
}

function errorMessage(error: unknown): string {
  if (error instanceof MigrationError) return error.message;
  return 'Internal error while running the task; see the service log.';
}

export type { Executor };
