/**
 * Streams: RDB_TYPE_STREAM_LISTPACKS (1), _2 (first id, max deleted id, entries added, group entries_read),
 * _3 (consumer active time), _4 (Redis 8.6 IDMP producers after the groups), following redis/src/rdb.c
 * `rdbLoadObject()`, t_stream.c `streamValidateListpackIntegrity()` / `streamAppendItem()` for the listpack
 * layout (master entry, then flags / ms-diff / seq-diff / [num-fields, field, value…] | [value…] / lp-count),
 * and librdb PR #93 (`elementStreamLP`) for the IDMP section (duration, max entries, producers, stats).
 * Entries come out in pieces; the metadata with groups, PELs and consumers rides on the last piece.
 */
import type { StreamEntry, StreamGroup, StreamId, StreamMeta } from '../../entry.ts';
import {
  RDB_TYPE_STREAM_LISTPACKS,
  RDB_TYPE_STREAM_LISTPACKS_2,
  RDB_TYPE_STREAM_LISTPACKS_3,
  RDB_TYPE_STREAM_LISTPACKS_4,
  STREAM_ITEM_FLAG_DELETED,
  STREAM_ITEM_FLAG_SAMEFIELDS,
} from '../constants.ts';
import { type Item, listpackDecode } from '../encodings/listpack.ts';
import { RdbError } from '../errors.ts';
import type { Reader } from '../reader.ts';
import { itemBuffer, type ValueDecoder, type ValueSink } from './common.ts';
import { PendingList } from './stream-pel.ts';

function bad(msg: string): never {
  throw new RdbError('RDB_ERR_STREAM', `stream integrity check failed: ${msg}`);
}

function int(it: Item | undefined): number {
  if (typeof it !== 'number') bad('expected an integer element');
  return it;
}

/** The lp-count an entry ends with: its items before it (flags, id deltas, [field count], fields and values). */
function entryItems(fields: number, sameFields: boolean): number {
  return fields + 3 + (sameFields ? 0 : fields + 1);
}

/** An entry id's delta element: an integer (a number, or its digits beyond 2^53). */
function checkDelta(it: Item | undefined): asserts it is Item {
  if (typeof it === 'number') return;
  if (it === undefined) bad('listpack ends inside an entry');
  if (!/^-?\d+$/.test(it.toString('latin1'))) bad('expected an integer element'); // text-ok: digits of an id delta
}

function bigDelta(it: Item | undefined): bigint {
  checkDelta(it);
  return typeof it === 'number' ? BigInt(it) : BigInt(it.toString('latin1')); // text-ok: digits of an id delta
}

const U64 = (1n << 64n) - 1n;

const ST_NUM_LP = 0;
const ST_LP = 1;
const ST_META = 2;
const ST_GROUP = 3;
const ST_GROUP_PEL = 4;
const ST_NUM_CONSUMERS = 5;
const ST_CONSUMER = 6;
const ST_CONSUMER_PEL = 7;
const ST_IDMP = 8;
const ST_IDMP_PRODUCER = 9;
const ST_IDMP_ENTRY = 10;
const ST_IDMP_STATS = 11;
const ST_DONE = 12;

class StreamDecoder implements ValueDecoder {
  count = 1; // streams are never "empty keys"
  private st = ST_NUM_LP;
  private left = 0;
  private entries: StreamEntry[] = [];
  private bytes = 0;
  private meta: StreamMeta | null = null;
  /** First entry not flagged deleted: the first id Redis derives for pre-7.0 streams. */
  private firstLive: StreamId | null = null;
  private groupsLeft = 0;
  private group: StreamGroup | null = null;
  private pel = new PendingList();
  /** The consumer whose PEL is being read (its number in `pel`). */
  private owner = -1;
  private consumersLeft = 0;
  private producersLeft = 0;
  private readonly items: Item[] = [];

  constructor(private readonly rdbType: number) {}

  private addEntry(e: StreamEntry, size: number, sink: ValueSink): void {
    if (this.entries.length > 0 && this.bytes + size > sink.maxChunkBytes) {
      sink.piece({ type: 'stream', entries: this.entries }, false);
      this.entries = [];
      this.bytes = 0;
    }
    this.entries.push(e);
    this.bytes += size;
  }

  /**
   * Walk one node listpack (master entry + delta-encoded entries), emitting live entries. In skip mode (dumps) the
   * same structure is checked and nothing is emitted: a target restores the node as it is, and a malformed one can
   * crash it when the stream is read later.
   */
  private node(masterMs: bigint, masterSeq: bigint, lp: Buffer, sink: ValueSink): void {
    const it = this.items;
    it.length = 0;
    const n = listpackDecode(lp, it);
    if (n === 0) bad('empty listpack inside stream');
    const emit = !sink.skip;
    let p = 0;
    const count = int(it[p++]);
    const deleted = int(it[p++]);
    const masterFields = int(it[p++]);
    if (masterFields < 0 || p + masterFields >= n) bad('master entry outside the listpack');
    const master: Buffer[] = [];
    if (emit) for (let j = 0; j < masterFields; j++) master.push(itemBuffer(it[p + j]));
    p += masterFields;
    if (int(it[p++]) !== 0) bad('missing master entry terminator');
    for (let e = count + deleted; e > 0; e--) {
      if (p + 3 > n) bad('entry outside the listpack');
      const flags = int(it[p++]);
      const msDelta = it[p++];
      const seqDelta = it[p++];
      let nf = masterFields;
      const same = (flags & STREAM_ITEM_FLAG_SAMEFIELDS) !== 0;
      if (!same) nf = int(it[p++]);
      if (nf < 0 || p + (same ? nf : nf * 2) >= n) bad('entry outside the listpack');
      if (!emit || flags & STREAM_ITEM_FLAG_DELETED) {
        checkDelta(msDelta);
        checkDelta(seqDelta);
        p += same ? nf : nf * 2;
        if (int(it[p++]) !== entryItems(nf, same)) bad('lp-count mismatch');
        continue;
      }
      const ms = (masterMs + bigDelta(msDelta)) & U64;
      const seq = (masterSeq + bigDelta(seqDelta)) & U64;
      const fields: Buffer[] = [];
      let size = 16;
      for (let j = 0; j < nf; j++) {
        const f = same ? master[j] : itemBuffer(it[p++]);
        const v = itemBuffer(it[p++]);
        fields.push(f, v);
        size += f.length + v.length;
      }
      if (int(it[p++]) !== entryItems(nf, same)) bad('lp-count mismatch');
      this.firstLive ??= { ms, seq };
      this.addEntry({ id: { ms, seq }, fields }, size, sink);
    }
    if (p !== n) bad('trailing elements after the last entry');
  }

  private id(r: Reader): StreamId | null {
    const ms = r.lengthBig();
    if (ms === null) return null;
    const seq = r.lengthBig();
    if (seq === null) return null;
    return { ms, seq };
  }

  step(r: Reader, sink: ValueSink): boolean {
    const t = this.rdbType;
    for (;;) {
      const mark = r.pos;
      switch (this.st) {
        case ST_NUM_LP: {
          const n = r.length();
          if (n < 0) return false;
          this.left = n;
          this.st = ST_LP;
          break;
        }
        case ST_LP: {
          if (this.left === 0) {
            this.st = ST_META;
            break;
          }
          const key = r.string();
          if (key === null) return false;
          if (key.length !== 16) bad('node key is not the size of a stream id');
          const lp = r.string();
          if (lp === null) {
            r.pos = mark;
            return false;
          }
          this.node(key.readBigUInt64BE(0), key.readBigUInt64BE(8), lp, sink);
          this.left--;
          break;
        }
        case ST_META: {
          const length = r.length();
          if (length < 0) return false;
          const lastId = this.id(r);
          if (lastId === null) {
            r.pos = mark;
            return false;
          }
          let firstId: StreamId | null = null;
          let maxDeletedId: StreamId | null = null;
          let entriesAdded = length;
          if (t >= RDB_TYPE_STREAM_LISTPACKS_2) {
            firstId = this.id(r);
            maxDeletedId = firstId && this.id(r);
            entriesAdded = maxDeletedId ? r.length() : -1;
            if (entriesAdded < 0) {
              r.pos = mark;
              return false;
            }
          } else {
            // What Redis derives when it loads a pre-7.0 stream (rdb.c): no tombstones, entries added = length,
            // first id = first live entry; the groups' entries-read are then estimated from these.
            firstId = this.firstLive ?? { ms: U64, seq: U64 }; // streamGetEdgeID of an empty stream
            maxDeletedId = { ms: 0n, seq: 0n };
          }
          const groups = r.length();
          if (groups < 0) {
            r.pos = mark;
            return false;
          }
          this.meta = { length, lastId, firstId, maxDeletedId, entriesAdded, groups: [] };
          this.groupsLeft = groups;
          this.st = ST_GROUP;
          break;
        }
        case ST_GROUP: {
          if (this.groupsLeft === 0) {
            this.st = t >= RDB_TYPE_STREAM_LISTPACKS_4 ? ST_IDMP : ST_DONE;
            break;
          }
          const name = r.string();
          if (name === null) return false;
          const lastId = this.id(r);
          let entriesRead = -1;
          if (lastId !== null && t >= RDB_TYPE_STREAM_LISTPACKS_2) {
            const er = r.lengthBig();
            if (er === null) {
              r.pos = mark;
              return false;
            }
            // Redis saves -1 (unknown) as a u64 length.
            entriesRead = er > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(er);
          }
          if (lastId !== null && t < RDB_TYPE_STREAM_LISTPACKS_2 && this.meta) {
            entriesRead = estimateEntriesRead(this.meta, lastId);
          }
          const pel = lastId === null ? -1 : r.length();
          if (lastId === null || pel < 0) {
            r.pos = mark;
            return false;
          }
          this.pel = new PendingList();
          this.group = { name, lastId, entriesRead, pending: this.pel, consumers: [] };
          this.meta?.groups.push(this.group);
          this.left = pel;
          this.groupsLeft--;
          this.st = ST_GROUP_PEL;
          break;
        }
        case ST_GROUP_PEL: {
          if (this.left === 0) {
            this.st = ST_NUM_CONSUMERS;
            break;
          }
          if (!r.have(16 + 8)) return false;
          const [ms, seq] = r.streamIdRaw();
          const deliveryTime = r.i64le();
          const deliveryCount = r.length();
          if (deliveryCount < 0) {
            r.pos = mark;
            return false;
          }
          if (!this.pel.add(ms, seq, deliveryTime, deliveryCount)) bad('duplicated global PEL entry');
          this.left--;
          break;
        }
        case ST_NUM_CONSUMERS: {
          const n = r.length();
          if (n < 0) return false;
          this.consumersLeft = n;
          this.st = ST_CONSUMER;
          break;
        }
        case ST_CONSUMER: {
          if (this.consumersLeft === 0) {
            this.st = ST_GROUP;
            break;
          }
          const name = r.string();
          if (name === null) return false;
          const withActive = t >= RDB_TYPE_STREAM_LISTPACKS_3;
          if (!r.have(withActive ? 16 : 8)) {
            r.pos = mark;
            return false;
          }
          const seenTime = r.i64le();
          const activeTime = withActive ? r.i64le() : -1;
          const pel = r.length();
          if (pel < 0) {
            r.pos = mark;
            return false;
          }
          this.group?.consumers.push({ name, seenTime, activeTime });
          this.owner = this.pel.consumer(name);
          this.left = pel;
          this.consumersLeft--;
          this.st = ST_CONSUMER_PEL;
          break;
        }
        case ST_CONSUMER_PEL: {
          if (this.left === 0) {
            this.st = ST_CONSUMER;
            break;
          }
          if (!r.have(16)) return false;
          const [ms, seq] = r.streamIdRaw();
          const owned = this.pel.own(ms, seq, this.owner);
          if (owned === 'missing') bad('consumer PEL entry not found in the group PEL');
          if (owned === 'owned') bad('PEL entry owned by two consumers');
          this.left--;
          break;
        }
        case ST_IDMP: {
          const duration = r.length();
          const maxEntries = duration < 0 ? -1 : r.length();
          const producers = maxEntries < 0 ? -1 : r.length();
          if (producers < 0) {
            r.pos = mark;
            return false;
          }
          this.producersLeft = producers;
          this.st = ST_IDMP_PRODUCER;
          break;
        }
        case ST_IDMP_PRODUCER: {
          if (this.producersLeft === 0) {
            this.st = ST_IDMP_STATS;
            break;
          }
          if (!r.skipString()) return false;
          const n = r.length();
          if (n < 0) {
            r.pos = mark;
            return false;
          }
          this.left = n;
          this.producersLeft--;
          this.st = ST_IDMP_ENTRY;
          break;
        }
        case ST_IDMP_ENTRY: {
          if (this.left === 0) {
            this.st = ST_IDMP_PRODUCER;
            break;
          }
          if (!r.skipString() || !r.skipLength() || !r.skipLength()) {
            r.pos = mark;
            return false;
          }
          this.left--;
          break;
        }
        case ST_IDMP_STATS: {
          if (!r.skipLength() || !r.skipLength()) {
            r.pos = mark;
            return false;
          }
          this.st = ST_DONE;
          break;
        }
        default: {
          if (!sink.skip)
            sink.piece({ type: 'stream', entries: this.entries, meta: this.meta ?? undefined }, true);
          return true;
        }
      }
    }
  }
}

export function createStreamDecoder(rdbType: number): ValueDecoder {
  switch (rdbType) {
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
    case RDB_TYPE_STREAM_LISTPACKS_3:
    case RDB_TYPE_STREAM_LISTPACKS_4:
      return new StreamDecoder(rdbType);
    default:
      throw new RdbError('RDB_ERR_UNKNOWN_TYPE', `not a stream type: ${rdbType}`);
  }
}

const cmpId = (a: StreamId, b: StreamId) =>
  a.ms !== b.ms ? (a.ms < b.ms ? -1 : 1) : a.seq !== b.seq ? (a.seq < b.seq ? -1 : 1) : 0;

/**
 * A consumer group's entries-read as Redis estimates it when loading a stream saved without one
 * (t_stream.c streamEstimateDistanceFromFirstEverEntry); -1 = unknown.
 */
function estimateEntriesRead(m: StreamMeta, id: StreamId): number {
  if (!m.entriesAdded) return 0;
  const last = cmpId(id, m.lastId);
  if (!m.length && last <= 0) return m.entriesAdded;
  if (last === 0) return m.entriesAdded;
  if (last > 0) return -1;
  const first = m.firstId ?? { ms: 0n, seq: 0n };
  const del = m.maxDeletedId ?? { ms: 0n, seq: 0n };
  if ((del.ms === 0n && del.seq === 0n) || cmpId(del, first) < 0) {
    const c = cmpId(id, first);
    if (c < 0) return m.entriesAdded - m.length;
    if (c === 0) return m.entriesAdded - m.length + 1;
  }
  return -1;
}
