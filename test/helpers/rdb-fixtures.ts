/**
 * Fixture access and entry normalization for the RDB decoder suites. Fixtures are read in place from
 * FIXTURES_DIR (default ../shared/fixtures beside the repo), never copied into the repo.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Entry, StreamEntry, StreamMeta } from '../../src/entry.ts';
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
  for (const c of chunks) for (const e of parser.write(c)) entries.push(e);
  for (const e of parser.end()) entries.push(e);
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
      if (!cur || !cur.key.equals(e.key)) throw new Error('chunk without its key entry');
      apply(cur, e.value);
    }
  }
  return out;
}
