/**
 * In-process executor pool: at most `concurrency` tasks run at once, the rest wait in FIFO order. A stop aborts
 * the running executor's signal at once (or drops the task from the queue), so it reaches the executor promptly.
 */

import { MigrationError } from '../errors.ts';
import type { TaskKind } from '../tasks/state-machine.ts';
import type { ExecutorRegistry, RunnerHost } from './index.ts';

export interface PoolOptions {
  concurrency: number;
}

export const POOL_DEFAULTS: PoolOptions = { concurrency: 4 };

interface Running {
  controller: AbortController;
  done: Promise<void>;
  reason: 'stop' | 'shutdown' | null;
}

export class TaskPool {
  readonly #host: RunnerHost;
  readonly #executors: ExecutorRegistry;
  readonly #opts: PoolOptions;
  readonly #queue: { id: string; kind: TaskKind; resumed: boolean }[] = [];
  readonly #running = new Map<string, Running>();
  #closed = false;

  constructor(host: RunnerHost, executors: ExecutorRegistry, opts: Partial<PoolOptions> = {}) {
    this.#host = host;
    this.#executors = executors;
    this.#opts = { ...POOL_DEFAULTS, ...opts };
  }

  executor(kind: TaskKind) {
    return this.#executors[kind];
  }

  enqueue(id: string, kind: TaskKind, resumed = false): void {
    if (this.#closed || this.#running.has(id) || this.#queue.some((q) => q.id === id)) return;
    this.#queue.push({ id, kind, resumed });
    this.#pump();
  }

  isRunning(id: string): boolean {
    return this.#running.has(id);
  }

  /**
   * Stops a task: a queued one is dropped (returns 'dequeued'), a running one is signalled and 'signalled' is
   * returned (its host.finished('stopped') follows when it has drained), else 'idle'.
   */
  stop(id: string): 'dequeued' | 'signalled' | 'idle' {
    const qi = this.#queue.findIndex((q) => q.id === id);
    if (qi >= 0) {
      this.#queue.splice(qi, 1);
      return 'dequeued';
    }
    const r = this.#running.get(id);
    if (!r) return 'idle';
    r.reason ??= 'stop';
    r.controller.abort(new MigrationError('RUNNER_STOPPED', 'task stopped'));
    return 'signalled';
  }

  /** Resolves when the task is neither queued nor running. */
  async settled(id: string): Promise<void> {
    await this.#running.get(id)?.done;
  }

  /** Shutdown: abort every executor without changing task statuses, so they resume at the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue.length = 0;
    const all = [...this.#running.values()];
    for (const r of all) {
      r.reason ??= 'shutdown';
      r.controller.abort(new MigrationError('RUNNER_SHUTDOWN', 'service shutting down'));
    }
    await Promise.allSettled(all.map((r) => r.done));
  }

  #pump(): void {
    while (!this.#closed && this.#running.size < this.#opts.concurrency && this.#queue.length) {
      const next = this.#queue.shift()!;
      this.#launch(next.id, next.kind, next.resumed);
    }
  }

  #launch(id: string, kind: TaskKind, resumed: boolean): void {
    const controller = new AbortController();
    const entry: Running = { controller, done: Promise.resolve(), reason: null };
    this.#running.set(id, entry);
    entry.done = (async () => {
      try {
        const spec = await this.#host.spec(id, resumed);
        if (!spec) return;
        let outcome: { event: 'succeed' | 'stopped' | 'fail'; error?: unknown };
        try {
          await this.#executors[kind].run(this.#host.context(id, controller.signal, spec));
          outcome = { event: entry.reason ? 'stopped' : 'succeed' };
        } catch (error) {
          outcome = entry.reason ? { event: 'stopped', error } : { event: 'fail', error };
        }
        // A shutdown leaves the status as it is: the task resumes (or is failed, saying why) at the next start.
        if (entry.reason !== 'shutdown') await this.#host.finished(id, outcome);
      } finally {
        this.#running.delete(id);
        this.#pump();
      }
    })();
  }
}
