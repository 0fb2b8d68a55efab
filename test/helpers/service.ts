/**
 * The real service for API tests: `startServer(loadConfig(env))` on a free loopback port, a fresh temporary
 * DATA_DIR (SQLite file + secret key) unless one is given, silent logs, and every response validated against the
 * contract (a response that does not match openapi/dcs-migration.yaml becomes a 500 and fails the test).
 * `restart()` stops it and starts it again on the same DATA_DIR, as an operator restarting the process would.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type DcsClient } from 'dcs-migrate/client';
import request from 'supertest';
import { type Env, loadConfig } from '../../src/config.ts';
import type { ExecutorRegistry } from '../../src/runner/index.ts';
import { type RunningServer, type StartOptions, startServer } from '../../src/server.ts';
import type { InstanceRecord } from '../../src/tasks/index.ts';
import { controlledExecutors } from './executors.ts';

export type Agent = ReturnType<typeof request>;

export interface TestServiceOptions {
  /** DCS_AUTH_TOKENS, e.g. "tokA:projA,tokB:projB"; unset = auth off. */
  tokens?: string;
  executors?: ExecutorRegistry;
  /** Reuse a data directory (restart on the same database file). */
  dataDir?: string;
  /** Written to a DCS_INSTANCES_FILE. */
  instances?: InstanceRecord[];
  /** Further environment (HOST, DCS_SECRET_KEY, DCS_ACCESS_KEYS, …). */
  env?: Env;
  /** AK/SK verification settings, e.g. a clock. */
  aksk?: StartOptions['aksk'];
}

export interface TestService {
  url: string;
  agent: Agent;
  /** The typed client (dcs-migrate/client) for this service, without credentials. */
  client: DcsClient;
  dataDir: string;
  /** SQLite file of this service. */
  dbFile: string;
  server: RunningServer;
  executors: ExecutorRegistry;
  close(): Promise<void>;
  /** Stops this instance and starts a new one on the same data dir (new executors if given). */
  restart(opts?: Omit<TestServiceOptions, 'dataDir'>): Promise<TestService>;
  /** Closes and removes the data directory. */
  dispose(): Promise<void>;
}

export function testEnv(dataDir: string, opts: TestServiceOptions): Env {
  const env: Env = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    // Tests leave tasks running in their own projects; a wide pool keeps one test's runs from queueing another's.
    TASK_CONCURRENCY: '256',
    ...(opts.tokens !== undefined && { DCS_AUTH_TOKENS: opts.tokens }),
  };
  if (opts.instances) {
    const file = join(dataDir, 'instances.json');
    writeFileSync(file, JSON.stringify(opts.instances));
    env.DCS_INSTANCES_FILE = file;
  }
  return { ...env, ...opts.env };
}

export async function startTestService(opts: TestServiceOptions = {}): Promise<TestService> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'dcs-api-'));
  const config = loadConfig(testEnv(dataDir, opts));
  const executors = opts.executors ?? controlledExecutors();
  const server = await startServer(config, { executors, validateResponses: true, aksk: opts.aksk });
  const svc: TestService = {
    url: server.url,
    agent: request(server.url),
    client: createClient({ baseUrl: server.url }),
    dataDir,
    dbFile: join(dataDir, 'dcs-migrate.db'),
    server,
    executors,
    close: () => server.close(),
    async restart(next = {}) {
      await server.close();
      return startTestService({ ...opts, ...next, dataDir });
    },
    async dispose() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return svc;
}

/**
 * Polls the task's status every 10 ms until it is `status` (fails after `timeoutMs`). Reads ListMigrationTask, the
 * lighter answer, so polling does not depend on every detail of ShowMigrationTask.
 */
export async function waitForStatus(
  agent: Agent,
  project: string,
  taskId: string,
  status: string,
  opts: { token?: string; timeoutMs?: number } = {},
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  for (;;) {
    const req = agent.get(`/v2/${project}/migration-tasks?limit=1000`);
    if (opts.token) req.set('X-Auth-Token', opts.token);
    const res = await req;
    assert.equal(res.status, 200, res.text);
    const task = (res.body.migration_tasks as Record<string, unknown>[]).find((t) => t.task_id === taskId);
    if (task?.status === status) return task;
    if (Date.now() > deadline) {
      assert.fail(`task ${taskId} did not reach ${status} in time; last seen ${JSON.stringify(task)}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Polls `probe` every 10 ms until it returns a truthy value. */
export async function eventually<T>(probe: () => Promise<T> | T, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
