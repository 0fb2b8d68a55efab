/**
 * Test doubles for the executor plug-in point (src/runner/index.ts `Executor`) — never for Redis or S3. A
 * controlled executor's runs wait until the test finishes them (`succeed()` / `fail()`), or until the task's
 * signal aborts (a stop or a shutdown), which the double treats as "drained" unless told to ignore it. Each run
 * exposes its `ExecutorContext`, so a test can log, report stats or move an online task to its incremental phase
 * exactly as a real executor would.
 */
import type { Executor, ExecutorContext, ExecutorRegistry, TaskSpec } from '../../src/runner/index.ts';

export interface ControlledRun {
  readonly ctx: ExecutorContext;
  readonly task: TaskSpec;
  /** The executor returns normally (task SUCCESS, unless it was stopped). */
  succeed(): void;
  /** The executor throws `err` (task FAILED with err's message, unless it was stopped). */
  fail(err: unknown): void;
  /** Settles when run() has returned or thrown. */
  readonly done: Promise<void>;
  readonly settled: boolean;
}

export interface ControlledExecutorOptions {
  resumable?: boolean;
  /** 'drain' (default): an aborted signal ends the run normally. 'ignore': the run waits for the test. */
  onAbort?: 'drain' | 'ignore';
}

export interface ControlledExecutor extends Executor {
  /** How runs started from now on react to an aborted signal (may be changed between tests). */
  onAbort: 'drain' | 'ignore';
  /** Every run so far, in start order. */
  readonly runs: ControlledRun[];
  /** The latest run of `taskId`; waits (bounded) until one exists. */
  runOf(taskId: string, opts?: { nth?: number; timeoutMs?: number }): Promise<ControlledRun>;
}

export function controlledExecutor(opts: ControlledExecutorOptions = {}): ControlledExecutor {
  const runs: ControlledRun[] = [];
  const waiters = new Set<() => void>();
  const executor: ControlledExecutor = {
    resumable: opts.resumable ?? false,
    onAbort: opts.onAbort ?? 'drain',
    runs,
    run(ctx: ExecutorContext): Promise<void> {
      let succeed!: () => void;
      let fail!: (err: unknown) => void;
      let settled = false;
      const done = new Promise<void>((resolve, reject) => {
        succeed = resolve;
        fail = reject;
      }).finally(() => {
        settled = true;
      });
      if (executor.onAbort !== 'ignore') {
        if (ctx.signal.aborted) succeed();
        else ctx.signal.addEventListener('abort', () => succeed(), { once: true });
      }
      runs.push({
        ctx,
        task: ctx.task,
        succeed: () => succeed(),
        fail: (err) => fail(err),
        done: done.catch(() => {}),
        get settled() {
          return settled;
        },
      });
      for (const w of [...waiters]) w();
      return done;
    },
    async runOf(taskId, { nth, timeoutMs = 5000 } = {}) {
      const pick = () => {
        const mine = runs.filter((r) => r.task.id === taskId);
        return nth === undefined ? mine.at(-1) : mine[nth];
      };
      const found = pick();
      if (found) return found;
      return new Promise<ControlledRun>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no executor run of task ${taskId} within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          const r = pick();
          if (!r) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(r);
        };
        waiters.add(check);
      });
    },
  };
  return executor;
}

/** A registry whose two kinds are controlled executors (the same options for both unless given). */
export function controlledExecutors(
  opts: { backup_import?: ControlledExecutorOptions; online?: ControlledExecutorOptions } = {},
): ExecutorRegistry & { backup_import: ControlledExecutor; online: ControlledExecutor } {
  return {
    backup_import: controlledExecutor(opts.backup_import),
    online: controlledExecutor(opts.online),
  };
}
