/**
 * Backup-import suites: the real service (API → task service → backup-import executor) reading from a real S3
 * server (s3rver) and writing to real redis-server processes. Each test uses its own project, bucket and target.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.ts';
import { defaultExecutors } from '../../src/executors.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';
import { startTestService, type TestService, waitForStatus } from '../helpers/service.ts';
import { type CuttingProxy, startCuttingProxy } from '../helpers/tcp-proxy.ts';

export interface ImportEnv {
  s3: TestS3;
  svc: TestService;
  /** Set with `proxy: true`: the service reaches s3rver through it (it cuts nothing until told to). */
  proxy: CuttingProxy | null;
  stop(): Promise<void>;
}

/**
 * s3rver + the service with the real executors (defaultExecutors of a Config read from S3_* variables pointing at
 * that s3rver, or at a cutting proxy in front of it).
 */
export async function startImportEnv(
  opts: { s3Env?: Record<string, string>; proxy?: boolean } = {},
): Promise<ImportEnv> {
  const s3 = await startS3();
  const proxy = opts.proxy ? await startCuttingProxy(s3.port, 0) : null;
  const env = s3.env({
    ...(proxy && { S3_ENDPOINT: `http://127.0.0.1:${proxy.port}` }),
    ...opts.s3Env,
  });
  const svc = await startTestService({ executors: defaultExecutors(loadConfig(env)), env });
  return {
    s3,
    svc,
    proxy,
    async stop() {
      await svc.dispose();
      await proxy?.stop();
      await s3.stop();
    },
  };
}

let buckets = 0;
export function freshBucket(): string {
  buckets++;
  return `bkt-${process.pid}-${buckets}`;
}

let projects = 0;
export function freshProject(): string {
  projects++;
  return `imp-${process.pid}-${projects}`;
}

export interface Target {
  addrs: string;
  password?: string;
}

export const targetOf = (r: RedisServer): Target => ({ addrs: `${r.host}:${r.port}`, password: r.password });

export async function createImport(
  env: ImportEnv,
  project: string,
  bucket: string,
  files: string[],
  target: Target,
  over: Record<string, unknown> = {},
): Promise<string> {
  const res = await env.svc.agent.post(`/v2/${project}/migration-task`).send({
    task_name: 'import',
    migration_type: 'backupfile_import',
    migration_method: 'full_amount_migration',
    backup_files: {
      file_source: 'self_build_obs',
      bucket_name: bucket,
      files: files.map((f) => ({ file_name: f })),
    },
    target_instance: { id: '', addrs: target.addrs, ...(target.password && { password: target.password }) },
    ...over,
  });
  assert.equal(res.status, 200, res.text);
  return res.body.id as string;
}

export async function waitEnd(
  env: ImportEnv,
  project: string,
  id: string,
  status: string,
  timeoutMs = 30_000,
) {
  await waitForStatus(env.svc.agent, project, id, status, { timeoutMs });
  return showTask(env, project, id);
}

export async function showTask(env: ImportEnv, project: string, id: string) {
  const res = await env.svc.agent.get(`/v2/${project}/migration-task/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.body as Record<string, unknown>;
}

export async function taskError(env: ImportEnv, project: string, id: string): Promise<string> {
  const res = await env.svc.agent.get(`/v2/${project}/migration-tasks?limit=1000`);
  const t = (res.body.migration_tasks as Record<string, unknown>[]).find((x) => x.task_id === id);
  return String(t?.error_message ?? '');
}

export async function statsOf(env: ImportEnv, project: string, id: string) {
  const res = await env.svc.agent.get(`/v2/${project}/migration-task/${id}/stats`);
  assert.equal(res.status, 200, res.text);
  return res.body as Record<string, string | boolean>;
}

export async function logsOf(env: ImportEnv, project: string, id: string) {
  const res = await env.svc.agent.get(`/v2/${project}/migration-task/${id}/logs?limit=1000`);
  assert.equal(res.status, 200, res.text);
  // Newest first in the API; oldest first here.
  return (res.body.migration_logs as { log_code: string; log_level: string; message: string }[]).reverse();
}

/** Ends with SUCCESS and the numbers say so. */
export async function assertSucceeded(
  env: ImportEnv,
  project: string,
  id: string,
  keys: number,
): Promise<void> {
  await waitEnd(env, project, id, 'SUCCESS');
  const s = await statsOf(env, project, id);
  assert.equal(s.full_migration_progress, '100');
  assert.equal(s.is_migrating, false);
  assert.equal(s.target_dbsize, String(keys));
}

/** Keys in every db of a server. */
export async function keyCount(r: RedisServer): Promise<number> {
  const c = new Redis({ host: r.host, port: r.port, password: r.password, lazyConnect: true });
  await c.connect();
  try {
    const info = await c.info('keyspace');
    let n = 0;
    for (const m of info.matchAll(/^db\d+:keys=(\d+)/gm)) n += Number(m[1]);
    return n;
  } finally {
    c.disconnect();
  }
}

/** Files of a redis-server's appendonlydir: name → bytes. */
export function aofDir(dir: string, sub = 'appendonlydir'): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const n of readdirSync(join(dir, sub)).sort()) out.set(n, readFileSync(join(dir, sub, n)));
  return out;
}

/** Deterministic pseudo-random bytes (no test depends on Math.random). */
export function bytes(seed: number, n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Writes a mixed dataset: every type, binary keys and values, TTLs, several dbs (unless `cluster`), MULTI/EXEC
 * transactions, a big list and hash. `tag` makes keys of separate calls distinct.
 */
export async function populate(
  r: RedisServer,
  tag: string,
  opts: { cluster?: boolean; scale?: number } = {},
) {
  const c = new Redis({ host: r.host, port: r.port, password: r.password, lazyConnect: true });
  await c.connect();
  const n = opts.scale ?? 50;
  const dbs = opts.cluster ? [0] : [0, 1, 3];
  try {
    for (const db of dbs) {
      await c.select(db);
      const p = c.pipeline();
      for (let i = 0; i < n; i++) {
        const k = (s: string) => Buffer.concat([Buffer.from(`${tag}:${s}:${i}:`), bytes(i + db * 1000, 3)]);
        p.set(k('str'), bytes(i, 10 + (i % 40)));
        p.rpush(k('list'), bytes(i, 5), bytes(i + 1, 7), 'x');
        p.hset(k('hash'), 'f1', bytes(i, 4), Buffer.from([0, 1, 2, 255]), 'v');
        p.sadd(k('set'), 'a', 'b', bytes(i, 6));
        p.sadd(k('iset'), 1, 2, 3 + i);
        p.zadd(k('zset'), 1.5, 'm1', -2, bytes(i, 3), '+inf', 'top');
        p.set(k('ttl'), 'v', 'PX', 3_600_000 + i);
        p.xadd(k('stream'), '*', 'f', bytes(i, 8));
        p.incrby(k('counter'), i);
      }
      await p.exec();
      // Source transactions (kept atomic by the writer).
      for (let t = 0; t < 5; t++) {
        await c
          .multi()
          .set(`${tag}:tx:${t}:a`, 'A')
          .incr(`${tag}:tx:${t}:n`)
          .lpush(`${tag}:tx:${t}:l`, 'q')
          .exec();
      }
      await c.call('RPUSH', `${tag}:biglist`, ...Array.from({ length: 3000 }, (_, i) => bytes(i, 20)));
      await c.call(
        'HSET',
        `${tag}:bighash`,
        ...Array.from({ length: 2000 }, (_, i) => [`f${i}`, bytes(i, 30)]).flat(),
      );
      // Changes after creation, so an AOF holds more than one command per key.
      await c.del(`${tag}:str:0:`);
      await c.lpop(Buffer.concat([Buffer.from(`${tag}:list:1:`), bytes(1 + db * 1000, 3)]));
    }
  } finally {
    c.disconnect();
  }
}

/** Until the server's AOF rewrite (BGREWRITEAOF) is done. */
export async function rewriteAof(r: RedisServer): Promise<void> {
  await r.cli('BGREWRITEAOF');
  for (;;) {
    const info = await r.cli('INFO', 'persistence');
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Until the server's BGSAVE is done; returns dump.rdb. */
export async function saveRdb(r: RedisServer): Promise<Buffer> {
  await r.cli('SAVE');
  return readFileSync(join(r.dir, 'dump.rdb'));
}

/** A dataset of `n` keys with `size` random bytes each (an RDB of about n × size bytes that LZF cannot shrink). */
export async function populateBig(r: RedisServer, n: number, size: number): Promise<void> {
  const c = new Redis({ host: r.host, port: r.port, password: r.password, lazyConnect: true });
  await c.connect();
  try {
    for (let i = 0; i < n; i += 500) {
      const p = c.pipeline();
      for (let j = i; j < Math.min(n, i + 500); j++) p.set(`big:${j}`, bytes(j + 7, size));
      await p.exec();
    }
  } finally {
    c.disconnect();
  }
}

/**
 * A source writing a multi-part AOF (appendonly yes, fsync always): populated, rewritten (the base), populated again
 * and one base key changed (the incr file). With the RDB preamble the base is an RDB, else RESP with #TS lines.
 * Returns the server (pushed on `servers` for the suite to stop) and its appendonlydir files.
 */
export async function aofSource(
  servers: RedisServer[],
  preamble: boolean,
): Promise<[RedisServer, Map<string, Buffer>]> {
  const r = await startRedis({
    args: [
      '--appendonly',
      'yes',
      '--aof-use-rdb-preamble',
      preamble ? 'yes' : 'no',
      '--appendfsync',
      'always',
      '--aof-timestamp-enabled',
      preamble ? 'no' : 'yes',
    ],
  });
  servers.push(r);
  await populate(r, 'a');
  await rewriteAof(r);
  await populate(r, 'b'); // lands in the incr file, and changes keys of the base
  await r.cli('SET', 'a:str:3:', 'overwritten-in-incr');
  return [r, aofDir(r.dir)];
}

/** The one file of `files` whose name matches. */
export function nameOf(files: Map<string, Buffer>, re: RegExp): string {
  const n = [...files.keys()].find((k) => re.test(k));
  assert.ok(n, `no file matching ${re} in ${[...files.keys()].join(', ')}`);
  return n;
}

/** A fresh bucket holding `files`. */
export async function bucketWith(env: ImportEnv, files: Record<string, Buffer>): Promise<string> {
  const b = freshBucket();
  await env.s3.createBucket(b);
  for (const [k, v] of Object.entries(files)) await env.s3.put(b, k, v);
  return b;
}

/** Puts `files` in a fresh bucket and starts an import of `names` (default: all of them) in a fresh project. */
export async function importInto(
  env: ImportEnv,
  t: Target,
  files: Record<string, Buffer>,
  names?: string[],
): Promise<{ p: string; id: string }> {
  const b = await bucketWith(env, files);
  const p = freshProject();
  const id = await createImport(env, p, b, names ?? Object.keys(files), t);
  return { p, id };
}

/**
 * The setup of the suites that import AOFs written by redis-server: the service with s3rver, one source writing
 * plain-RESP AOFs and one writing with the RDB preamble, and every server a test starts stopped afterwards.
 * Construct it at module level: it registers the before/after hooks.
 */
export class AofSuite {
  env!: ImportEnv;
  /** appendonly yes, aof-use-rdb-preamble no: base and incr are RESP. */
  plainSrc!: RedisServer;
  plainFiles!: Map<string, Buffer>;
  /** appendonly yes with the RDB preamble (Redis 7's default): base is an RDB. */
  preSrc!: RedisServer;
  preFiles!: Map<string, Buffer>;
  readonly servers: RedisServer[] = [];

  constructor() {
    before(async () => {
      this.env = await startImportEnv();
      [this.plainSrc, this.plainFiles] = await aofSource(this.servers, false);
      [this.preSrc, this.preFiles] = await aofSource(this.servers, true);
    });
    after(async () => {
      await Promise.all(this.servers.map((s) => s.stop()));
      await this.env.stop();
    });
  }

  /** A fresh target, stopped after the suite. */
  async target(): Promise<RedisServer> {
    const t = await startRedis();
    this.servers.push(t);
    return t;
  }

  importInto(t: Target, files: Record<string, Buffer>, names?: string[]): Promise<{ p: string; id: string }> {
    return importInto(this.env, t, files, names);
  }
}
