/**
 * The one currency between stages (DESIGN.md "entry"): decoders (rdb/, aof/, replication/) yield entries, the
 * writer (target/) consumes them, nothing else touches the target.
 *
 * Keys, members and values are Buffers end to end; user data is never decoded as text.
 */

/** Logical Redis value types, independent of their on-disk encoding. */
export type ValueType = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream' | 'module';

/** A stream entry id: milliseconds and sequence as unsigned 64-bit integers. */
export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export interface StreamEntry {
  id: StreamId;
  /** Alternating field, value. */
  fields: Buffer[];
}

export interface StreamPendingEntry {
  id: StreamId;
  /** Unix ms of the last delivery. */
  deliveryTime: number;
  deliveryCount: number;
  /** Owning consumer name (resolved from the consumer's own PEL). */
  consumer: Buffer | null;
}

export interface StreamConsumer {
  name: Buffer;
  /** Unix ms the consumer was last seen. */
  seenTime: number;
  /** Unix ms of last successful interaction (RDB 11+; -1 when the file predates it). */
  activeTime: number;
}

export interface StreamGroup {
  name: Buffer;
  lastId: StreamId;
  /** Logical reads counter (RDB 10+); -1 when unknown. */
  entriesRead: number;
  /** In file order (id order as Redis saves it); the decoder's is a compact list that makes entries as read. */
  pending: Iterable<StreamPendingEntry>;
  consumers: StreamConsumer[];
}

/** Metadata of a stream that follows its entries in the RDB. */
export interface StreamMeta {
  length: number;
  lastId: StreamId;
  /** RDB 10+; null when the file predates them. */
  firstId: StreamId | null;
  maxDeletedId: StreamId | null;
  entriesAdded: number;
  groups: StreamGroup[];
}

/**
 * Decoded content of a key, or a piece of it. For big keys a value arrives as several pieces of the same type:
 * the first on the `key` entry, the rest on `chunk` entries; pieces are to be applied in order.
 */
export type Value =
  | { type: 'string'; value: Buffer }
  | { type: 'list'; items: Buffer[] }
  | { type: 'set'; members: Buffer[] }
  /** Scores are IEEE doubles (±Infinity allowed); `String(score)` round-trips exactly. */
  | { type: 'zset'; members: Buffer[]; scores: number[] }
  /** `expires[i]` is field i's absolute expiry in unix ms, 0 = none; omitted when no field has a TTL. */
  | { type: 'hash'; fields: Buffer[]; values: Buffer[]; expires?: number[] }
  /** `meta` is present on the last piece only (it follows the entries in the RDB). */
  | { type: 'stream'; entries: StreamEntry[]; meta?: StreamMeta }
  /** Module values cannot be rewritten to commands; only their dump can be restored. */
  | { type: 'module'; moduleId: string };

/** One key of a snapshot (RDB, AOF preamble, full sync). */
export interface KeyEntry {
  kind: 'key';
  db: number;
  key: Buffer;
  type: ValueType;
  /** RDB_TYPE_* byte of the value as the source encoded it. */
  rdbType: number;
  /** Absolute expiry in unix ms; 0 = persistent. Kept absolute end to end (PEXPIREAT / RESTORE … ABSTTL). */
  expireAt: number;
  /** LRU idle seconds (RDB_OPCODE_IDLE) or -1. */
  idle: number;
  /** LFU frequency (RDB_OPCODE_FREQ) or -1. */
  freq: number;
  /**
   * A complete DUMP payload (`<type><value><rdbver u16le><crc64 u64le>`) ready for `RESTORE`, when the decoder
   * was asked for it and the value fit the configured bound. Null otherwise.
   */
  dump: Buffer | null;
  /** Decoded content (first piece for big keys); null when only `dump` was produced. */
  value: Value | null;
  /** True when more pieces of this key follow as `chunk` entries. */
  more: boolean;
}

/** A further piece of a big key's value; the last one has `more: false`. */
export interface ChunkEntry {
  kind: 'chunk';
  db: number;
  key: Buffer;
  value: Value;
  more: boolean;
}

/** A command from an AOF or a replication stream, in the db it applies to. */
export interface CommandEntry {
  kind: 'command';
  db: number;
  argv: Buffer[];
}

/** A Redis 7 function library (RDB_OPCODE_FUNCTION2 / FUNCTION_PRE_GA): loaded with `FUNCTION LOAD REPLACE`. */
export interface FunctionEntry {
  kind: 'function';
  code: Buffer;
}

/** A Lua script from the `lua` AUX field: loaded with `SCRIPT LOAD`. */
export interface ScriptEntry {
  kind: 'script';
  body: Buffer;
}

/**
 * Consecutive keys of one db whose values are complete DUMP payloads, packed in one Buffer: the bulk of a
 * snapshot travels as a few of these instead of an object (and two Buffer views) per key. Key i's fields are
 * `meta[i * RUN_STRIDE + RUN_*]`: its key bytes are `buf[KEY_AT, KEY_AT + KEY_LEN)`, its DUMP payload (as in
 * `KeyEntry.dump`) `buf[DUMP_AT, DUMP_AT + DUMP_LEN)`, its RDB type the dump's first byte, its LRU idle time and
 * LFU frequency IDLE and FREQ (-1 = none), its expiry `expires[i]`. With a `layout` (given by
 * the consumer to the parser), `buf[CMD_AT, CMD_AT + CMD_LEN)` is the whole command that writes the key, key and
 * dump inside it, and consecutive keys' commands are back to back. `runKeyEntry` gives a key as a KeyEntry.
 */
export interface DumpRunEntry {
  kind: 'dumps';
  db: number;
  count: number;
  buf: Buffer;
  /** RUN_STRIDE fields per key (offsets and lengths in `buf` are under 2^31: runs hold pieces of one slab). */
  meta: Int32Array;
  /** Absolute expiry per key in unix ms, 0 = persistent (as KeyEntry.expireAt). */
  expires: Float64Array;
  /** Logical type by RDB type byte (the source's flavor). */
  types: readonly ValueType[];
  layout: RunLayout | null;
  /**
   * The run's hold on the memory its bytes live in (the decoder's slab), when that memory is reused: the consumer
   * gives it up with `releaseRun` once nothing reads `buf`, `meta` or `expires` any more (after the target
   * acknowledged the commands sent from them, since a lost connection resends them). A consumer that never
   * releases is safe: the memory is then never reused.
   */
  lease?: { release(): void } | null;
}

/**
 * Ends a run's use of its memory (see DumpRunEntry.lease): nothing of the run may be read afterwards, and any view
 * taken from it (runKeyEntry) must be dead. Releasing twice is harmless.
 */
export function releaseRun(run: DumpRunEntry): void {
  const lease = run.lease;
  if (!lease) return;
  run.lease = null;
  lease.release();
}

/**
 * How a consumer wants each key of a run laid out as its own command (the target writer's RESTORE), so the run's
 * bytes go to the target as they are. The parser writes `head`, then the dump, then `tail`, in `size` bytes.
 */
export interface RunLayout {
  /**
   * The parser's kernel writes this layout itself (wasm/kernel.ts `lane`; tests compare its bytes with this
   * layout's): 'restore' is RESTORE_RUN_LAYOUT's `RESTORE key ttl dump REPLACE [ABSTTL]`.
   */
  readonly laneForm?: 'restore';
  size(keyLen: number, dumpLen: number, expireAt: number, idle: number, freq: number): number;
  /** Offset of the key bytes from the start of the command. */
  keyOffset(keyLen: number): number;
  /** Writes the command up to its dump (key included) at `buf[at]`; returns the dump's offset. */
  head(
    buf: Buffer,
    at: number,
    key: Buffer,
    dumpLen: number,
    expireAt: number,
    idle: number,
    freq: number,
  ): number;
  /** Writes the rest of the command from `buf[at]` (just after the dump). */
  tail(buf: Buffer, at: number, expireAt: number, idle: number, freq: number): void;
}

export const RUN_CMD_AT = 0;
export const RUN_CMD_LEN = 1;
export const RUN_KEY_AT = 2;
export const RUN_KEY_LEN = 3;
export const RUN_DUMP_AT = 4;
export const RUN_DUMP_LEN = 5;
export const RUN_IDLE = 6;
export const RUN_FREQ = 7;
export const RUN_STRIDE = 8;

/** Key `i` of a run as a KeyEntry (views on the run's Buffer). */
export function runKeyEntry(run: DumpRunEntry, i: number): KeyEntry {
  const m = run.meta;
  const o = i * RUN_STRIDE;
  const keyAt = m[o + RUN_KEY_AT];
  const dumpAt = m[o + RUN_DUMP_AT];
  const rdbType = run.buf[dumpAt];
  return {
    kind: 'key',
    db: run.db,
    key: run.buf.subarray(keyAt, keyAt + m[o + RUN_KEY_LEN]),
    type: run.types[rdbType],
    rdbType,
    expireAt: run.expires[i],
    idle: m[o + RUN_IDLE],
    freq: m[o + RUN_FREQ],
    dump: run.buf.subarray(dumpAt, dumpAt + m[o + RUN_DUMP_LEN]),
    value: null,
    more: false,
  };
}

export type Entry = KeyEntry | DumpRunEntry | ChunkEntry | CommandEntry | FunctionEntry | ScriptEntry;

/** Plain counters a stage exposes for the stats API (STYLE habit 10). */
export interface Statusable<S> {
  status(): S;
}
