/**
 * Builds Entry objects from a live source server, as the decoders would: with the server's own DUMP payload
 * (restore path) or with the decoded value read back through commands (rewrite path). Test-only; the real
 * decoders live in src/rdb and src/replication.
 */

import { Redis } from 'ioredis';
import {
  type DumpRunEntry,
  type Entry,
  type KeyEntry,
  RUN_DUMP_AT,
  RUN_DUMP_LEN,
  RUN_STRIDE,
  type RunLayout,
  type StreamGroup,
  type StreamId,
  type Value,
  type ValueType,
} from '../../src/entry.ts';
import { crc64, rdbTypeInfo } from '../../src/rdb/index.ts';
import type { ServerLike } from '../helpers/compare.ts';

function id(b: Buffer | string): StreamId {
  const [ms, seq] = String(b).split('-');
  return { ms: BigInt(ms), seq: BigInt(seq) };
}

function field(flat: unknown[], name: string): unknown {
  for (let i = 0; i < flat.length; i += 2) if (String(flat[i]) === name) return flat[i + 1];
  return undefined;
}

async function decodedValue(r: Redis, key: Buffer, type: ValueType): Promise<Value> {
  switch (type) {
    case 'string':
      return { type, value: (await r.getBuffer(key)) as Buffer };
    case 'list':
      return { type, items: await r.lrangeBuffer(key, 0, -1) };
    case 'set':
      return { type, members: await r.smembersBuffer(key) };
    case 'zset': {
      const flat = (await r.callBuffer('ZRANGE', key, '0', '-1', 'WITHSCORES')) as Buffer[];
      const members: Buffer[] = [];
      const scores: number[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        members.push(flat[i]);
        scores.push(
          Number(
            String(flat[i + 1])
              .replace(/^inf$/, 'Infinity')
              .replace(/^-inf$/, '-Infinity'),
          ),
        );
      }
      return { type, members, scores };
    }
    case 'hash': {
      const flat = (await r.callBuffer('HGETALL', key)) as Buffer[];
      const fields: Buffer[] = [];
      const values: Buffer[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        fields.push(flat[i]);
        values.push(flat[i + 1]);
      }
      return { type, fields, values };
    }
    case 'stream': {
      const raw = (await r.callBuffer('XRANGE', key, '-', '+')) as [Buffer, Buffer[]][];
      const full = (await r.callBuffer('XINFO', 'STREAM', key, 'FULL', 'COUNT', '0')) as unknown[];
      const groups: StreamGroup[] = ((field(full, 'groups') as unknown[][]) ?? []).map((g) => {
        const consumers = ((field(g, 'consumers') as unknown[][]) ?? []).map((c) => ({
          name: field(c, 'name') as Buffer,
          seenTime: Number(field(c, 'seen-time')),
          activeTime: Number(field(c, 'active-time') ?? -1),
        }));
        const pending = ((field(g, 'pending') as unknown[][]) ?? []).map((p) => ({
          id: id(p[0] as Buffer),
          consumer: p[1] as Buffer,
          deliveryTime: Number(p[2]),
          deliveryCount: Number(p[3]),
        }));
        return {
          name: field(g, 'name') as Buffer,
          lastId: id(field(g, 'last-delivered-id') as Buffer),
          entriesRead: field(g, 'entries-read') == null ? -1 : Number(field(g, 'entries-read')),
          pending,
          consumers,
        };
      });
      return {
        type,
        entries: raw.map(([eid, fields]) => ({ id: id(eid), fields })),
        meta: {
          length: Number(field(full, 'length')),
          lastId: id(field(full, 'last-generated-id') as Buffer),
          firstId: id(field(full, 'recorded-first-entry-id') as Buffer),
          maxDeletedId: id(field(full, 'max-deleted-entry-id') as Buffer),
          entriesAdded: Number(field(full, 'entries-added')),
          groups,
        },
      };
    }
    default:
      throw new Error(`unsupported type ${type}`);
  }
}

export interface SourceOptions {
  /** 'dump': DUMP payload only; 'value': decoded value only; 'both'. */
  mode: 'dump' | 'value' | 'both';
  dbs?: number[];
}

/** Every key of the source as a KeyEntry (one entry per key, no pieces). */
export async function entriesOf(server: ServerLike, opts: SourceOptions): Promise<KeyEntry[]> {
  const r = new Redis({ host: server.host, port: server.port, password: server.password });
  try {
    const out: KeyEntry[] = [];
    const dbs = opts.dbs ?? [0];
    for (const db of dbs) {
      await r.select(db);
      let cursor = '0';
      do {
        const [next, keys] = await r.scanBuffer(cursor, 'COUNT', 1000);
        cursor = String(next);
        for (const key of keys) {
          const type = (await r.type(key)) as ValueType;
          const dump = opts.mode === 'value' ? null : await r.dumpBuffer(key);
          const value = opts.mode === 'dump' ? null : await decodedValue(r, key, type);
          const expireAt = Number(await r.call('PEXPIRETIME', key));
          out.push({
            kind: 'key',
            db,
            key,
            type,
            rdbType: dump ? dump[0] : -1,
            expireAt: Math.max(expireAt, 0),
            idle: -1,
            freq: -1,
            dump,
            value,
            more: false,
          });
        }
      } while (cursor !== '0');
    }
    return out;
  } finally {
    r.disconnect();
  }
}

/** Splits a key's decoded value into a KeyEntry(more) and ChunkEntry pieces of `size` elements/bytes. */
export function inPieces(e: KeyEntry, size: number): Entry[] {
  const v = e.value;
  if (!v) return [e];
  const parts: Value[] = [];
  const cut = (n: number, make: (from: number, to: number) => Value) => {
    for (let i = 0; i < n; i += size) parts.push(make(i, Math.min(n, i + size)));
    if (parts.length === 0) parts.push(make(0, 0));
  };
  switch (v.type) {
    case 'string':
      cut(v.value.length, (a, b) => ({ type: 'string', value: v.value.subarray(a, b) }));
      break;
    case 'list':
      cut(v.items.length, (a, b) => ({ type: 'list', items: v.items.slice(a, b) }));
      break;
    case 'set':
      cut(v.members.length, (a, b) => ({ type: 'set', members: v.members.slice(a, b) }));
      break;
    case 'zset':
      cut(v.members.length, (a, b) => ({
        type: 'zset',
        members: v.members.slice(a, b),
        scores: v.scores.slice(a, b),
      }));
      break;
    case 'hash':
      cut(v.fields.length, (a, b) => ({
        type: 'hash',
        fields: v.fields.slice(a, b),
        values: v.values.slice(a, b),
      }));
      break;
    case 'stream':
      cut(v.entries.length, (a, b) => ({ type: 'stream', entries: v.entries.slice(a, b) }));
      (parts[parts.length - 1] as Extract<Value, { type: 'stream' }>).meta = v.meta;
      break;
    default:
      return [e];
  }
  return parts.map((value, i) =>
    i === 0
      ? { ...e, value, more: parts.length > 1 }
      : { kind: 'chunk' as const, db: e.db, key: e.key, value, more: i < parts.length - 1 },
  );
}

/**
 * KeyEntries with dumps packed into DumpRunEntry batches of `perRun` keys (one db per run), as the parser would:
 * key then dump, or each key as its command when a layout is given.
 */
export function packRuns(
  keys: KeyEntry[],
  perRun: number,
  layout: RunLayout | null = null,
  leases?: { released: number },
): DumpRunEntry[] {
  const types = Array.from({ length: 256 }, (_, t) => rdbTypeInfo(t, 'redis')?.valueType ?? 'string');
  const out: DumpRunEntry[] = [];
  for (let i = 0; i < keys.length; ) {
    const db = keys[i].db;
    const batch: KeyEntry[] = [];
    while (i < keys.length && batch.length < perRun && keys[i].db === db) batch.push(keys[i++]);
    const sizes = batch.map((k) => {
      const dump = k.dump as Buffer;
      return layout
        ? layout.size(k.key.length, dump.length, k.expireAt, k.idle, k.freq)
        : k.key.length + dump.length;
    });
    const buf = Buffer.alloc(sizes.reduce((a, b) => a + b, 0));
    const meta = new Int32Array(batch.length * RUN_STRIDE);
    const expires = new Float64Array(batch.length);
    let at = 0;
    batch.forEach((k, j) => {
      const dump = k.dump as Buffer;
      let keyAt = at;
      let dumpAt = at + k.key.length;
      if (layout) {
        keyAt = at + layout.keyOffset(k.key.length);
        dumpAt = layout.head(buf, at, k.key, dump.length, k.expireAt, k.idle, k.freq);
        layout.tail(buf, dumpAt + dump.length, k.expireAt, k.idle, k.freq);
      } else k.key.copy(buf, at);
      dump.copy(buf, dumpAt);
      meta.set([at, sizes[j], keyAt, k.key.length, dumpAt, dump.length, k.idle, k.freq], j * RUN_STRIDE);
      expires[j] = k.expireAt;
      at += sizes[j];
    });
    // With `leases`, each run's release poisons its dumps, as the decoder's reuse of the slab would: a RESTORE the
    // writer still sent from them afterwards would be refused (bad checksum), failing the writer at once.
    const lease = leases && {
      release() {
        leases.released++;
        for (let j = 0; j < batch.length; j++) {
          const o = j * RUN_STRIDE;
          buf.fill(0xee, meta[o + RUN_DUMP_AT], meta[o + RUN_DUMP_AT] + meta[o + RUN_DUMP_LEN]);
        }
      },
    };
    out.push({ kind: 'dumps', db, count: batch.length, buf, meta, expires, types, layout, lease });
  }
  return out;
}

/** The DUMP payload of a string value of fewer than 64 bytes (RDB 10 footer), as `DUMP` would give it. */
export function stringDump(value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from([0, value.length]), value, Buffer.from([10, 0])]);
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64(body));
  return Buffer.concat([body, crc]);
}
