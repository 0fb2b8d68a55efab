/**
 * Fixture access and entry normalization for the RDB decoder suites. Fixtures are read in place from
 * FIXTURES_DIR (default ../shared/fixtures beside the repo), never copied into the repo.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Redis } from 'ioredis';
import { type Entry, runKeyEntry, type StreamEntry, type StreamMeta } from '../../src/entry.ts';
import { RdbParser, type RdbParserOptions } from '../../src/rdb/index.ts';

export const FIXTURES_DIR = resolve(
  process.env.FIXTURES_DIR ?? resolve(import.meta.dirname, '../../../shared/fixtures'),
);

export function requireFixtures(): string {
  if (!existsSync(join(FIXTURES_DIR, 'MANIFEST.json'))) {
    throw new Error(
      `RDB fixture corpus not found at ${FIXTURES_DIR} (MANIFEST.json missing). Set FIXTURES_DIR to the shared fixtures directory.`,
    );
  }
  return FIXTURES_DIR;
}

export interface ManifestFile {
  path: string;
  kind: string;
  size: number;
  header?: string;
  redis_check_rdb?: string;
  expected_contents?: string[];
  scan?: { rdb?: { version?: number; keys?: number; trailing_bytes?: number } };
}

export function manifest(): ManifestFile[] {
  const m = JSON.parse(readFileSync(join(requireFixtures(), 'MANIFEST.json'), 'utf8')) as {
    files: ManifestFile[];
  };
  return m.files;
}

/** Every file of the corpus that starts with an RDB header (RDB files, RDB-preamble AOFs, multi-part bases). */
export function rdbFixtures(): string[] {
  const root = requireFixtures();
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const head = readFileSync(p).subarray(0, 6);
        if (head.subarray(0, 5).toString('latin1') === 'REDIS' || head.toString('latin1') === 'VALKEY') {
          out.push(relative(root, p));
        }
      }
    }
  };
  walk(root);
  return out;
}

export function fixture(rel: string): Buffer {
  return readFileSync(join(requireFixtures(), rel));
}

/** The deliberately bad fixtures (MANIFEST "Negative / quirk cases") and the RdbError code each must give. */
export const KNOWN_BAD: Record<string, string> = {
  'valkey/corrupt_ziplist.rdb': 'RDB_ERR_ZIPLIST',
  'librdb/invalid_chksum_v8.rdb': 'RDB_ERR_CHECKSUM',
  'librdb/future_v19.rdb': 'RDB_ERR_UNSUPPORTED_VERSION',
  'hdt3213-rdb/zipmap_big_len.rdb': 'RDB_ERR_ZIPMAP',
  'redis-replicator/module.rdb': 'RDB_ERR_MODULE_PRE_GA',
  // Synthetic foreign header: rejected unless acceptUnknownVersions (Valkey's relaxed version check).
  'valkey/encodings-rdb987.rdb': 'RDB_ERR_UNSUPPORTED_VERSION',
};

/** Feed chunks to a fresh parser; returns entries and the parser (end() already called). */
export function parseChunks(
  chunks: Iterable<Buffer>,
  opts: RdbParserOptions = {},
): { entries: Entry[]; parser: RdbParser } {
  const parser = new RdbParser(opts);
  const entries: Entry[] = [];
  const add = (e: Entry) => {
    // Runs (dumpRuns) are compared key by key: the same KeyEntries as without them.
    if (e.kind === 'dumps') for (let i = 0; i < e.count; i++) entries.push(runKeyEntry(e, i));
    else entries.push(e);
  };
  for (const c of chunks) for (const e of parser.write(c)) add(e);
  for (const e of parser.end()) add(e);
  return { entries, parser };
}

/** 1-byte chunks produced lazily (same split as feed-chunked's "1-byte", without materializing millions of views). */
export function* oneByteChunks(input: Buffer): Generator<Buffer> {
  for (let i = 0; i < input.length; i++) yield input.subarray(i, i + 1);
}

/** A stable text form of entries (Buffers as hex, bigints as decimal) for exact comparisons across chunkings. */
export function serialize(entries: Entry[]): string {
  return JSON.stringify(entries, (_k, v) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data))
      return `hex:${Buffer.from(v.data).toString('hex')}`;
    if (typeof v === 'number' && !Number.isFinite(v)) return `num:${v}`;
    return v;
  });
}

/** A key's whole value, its pieces merged. */
export interface MergedKey {
  db: number;
  key: Buffer;
  type: string;
  rdbType: number;
  expireAt: number;
  idle: number;
  freq: number;
  dump: Buffer | null;
  string?: Buffer;
  list?: Buffer[];
  set?: Buffer[];
  zset?: { members: Buffer[]; scores: number[] };
  hash?: { fields: Buffer[]; values: Buffer[]; expires: number[] };
  stream?: { entries: StreamEntry[]; meta?: StreamMeta };
  moduleId?: string;
  pieces: number;
}

function append<T>(to: T[], from: T[]): void {
  for (let i = 0; i < from.length; i++) to.push(from[i]);
}

export function mergeKeys(entries: Entry[]): MergedKey[] {
  const out: MergedKey[] = [];
  let cur: MergedKey | null = null;
  const apply = (m: MergedKey, v: NonNullable<Extract<Entry, { kind: 'key' }>['value']>) => {
    m.pieces++;
    switch (v.type) {
      case 'string':
        m.string = m.string ? Buffer.concat([m.string, v.value]) : v.value;
        break;
      case 'list':
        m.list ??= [];
        append(m.list, v.items);
        break;
      case 'set':
        m.set ??= [];
        append(m.set, v.members);
        break;
      case 'zset':
        m.zset ??= { members: [], scores: [] };
        append(m.zset.members, v.members);
        append(m.zset.scores, v.scores);
        break;
      case 'hash':
        m.hash ??= { fields: [], values: [], expires: [] };
        append(m.hash.fields, v.fields);
        append(m.hash.values, v.values);
        append(m.hash.expires, v.expires ?? v.fields.map(() => 0));
        break;
      case 'stream':
        m.stream ??= { entries: [] };
        append(m.stream.entries, v.entries);
        if (v.meta) m.stream.meta = v.meta;
        break;
      case 'module':
        m.moduleId = v.moduleId;
        break;
    }
  };
  for (const e of entries) {
    if (e.kind === 'key') {
      cur = { ...e, pieces: 0 } as unknown as MergedKey;
      delete (cur as unknown as Record<string, unknown>).value;
      delete (cur as unknown as Record<string, unknown>).more;
      delete (cur as unknown as Record<string, unknown>).kind;
      if (e.value) apply(cur, e.value);
      out.push(cur);
    } else if (e.kind === 'chunk') {
      if (!cur?.key.equals(e.key)) throw new Error('chunk without its key entry');
      apply(cur, e.value);
    }
  }
  return out;
}

/** redis-check-rdb passes these but redis-server refuses them. */
export const NATIVE_UNLOADABLE: Record<string, string> = {
  'redis-rdb-cli/rdt/12.rdb': 'tool-generated split with a duplicated key (server panics on load)',
};

/**
 * Fixtures the local redis-server (7.0, RDB 10) loads natively: redis-check-rdb OK, RDB ≤ 10, no module data, no
 * pre-GA functions; byte-identical copies once.
 */
export function nativeFixtures(): ManifestFile[] {
  const seen = new Set<string>();
  return manifest().filter((f) => {
    if (NATIVE_UNLOADABLE[f.path]) return false;
    const sha = (f as { sha256?: string }).sha256 ?? f.path;
    if (seen.has(sha)) return false;
    seen.add(sha);
    const scan = f.scan?.rdb as
      | { version?: number; types?: Record<string, number>; opcodes?: Record<string, number> }
      | undefined;
    if (f.redis_check_rdb !== 'OK' || !scan || (scan.version ?? 99) > 10 || !f.header?.startsWith('REDIS'))
      return false;
    const types = Object.keys(scan.types ?? {});
    const ops = Object.keys(scan.opcodes ?? {});
    if (types.some((t) => t.startsWith('MODULE'))) return false;
    if (ops.includes('MODULE_AUX') || ops.includes('FUNCTION_PRE_GA')) return false;
    return f.path.endsWith('.rdb');
  });
}

export async function serverValue(c: Redis, k: MergedKey): Promise<unknown> {
  const key = k.key;
  switch (k.type) {
    case 'string':
      return c.getBuffer(key);
    case 'list':
      return c.lrangeBuffer(key, 0, -1);
    case 'set':
      return (await c.smembersBuffer(key)).map((b) => b.toString('hex')).sort();
    case 'zset': {
      const r = await c.zrangeBuffer(key, 0, -1, 'WITHSCORES');
      const out: [string, number][] = [];
      for (let i = 0; i < r.length; i += 2) {
        const score = Number(r[i + 1].toString().replace(/^([-+]?)inf$/, '$1Infinity'));
        out.push([r[i].toString('hex'), score === 0 ? 0 : score]);
      }
      return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    }
    case 'hash': {
      // HGETALL as a flat array: ioredis' hgetallBuffer turns field names into (lossy UTF-8) object keys.
      const r = (await c.callBuffer('HGETALL', key)) as Buffer[];
      const out: [string, string][] = [];
      for (let i = 0; i < r.length; i += 2) out.push([r[i].toString('hex'), r[i + 1].toString('hex')]);
      return out.sort();
    }
    case 'stream': {
      const r = (await c.callBuffer('XRANGE', key, '-', '+')) as [Buffer, Buffer[]][];
      return r.map(([id, fields]) => [id.toString(), fields.map((b) => b.toString('hex'))]);
    }
    default:
      return null;
  }
}

export function decodedValue(k: MergedKey): unknown {
  switch (k.type) {
    case 'string':
      return k.string;
    case 'list':
      return k.list;
    case 'set':
      return k.set!.map((b) => b.toString('hex')).sort();
    case 'zset':
      return k
        .zset!.members.map(
          (m, i) => [m.toString('hex'), k.zset!.scores[i] === 0 ? 0 : k.zset!.scores[i]] as [string, number],
        )
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    case 'hash':
      return k.hash!.fields.map((f, i) => [f.toString('hex'), k.hash!.values[i].toString('hex')]).sort();
    case 'stream':
      return k.stream!.entries.map((e) => [`${e.id.ms}-${e.id.seq}`, e.fields.map((b) => b.toString('hex'))]);
    default:
      return null;
  }
}

/** Each decoded key is on the server (in its db) with the same type, value and exact expiry (PEXPIRETIME). */
export async function assertServerHas(c: Redis, keys: MergedKey[]): Promise<void> {
  for (const k of keys) {
    await c.select(k.db);
    const name = k.key.toString('latin1');
    assert.equal(await c.type(k.key), k.type, `type of ${name}`);
    assert.deepEqual(await serverValue(c, k), decodedValue(k), `value of ${name}`);
    const pexp = Number(await c.call('PEXPIRETIME', k.key));
    assert.equal(pexp === -1 ? 0 : pexp, k.expireAt, `expiry of ${name}`);
  }
}
