/**
 * Key-by-key comparison of two Redis servers (STYLE habit 15: targets are compared with Redis itself).
 *
 * `dataOf(server)` snapshots every key of every db: TYPE, the full value read back with binary-safe commands
 * (strings, lists, sets, zsets with scores, hashes with field TTLs when the server has them, streams with entries
 * and `XINFO STREAM … FULL` groups/PEL/consumers), and the exact expiry (PEXPIRETIME; PTTL-derived on < 7.0).
 * `assertSameData(a, b)` compares two such snapshots and fails with the first differences spelled out.
 *
 * Consumer seen-time/active-time are excluded: no command can set them (XGROUP CREATECONSUMER stamps "now").
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';

export interface ServerLike {
  host: string;
  port: number;
  password?: string;
}

export interface KeyData {
  type: string;
  /** Canonical text of the value (binary shown as escaped bytes). */
  value: string;
  /** Absolute expiry in ms; -1 = persistent. */
  expireAt: number;
}

/** db → printable key → data. */
export type Snapshot = Map<number, Map<string, KeyData>>;

export interface CompareOptions {
  /** Only these dbs (default: every db with keys on either side). */
  dbs?: number[];
  /** Map a db of `a` to the db of `b` it should be compared with. */
  dbMap?: Map<number, number>;
  /** Allowed expiry difference in ms (default 0; servers < 7.0 need a tolerance since only PTTL exists). */
  expiryToleranceMs?: number;
  /** Do not compare expiries at all. */
  ignoreExpiry?: boolean;
  /** How many differences to list (default 10). */
  maxDiffs?: number;
  /**
   * Treat zset scores -0 and 0 as equal: Redis 7.0 stores ZADD's -0 as 0 in a listpack, so a value written with
   * commands cannot keep the -0 a loaded RDB (or RESTORE) can carry.
   */
  ignoreZeroSign?: boolean;
}

const zeroSign = (v: string) => v.replace(/=-0"/g, '=0"');

/** Printable form of bytes: ASCII kept, the rest as \xNN (binary-exact, human-readable). */
export function printable(b: Buffer): string {
  let out = '';
  for (const c of b)
    out +=
      c >= 0x20 && c < 0x7f && c !== 0x5c
        ? String.fromCharCode(c)
        : `\\x${c < 16 ? '0' : ''}${c.toString(16)}`;
  return out;
}

type Reply = Buffer | number | null | Reply[];

function canon(v: Reply): unknown {
  if (Buffer.isBuffer(v)) return printable(v);
  if (Array.isArray(v)) return v.map(canon);
  return v;
}

/** Removes `name, value` pairs from a flat key/value reply array. */
function dropFields(flat: unknown[], names: Set<string>): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    if (typeof flat[i] === 'string' && names.has(flat[i] as string)) continue;
    out.push(flat[i], flat[i + 1]);
  }
  return out;
}

function fieldOf(flat: unknown[], name: string): unknown {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

async function streamValue(r: Redis, key: Buffer): Promise<unknown> {
  const entries = (await r.callBuffer('XRANGE', key, '-', '+')) as Reply;
  const full = canon(
    (await r.callBuffer('XINFO', 'STREAM', key, 'FULL', 'COUNT', '0')) as Reply,
  ) as unknown[];
  // first/last entry are already in `entries`; seen/active times cannot be reproduced by any command.
  const meta = dropFields(full, new Set(['entries', 'radix-tree-keys', 'radix-tree-nodes']));
  const groups = (fieldOf(meta, 'groups') as unknown[][] | undefined) ?? [];
  const groupsOut = groups.map((g) => {
    const consumers = ((fieldOf(g, 'consumers') as unknown[][] | undefined) ?? []).map((c) =>
      dropFields(c, new Set(['seen-time', 'active-time'])),
    );
    return dropFields(g, new Set(['consumers'])).concat(['consumers', consumers]);
  });
  return {
    entries: canon(entries),
    meta: dropFields(meta, new Set(['groups'])).concat(['groups', groupsOut]),
  };
}

async function keyData(r: Redis, key: Buffer, hfe: boolean, pexpiretime: boolean): Promise<KeyData | null> {
  const type = await r.type(key);
  let value: unknown;
  switch (type) {
    case 'none':
      return null;
    case 'string':
      value = canon(await r.getBuffer(key));
      break;
    case 'list':
      value = canon(await r.lrangeBuffer(key, 0, -1));
      break;
    case 'set':
      value = (await r.smembersBuffer(key)).sort(Buffer.compare).map(printable);
      break;
    case 'zset': {
      const flat = (await r.callBuffer('ZRANGE', key, '0', '-1', 'WITHSCORES')) as Buffer[];
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(`${printable(flat[i])}=${printable(flat[i + 1])}`);
      value = pairs;
      break;
    }
    case 'hash': {
      const flat = (await r.callBuffer('HGETALL', key)) as Buffer[];
      const pairs: [Buffer, Buffer][] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
      pairs.sort((x, y) => Buffer.compare(x[0], y[0]));
      const ttls: number[] = [];
      if (hfe && pairs.length) {
        const t = (await r.call(
          'HPEXPIRETIME',
          key,
          'FIELDS',
          String(pairs.length),
          ...pairs.map((p) => p[0]),
        )) as number[];
        ttls.push(...t);
      }
      value = pairs.map(
        (p, i) => `${printable(p[0])}=${printable(p[1])}${hfe && ttls[i] > 0 ? `@${ttls[i]}` : ''}`,
      );
      break;
    }
    case 'stream':
      value = await streamValue(r, key);
      break;
    default:
      value = canon((await r.callBuffer('DUMP', key)) as Reply);
  }
  let expireAt: number;
  if (pexpiretime) expireAt = Number(await r.call('PEXPIRETIME', key));
  else {
    const ttl = await r.pttl(key);
    expireAt = ttl < 0 ? ttl : Date.now() + ttl;
  }
  return { type, value: JSON.stringify(value), expireAt };
}

async function withClient<T>(s: ServerLike, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({
    host: s.host,
    port: s.port,
    password: s.password,
    lazyConnect: true,
    maxRetriesPerRequest: 2,
  });
  await r.connect();
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** Snapshot of every key of every db (or of `dbs`). Keys are compared by their exact bytes. */
export async function dataOf(server: ServerLike, dbs?: number[]): Promise<Snapshot> {
  return withClient(server, async (r) => {
    const info = await r.info();
    const ver = /redis_version:(\d+)\.(\d+)/.exec(info);
    const major = ver ? Number(ver[1]) * 100 + Number(ver[2]) : 0;
    const clusterMode = /cluster_enabled:1/.test(await r.info('cluster'));
    let list = dbs;
    if (!list) {
      list = [];
      const keyspace = await r.info('keyspace');
      for (const m of keyspace.matchAll(/^db(\d+):keys=/gm)) list.push(Number(m[1]));
    }
    const snap: Snapshot = new Map();
    for (const db of list) {
      if (!clusterMode) await r.select(db);
      else if (db !== 0) continue;
      const keys = new Map<string, KeyData>();
      let cursor = '0';
      do {
        const [next, batch] = await r.scanBuffer(cursor, 'COUNT', 1000);
        cursor = String(next);
        for (const k of batch) {
          const d = await keyData(r, k, major >= 704, major >= 700);
          if (d) keys.set(printable(k), d);
        }
      } while (cursor !== '0');
      if (keys.size) snap.set(db, keys);
    }
    return snap;
  });
}

/** Merges the snapshots of several servers (e.g. the masters of a cluster) into one. */
export async function dataOfAll(servers: ServerLike[]): Promise<Snapshot> {
  const out: Snapshot = new Map();
  for (const s of servers) {
    for (const [db, keys] of await dataOf(s)) {
      const into = out.get(db) ?? new Map<string, KeyData>();
      for (const [k, v] of keys) into.set(k, v);
      out.set(db, into);
    }
  }
  return out;
}

function cut(s: string, n = 300): string {
  return s.length > n ? `${s.slice(0, n)}…(${s.length} chars)` : s;
}

/** Lists the differences between two snapshots (empty when equal). */
export function diffSnapshots(a: Snapshot, b: Snapshot, opts: CompareOptions = {}): string[] {
  const diffs: string[] = [];
  const max = opts.maxDiffs ?? 10;
  const tol = opts.expiryToleranceMs ?? 0;
  const dbs = opts.dbs ?? [...a.keys()];
  const seenB = new Set<number>();
  for (const db of dbs) {
    const bdb = opts.dbMap?.get(db) ?? db;
    seenB.add(bdb);
    const ak = a.get(db) ?? new Map<string, KeyData>();
    const bk = b.get(bdb) ?? new Map<string, KeyData>();
    for (const [k, av] of ak) {
      if (diffs.length >= max) return diffs;
      const bv = bk.get(k);
      if (!bv) {
        diffs.push(`db${db}→db${bdb} key "${cut(k, 80)}": missing in b (a has ${av.type})`);
        continue;
      }
      if (av.type !== bv.type) diffs.push(`db${db} key "${cut(k, 80)}": type ${av.type} vs ${bv.type}`);
      else if (
        av.value !== bv.value &&
        !(opts.ignoreZeroSign && av.type === 'zset' && zeroSign(av.value) === zeroSign(bv.value))
      ) {
        let at = 0;
        while (at < av.value.length && av.value[at] === bv.value[at]) at++;
        const from = Math.max(0, at - 120);
        diffs.push(
          `db${db} key "${cut(k, 80)}" (${av.type}): value differs at char ${at}\n` +
            `  a: …${cut(av.value.slice(from))}\n  b: …${cut(bv.value.slice(from))}`,
        );
      } else if (!opts.ignoreExpiry && Math.abs(av.expireAt - bv.expireAt) > tol) {
        diffs.push(`db${db} key "${cut(k, 80)}": expireAt ${av.expireAt} vs ${bv.expireAt}`);
      }
    }
    for (const [k, bv] of bk) {
      if (diffs.length >= max) return diffs;
      if (!ak.has(k)) diffs.push(`db${db}→db${bdb} key "${cut(k, 80)}": only in b (${bv.type})`);
    }
  }
  if (!opts.dbs) {
    for (const [db, keys] of b) {
      if (diffs.length >= max) break;
      if (!seenB.has(db)) diffs.push(`db${db}: ${keys.size} keys only in b`);
    }
  }
  return diffs;
}

/** Asserts that two servers (or snapshots) hold the same data; the message lists the first differences. */
export async function assertSameData(
  a: ServerLike | Snapshot,
  b: ServerLike | Snapshot,
  opts: CompareOptions = {},
): Promise<void> {
  const sa = a instanceof Map ? a : await dataOf(a);
  const sb = b instanceof Map ? b : await dataOf(b);
  const diffs = diffSnapshots(sa, sb, opts);
  if (diffs.length) {
    let count = 0;
    for (const keys of sa.values()) count += keys.size;
    assert.fail(`servers differ (${count} keys in a):\n${diffs.join('\n')}`);
  }
}
