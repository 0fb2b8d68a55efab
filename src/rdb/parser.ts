/**
 * The streaming RDB parser: bytes in (any chunking), entries out. Follows the loop of redis/src/rdb.c
 * `rdbLoadRioWithLoadingCtx()` (header, opcodes, key/value pairs, EOF + CRC64) with Valkey's VALKEY-magic files
 * (valkey/src/rdb.c) and the Redis 8.6 additions (KEY_META, STREAM_LISTPACKS_4).
 *
 * Memory: the parser keeps one contiguous working buffer holding at most the item being read plus the bytes of
 * one input chunk; chunks that cannot complete the item are queued (not concatenated) until the needed byte count
 * is there. Values come out in pieces of about `maxChunkBytes`. DUMP payloads are assembled from the raw value
 * bytes as they pass (views on the input, no re-encoding) and dropped for decoding once they exceed `maxDumpBytes`.
 */
import {
  type DumpRunEntry,
  type Entry,
  type KeyEntry,
  RUN_CMD_AT,
  RUN_CMD_LEN,
  RUN_DUMP_AT,
  RUN_DUMP_LEN,
  RUN_FREQ,
  RUN_IDLE,
  RUN_KEY_AT,
  RUN_KEY_LEN,
  RUN_STRIDE,
  type RunLayout,
  type Statusable,
  type Value,
  type ValueType,
} from '../entry.ts';
import { printableKey } from '../errors.ts';
import {
  type Flavor,
  RDB_MODULE_OPCODE_UINT,
  RDB_OPCODE_AUX,
  RDB_OPCODE_EOF,
  RDB_OPCODE_EXPIRETIME,
  RDB_OPCODE_EXPIRETIME_MS,
  RDB_OPCODE_FREQ,
  RDB_OPCODE_FUNCTION_PRE_GA,
  RDB_OPCODE_FUNCTION2,
  RDB_OPCODE_IDLE,
  RDB_OPCODE_KEY_META,
  RDB_OPCODE_MODULE_AUX,
  RDB_OPCODE_REDIS_ENT_RAM_LRU,
  RDB_OPCODE_REDIS_ENT_SLOT_NUM,
  RDB_OPCODE_RESIZEDB,
  RDB_OPCODE_SELECTDB,
  RDB_OPCODE_SLOT_INFO,
  RDB_TYPE_HASH,
  RDB_TYPE_HASH_LISTPACK,
  RDB_TYPE_HASH_ZIPLIST,
  RDB_TYPE_LIST,
  RDB_TYPE_LIST_QUICKLIST,
  RDB_TYPE_LIST_QUICKLIST_2,
  RDB_TYPE_LIST_ZIPLIST,
  RDB_TYPE_SET,
  RDB_TYPE_SET_INTSET,
  RDB_TYPE_SET_LISTPACK,
  RDB_TYPE_STRING,
  RDB_TYPE_ZSET_2,
  RDB_TYPE_ZSET_LISTPACK,
  RDB_TYPE_ZSET_ZIPLIST,
  RDB_VERSION_MAX_REDIS,
  RDB_VERSION_MAX_VALKEY,
  RDB_VERSION_MIN_VALKEY,
  rdbTypeInfo,
  VALKEY_RDB_OPCODE_SLOT_IMPORT,
} from './constants.ts';
import { Crc64 } from './crc64.ts';
import { DumpSlabs, SLAB_MAX_PIECE } from './dump-slabs.ts';
import { RdbError } from './errors.ts';
import { type Kernel, kernel, R_EMPTY, R_EXPIRED, R_KEYS, R_OUT } from './kernel.ts';
import { Reader } from './reader.ts';
import {
  createValueDecoder,
  ModuleValueSkipper,
  StringDecoder,
  type ValueDecoder,
  type ValueSink,
} from './types/index.ts';

export interface RdbParserOptions {
  /** When given and true for (rdbType, flavor), produce KeyEntry.dump (a complete DUMP payload) instead of decoding the value, as long as the value's serialized size <= maxDumpBytes. */
  dumpable?: (rdbType: number, flavor: Flavor) => boolean;
  /** RDB version written into dump footers (the target's RDB version; the writer passes it). Default: the file's own version. */
  dumpRdbVersion?: number;
  /**
   * Pack dumps into DumpRunEntry batches instead of a KeyEntry each (keys whose key and dump together exceed
   * 64 KiB still come as KeyEntry). Default false.
   */
  dumpRuns?: boolean;
  /** With dumpRuns: lay each key of a run out as this command (see RunLayout). */
  runLayout?: RunLayout;
  /**
   * Default 8 MiB; bigger values are decoded and streamed instead. Each dump is one Buffer (and its capture holds
   * as many bytes of input): at 16 MiB a file of big strings took an import to 240-280 MB of RSS, at 8 MiB under 205.
   */
  maxDumpBytes?: number;
  /** Default 1 MiB: a decoded value piece holds about this many bytes of items at most, then more pieces follow. */
  maxChunkBytes?: number;
  /** Default false: keys whose expireAt <= now() are not emitted, only counted (and expired hash fields dropped). */
  skipExpired?: boolean;
  now?: () => number;
  /** Default true (a stored CRC of 0 means disabled, per Redis). */
  verifyChecksum?: boolean;
  /** Name used in error messages. */
  file?: string;
  /** Largest single item (key, member, encoded blob, LZF string) accepted; default 512 MiB (proto-max-bulk-len). */
  maxItemBytes?: number;
  /** Accept REDIS/VALKEY header versions newer than known ones (like Valkey's `rdb-version-check relaxed`). Default false. */
  acceptUnknownVersions?: boolean;
}

export const RDB_PARSER_DEFAULTS = {
  maxDumpBytes: 8 * 1024 * 1024,
  maxChunkBytes: 1024 * 1024,
  skipExpired: false,
  verifyChecksum: true,
  maxItemBytes: 512 * 1024 * 1024,
  acceptUnknownVersions: false,
} as const;

export interface RdbStatus {
  /** Input bytes consumed so far. */
  bytes: number;
  /** Keys emitted. */
  keys: number;
  expiredSkipped: number;
  /** Keys without elements, skipped like Redis does on load. */
  emptySkipped: number;
  version: number;
  flavor: Flavor;
  db: number;
  finished: boolean;
  /** Printable AUX fields like redis-ver. */
  aux: Record<string, string>;
}

const S_HEADER = 0;
const S_OPCODE = 1;
const S_KEY = 2;
const S_VALUE = 3;
const S_MODULE_AUX = 4;
const S_KEY_META = 5;
const S_CHECKSUM = 6;
const S_DONE = 7;

const COLLECTIONS: ReadonlySet<ValueType> = new Set<ValueType>(['list', 'set', 'zset', 'hash']);
const EMPTY = Buffer.alloc(0);
/** Keys per DumpRunEntry at most (its meta table is allocated at this size). */
const RUN_KEYS = 4096;
/** Bytes of a chunk copied behind a short unconsumed tail (the rest is read in place, see merge()). */
const STITCH_BYTES = 64 * 1024;
/** Bytes of a value queued again for decoding (it outgrew maxDumpBytes) that each write() decodes beyond its chunk. */
const REDECODE_STEP = 1024 * 1024;
/** Types the kernel's lane checks (wasm/kernel.ts `value`). */
const LANE_TYPES = [
  RDB_TYPE_STRING,
  RDB_TYPE_LIST,
  RDB_TYPE_SET,
  RDB_TYPE_HASH,
  RDB_TYPE_ZSET_2,
  RDB_TYPE_LIST_ZIPLIST,
  RDB_TYPE_SET_INTSET,
  RDB_TYPE_ZSET_ZIPLIST,
  RDB_TYPE_HASH_ZIPLIST,
  RDB_TYPE_LIST_QUICKLIST,
  RDB_TYPE_HASH_LISTPACK,
  RDB_TYPE_ZSET_LISTPACK,
  RDB_TYPE_LIST_QUICKLIST_2,
  RDB_TYPE_SET_LISTPACK,
];
/** Room the lane needs to make progress: its largest piece, and its largest record in the window. */
const LANE_MARGIN = SLAB_MAX_PIECE + 64;
/** Bytes of one key's run metadata (its fields, then its expiry). */
const META_BYTES = RUN_STRIDE * 4 + 8;
/** Slab room the lane asks for: its margin, and metadata for some keys. */
const LANE_MIN_ROOM = LANE_MARGIN + 8 + 64 * 2 * META_BYTES;

function lower(b: Buffer): Buffer {
  const out = Buffer.from(b);
  for (let i = 0; i < out.length; i++) if (out[i] >= 65 && out[i] <= 90) out[i] += 32;
  return out;
}

/** Header/message text from a few ASCII bytes (never used on keys or values). */
function ascii(buf: Buffer, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end && i < buf.length; i++) s += String.fromCharCode(buf[i]);
  return s;
}

function digits(buf: Buffer, start: number, end: number): number {
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

export class RdbParser implements Statusable<RdbStatus>, ValueSink {
  private readonly opts: RdbParserOptions;
  private readonly maxDumpBytes: number;
  readonly maxChunkBytes: number;
  private readonly r: Reader;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** The working buffer when it is a short tail plus the start of a chunk, see merge(). */
  private stitchBuf: Buffer | null = null;
  private stitchAt = 0;
  private stitchChunk: Buffer = EMPTY;
  private stitchRest: Buffer = EMPTY;
  private need = 9;
  private st = S_HEADER;
  private failed: RdbError | null = null;
  private out: Entry[] = [];
  private trailingParts: Buffer[] = [];

  private version = 0;
  private flavor: Flavor = 'redis';
  private db = 0;
  private keys = 0;
  private expiredSkipped = 0;
  private emptySkipped = 0;
  private readonly aux: Record<string, string> = {};

  // Per-key state, set by opcodes before the key.
  private expireAt = 0;
  private idle = -1;
  private freq = -1;
  private rdbType = 0;
  private valueType: ValueType = 'string';
  private key: Buffer | null = null;
  private dec: ValueDecoder | null = null;
  private emitted = false;
  private expiredKey = false;

  // ValueSink
  skip = false;
  now = 0;
  dropExpiredFields = false;

  // DUMP capture: raw value bytes from `capStart` in the working buffer, earlier ones in `captured`.
  private capturing = false;
  private capStart = 0;
  private capBase = 0;
  private captured: Buffer[] = [];
  private capturedLen = 0;
  /**
   * The file checksum's register just before the captured value (when it was folded up to there): a big value's
   * DUMP CRC is then derived from it and the register after the value (see `sealFromFileCrc`), not computed over
   * the value a second time.
   */
  private capCrcLo = 0;
  private capCrcHi = 0;
  private capCrcSet = false;

  private crc: Crc64 | null = null;
  private crcPos = 0;
  private readonly dumpCrc = new Crc64();
  private readonly slabs = new DumpSlabs();
  private readonly stringDec = new StringDecoder();
  /** `dumpable(type, flavor)` per type byte (0 = not asked yet, 1 = yes, 2 = no); the flavor is fixed per file. */
  private readonly dumpableByType = new Uint8Array(256);
  private isCollection = false;
  private dumpVersion = 0;

  private readonly runs: boolean;
  private readonly layout: RunLayout | null;
  /** The run new dumps join while it is the last entry of `out` and they fit its slab. */
  private openRun: DumpRunEntry | null = null;
  private runTypes: ValueType[] | null = null;
  /** RDB types the kernel's lane takes (bit t for type t; 0 = lane off), see `lane`. */
  private laneTypes = 0;
  /** The lane lays keys out as the writer's RESTORE (else key bytes then dump). */
  private readonly laneRestore: boolean;
  /** Largest piece the lane writes (bigger keys leave runs, or are decoded). */
  private readonly lanePiece: number;

  private skipper: ModuleValueSkipper | null = null;
  private metaClassesLeft = 0;
  private metaInClass = false;

  constructor(opts: RdbParserOptions = {}) {
    this.opts = opts;
    this.maxDumpBytes = opts.maxDumpBytes ?? RDB_PARSER_DEFAULTS.maxDumpBytes;
    this.maxChunkBytes = Math.max(1, opts.maxChunkBytes ?? RDB_PARSER_DEFAULTS.maxChunkBytes);
    this.dropExpiredFields = opts.skipExpired ?? RDB_PARSER_DEFAULTS.skipExpired;
    this.r = new Reader(opts.maxItemBytes ?? RDB_PARSER_DEFAULTS.maxItemBytes);
    this.runs = opts.dumpRuns ?? false;
    this.layout = this.runs ? (opts.runLayout ?? null) : null;
    this.laneRestore = this.layout !== null;
    this.lanePiece = Math.min(SLAB_MAX_PIECE, this.maxDumpBytes);
  }

  /** EOF opcode and checksum consumed. */
  get finished(): boolean {
    return this.st === S_DONE;
  }

  /** Bytes received after the end of the RDB. */
  get trailing(): Buffer {
    return this.trailingParts.length === 1 ? this.trailingParts[0] : Buffer.concat(this.trailingParts);
  }

  status(): RdbStatus {
    return {
      bytes: this.r.base + this.r.pos,
      keys: this.keys,
      expiredSkipped: this.expiredSkipped,
      emptySkipped: this.emptySkipped,
      version: this.version,
      flavor: this.flavor,
      db: this.db,
      finished: this.finished,
      aux: { ...this.aux },
    };
  }

  /** Feed bytes; returns the entries they completed. The chunk must not be modified afterwards. */
  write(chunk: Buffer): Entry[] {
    if (this.failed) throw this.failed;
    if (this.st === S_DONE) {
      if (chunk.length) this.trailingParts.push(chunk);
      return [];
    }
    if (chunk.length === 0) return [];
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    // Normally the queue is just this chunk and all of it is parsed. After a value outgrew maxDumpBytes its captured
    // bytes are queued again (rewindForDecoding): they are decoded REDECODE_STEP per call beyond this chunk's size,
    // so a big collection is not materialized all at once.
    this.pump(chunk.length + REDECODE_STEP);
    return this.take();
  }

  /** Merges queued input and parses it while it can progress, until about `allow` queued bytes were taken. */
  private pump(allow: number): void {
    let used = 0;
    while (
      this.st !== S_DONE &&
      this.pendingLen > 0 &&
      this.r.avail + this.pendingLen >= this.need &&
      used < allow
    ) {
      const queued = this.pendingLen;
      this.merge();
      used += queued - this.pendingLen;
      this.run();
    }
  }

  private take(): Entry[] {
    this.slabs.flush();
    const out = this.out;
    this.out = [];
    return out;
  }

  /**
   * Input ended: parses what is still queued (a value being decoded again, see write) and returns its entries;
   * throws RDB_ERR_TRUNCATED unless the EOF opcode (and checksum) were read.
   */
  end(): Entry[] {
    if (this.failed) throw this.failed;
    this.pump(Number.POSITIVE_INFINITY);
    if (this.st !== S_DONE) {
      this.failed = new RdbError(
        'RDB_ERR_TRUNCATED',
        'input ended before the RDB EOF opcode and checksum',
        this.where(this.r.base + this.r.avail + this.r.pos + this.pendingLen),
      );
      throw this.failed;
    }
    return this.take();
  }

  private where(offset: number) {
    return {
      file: this.opts.file,
      offset,
      db: this.st >= S_OPCODE ? this.db : undefined,
      key: this.key ? printableKey(this.key) : undefined,
    };
  }

  /**
   * Make queued chunks the working buffer. A chunk is read in place where it can be: when the unconsumed tail of
   * the buffer is short, only the chunk's first STITCH_BYTES (or what the pending item needs) are copied behind
   * it, and once the parser is past the tail, reading moves on to the chunk itself (`stitch*`). Queued chunks
   * the pending item does not need stay queued (write() merges again).
   */
  private merge(): void {
    const r = this.r;
    if (this.crc && r.pos > this.crcPos) {
      if (this.capturing) this.markCapCrc();
      this.crc.update(r.buf, this.crcPos, r.pos);
      this.crcPos = r.pos;
    }
    if (this.capturing) {
      if (r.pos > this.capStart) {
        this.captured.push(r.buf.subarray(this.capStart, r.pos));
        this.capturedLen += r.pos - this.capStart;
      }
      this.capStart = 0;
    }
    const tailLen = r.buf.length - r.pos;
    const first = this.pending[0];
    let nb: Buffer;
    let taken = 1; // queued chunks made part of nb
    if (r.buf === this.stitchBuf && r.pos >= this.stitchAt && first === this.stitchRest) {
      nb = this.stitchChunk.subarray(r.pos - this.stitchAt);
    } else if (tailLen === 0 && first.length >= this.need) {
      nb = first;
    } else {
      const take = Math.max(STITCH_BYTES, this.need - tailLen);
      if (tailLen > 0 && first.length - take >= STITCH_BYTES) {
        nb = Buffer.concat([r.buf.subarray(r.pos), first.subarray(0, take)], tailLen + take);
        this.stitchBuf = nb;
        this.stitchAt = tailLen;
        this.stitchChunk = first;
        this.stitchRest = first.subarray(take);
        this.pending[0] = this.stitchRest;
        this.pendingLen -= take;
        taken = 0;
      } else {
        // The queued chunks up to what the pending item needs (at least STITCH_BYTES), not all of them: after a
        // rewind the queue holds a whole captured value, which is decoded a bounded amount at a time.
        const want = Math.max(STITCH_BYTES, this.need - tailLen);
        let got = 0;
        taken = 0;
        while (taken < this.pending.length && got < want) got += this.pending[taken++].length;
        const parts = this.pending.slice(0, taken);
        nb = Buffer.concat(tailLen > 0 ? [r.buf.subarray(r.pos), ...parts] : parts, tailLen + got);
      }
    }
    for (let i = 0; i < taken; i++) this.pendingLen -= this.pending[i].length;
    if (taken > 0) this.pending = taken === this.pending.length ? [] : this.pending.slice(taken);
    this.crcPos = Math.max(0, this.crcPos - r.pos);
    r.base += r.pos;
    r.buf = nb;
    r.pos = 0;
  }

  private run(): void {
    const r = this.r;
    try {
      for (;;) {
        let ok: boolean;
        switch (this.st) {
          case S_HEADER:
            ok = this.header();
            break;
          case S_OPCODE:
            if (this.laneTypes !== 0) this.lane();
            ok = this.opcode();
            break;
          case S_KEY:
            ok = this.readKey();
            break;
          case S_VALUE:
            ok = this.value();
            break;
          case S_MODULE_AUX:
            ok = this.skipper!.step(r);
            if (ok) this.st = S_OPCODE;
            break;
          case S_KEY_META:
            ok = this.keyMeta();
            break;
          case S_CHECKSUM:
            ok = this.checksum();
            break;
          default:
            this.done();
            return;
        }
        if (!ok) {
          this.need = r.needEnd - r.pos;
          return;
        }
      }
    } catch (e) {
      const offset = r.base + r.pos;
      if (e instanceof RdbError) {
        this.failed =
          e.where.offset === undefined
            ? new RdbError(e.code, e.message, this.where(offset), { cause: e.cause })
            : e;
      } else {
        const msg = e instanceof Error ? e.message : String(e);
        this.failed = new RdbError('RDB_ERR_CORRUPT', `corrupt RDB: ${msg}`, this.where(offset), {
          cause: e,
        });
      }
      throw this.failed;
    }
  }

  private done(): void {
    const r = this.r;
    if (r.pos < r.buf.length) this.trailingParts.push(r.buf.subarray(r.pos));
    this.trailingParts.push(...this.pending);
    r.base += r.pos;
    r.buf = EMPTY;
    r.pos = 0;
    this.pending = [];
    this.pendingLen = 0;
  }

  private header(): boolean {
    const r = this.r;
    if (!r.have(9)) return false;
    const b = r.buf;
    const p = r.pos;
    let version: number;
    if (ascii(b, p, p + 5) === 'REDIS') {
      this.flavor = 'redis';
      version = digits(b, p + 5, p + 9);
      if (version < 1 || (version > RDB_VERSION_MAX_REDIS && !this.opts.acceptUnknownVersions)) {
        throw new RdbError(
          'RDB_ERR_UNSUPPORTED_VERSION',
          `unsupported RDB version ${ascii(b, p + 5, p + 9)}`,
        );
      }
    } else if (ascii(b, p, p + 6) === 'VALKEY') {
      this.flavor = 'valkey';
      version = digits(b, p + 6, p + 9);
      if (
        version < 0 ||
        ((version < RDB_VERSION_MIN_VALKEY || version > RDB_VERSION_MAX_VALKEY) &&
          !this.opts.acceptUnknownVersions)
      ) {
        throw new RdbError(
          'RDB_ERR_UNSUPPORTED_VERSION',
          `unsupported Valkey RDB version ${ascii(b, p + 6, p + 9)}`,
        );
      }
    } else {
      throw new RdbError('RDB_ERR_BAD_MAGIC', 'not an RDB file (no REDIS or VALKEY signature)');
    }
    this.version = version;
    this.dumpVersion = this.opts.dumpRdbVersion ?? version;
    this.laneTypes = this.laneTypeMask();
    if ((this.opts.verifyChecksum ?? RDB_PARSER_DEFAULTS.verifyChecksum) && version >= 5) {
      this.crc = new Crc64();
      this.crcPos = r.pos;
    }
    r.pos += 9;
    this.st = S_OPCODE;
    return true;
  }

  private opcode(): boolean {
    const r = this.r;
    if (!r.have(1)) return false;
    const mark = r.pos;
    const t = r.u8();
    const redis = this.flavor === 'redis';
    switch (t) {
      case RDB_OPCODE_EXPIRETIME_MS: {
        if (!r.have(8)) break;
        const v = r.i64le();
        this.expireAt = v === -1 ? 0 : v <= 0 ? 1 : v;
        return true;
      }
      case RDB_OPCODE_EXPIRETIME: {
        if (!r.have(4)) break;
        const v = r.i32le() * 1000;
        this.expireAt = v === -1000 ? 0 : v <= 0 ? 1 : v;
        return true;
      }
      case RDB_OPCODE_FREQ:
        if (!r.have(1)) break;
        this.freq = r.u8();
        return true;
      case RDB_OPCODE_IDLE: {
        const v = r.length();
        if (v < 0) break;
        this.idle = v;
        return true;
      }
      case RDB_OPCODE_SELECTDB: {
        const v = r.length();
        if (v < 0) break;
        this.db = v;
        return true;
      }
      case RDB_OPCODE_RESIZEDB:
        if (!r.skipLength() || !r.skipLength()) break;
        return true;
      case RDB_OPCODE_SLOT_INFO:
        if (!r.skipLength() || !r.skipLength() || !r.skipLength()) break;
        return true;
      case RDB_OPCODE_AUX: {
        const k = r.string();
        const v = k && r.string();
        if (!k || !v) break;
        if (k.length === 3 && k[0] === 0x6c && k[1] === 0x75 && k[2] === 0x61) {
          this.out.push({ kind: 'script', body: v });
        } else {
          this.aux[printableKey(k, 256)] = printableKey(v, 4096);
        }
        return true;
      }
      case RDB_OPCODE_MODULE_AUX: {
        if (!r.skipLength()) break;
        const when = r.length();
        if (when < 0 || !r.skipLength()) break;
        if (when !== RDB_MODULE_OPCODE_UINT)
          throw new RdbError('RDB_ERR_MODULE', 'module AUX with a bad when-opcode');
        this.skipper = new ModuleValueSkipper();
        this.st = S_MODULE_AUX;
        return true;
      }
      case RDB_OPCODE_FUNCTION2: {
        const code = r.string();
        if (!code) break;
        this.out.push({ kind: 'function', code });
        return true;
      }
      case RDB_OPCODE_FUNCTION_PRE_GA: {
        // Redis 7.0 rc1/rc2: name, engine, has-description, [description], code (no shebang line yet).
        const name = r.string();
        const engine = name && r.string();
        const hasDesc = engine ? r.length() : -1;
        if (hasDesc < 0) break;
        if (hasDesc && !r.skipString()) break;
        const code = r.string();
        if (!name || !engine || !code) break;
        const head = Buffer.concat([
          Buffer.from('#!', 'latin1'),
          lower(engine),
          Buffer.from(' name=', 'latin1'),
          name,
          Buffer.from('\n', 'latin1'),
        ]);
        this.out.push({ kind: 'function', code: Buffer.concat([head, code]) });
        return true;
      }
      case RDB_OPCODE_KEY_META: {
        if (redis) {
          const n = r.length();
          if (n < 0) break;
          this.metaClassesLeft = n;
          this.metaInClass = false;
          this.st = S_KEY_META;
          return true;
        }
        // VALKEY_RDB_OPCODE_SLOT_IMPORT: job name, range count, (start, end) ranges.
        void VALKEY_RDB_OPCODE_SLOT_IMPORT;
        if (!r.skipString()) break;
        const n = r.length();
        if (n < 0) break;
        let ok = true;
        for (let i = 0; i < n && ok; i++) ok = r.skipLength() && r.skipLength();
        if (!ok) break;
        return true;
      }
      case RDB_OPCODE_EOF:
        if (this.crc) {
          this.crc.update(r.buf, this.crcPos, r.pos);
          this.crcPos = r.pos;
        }
        this.st = this.version >= 5 ? S_CHECKSUM : S_DONE;
        return true;
      default: {
        if (redis && (t === RDB_OPCODE_REDIS_ENT_RAM_LRU || t === RDB_OPCODE_REDIS_ENT_SLOT_NUM)) {
          if (!r.skipLength()) break;
          return true;
        }
        const info = rdbTypeInfo(t, this.flavor);
        if (!info) {
          throw new RdbError(
            'RDB_ERR_UNKNOWN_TYPE',
            `unknown RDB type or opcode ${t} in a ${this.flavor} v${this.version} file`,
          );
        }
        this.rdbType = t;
        this.valueType = info.valueType;
        this.isCollection = COLLECTIONS.has(info.valueType);
        this.st = S_KEY;
        return true;
      }
    }
    r.pos = mark;
    return false;
  }

  /**
   * Most keys of a snapshot are strings and small collections: the kernel's lane (wasm/kernel.ts) takes them
   * from a window of the working buffer straight into finished pieces of the open run (no decoder, no key view,
   * no entry object per key), while they are whole in the buffer and of a type it checks. It stops at anything
   * else, including anything malformed, and leaves that key to the general path (which reports errors with their
   * full context).
   */
  private lane(): void {
    const k = kernel as Kernel;
    const r = this.r;
    const b = r.buf;
    const end = b.length;
    let p = r.pos;
    if (p >= end || this.idle !== -1 || this.freq !== -1) return;
    const t = b[p];
    if (
      t !== RDB_OPCODE_EXPIRETIME_MS &&
      t !== RDB_OPCODE_IDLE &&
      t !== RDB_OPCODE_FREQ &&
      (t >= 32 || ((this.laneTypes >>> t) & 1) === 0)
    )
      return;
    const slabs = this.slabs;
    const drop = this.dropExpiredFields;
    const now = drop ? (this.opts.now ? this.opts.now() : Date.now()) : 0;
    for (;;) {
      r.pos = p;
      const inAt = r.window(LANE_MARGIN);
      // Dumps the general path queued for sealing first: `flush` copies the slab from the first of them on, which
      // would otherwise take in everything the lane writes after them.
      slabs.flush();
      const at = slabs.reserve(LANE_MIN_ROOM);
      const run = this.joinableRun();
      // A new run's metadata shares the slab with its pieces: at most half of the room beyond the margin.
      const room = slabs.room;
      const keyCap =
        run === null
          ? Math.min(RUN_KEYS, Math.floor((room - LANE_MARGIN) / (2 * META_BYTES)))
          : RUN_KEYS - run.count;
      const stop = k.lane(
        inAt,
        r.windowEnd,
        Math.min(run === null ? room - 8 - keyCap * META_BYTES : room, k.OUT_CAP),
        keyCap,
        at,
        this.laneTypes,
        this.laneRestore ? 1 : 0,
        this.dumpVersion,
        r.maxItemBytes,
        this.lanePiece,
        drop ? 1 : 0,
        now,
        this.expireAt,
      );
      const taken = stop - inAt;
      if (taken === 0) break;
      if (this.crc) {
        if (this.crcPos < p) this.crc.update(b, this.crcPos, p);
        this.crc.updateAt(inAt, taken);
        this.crcPos = p + taken;
      }
      const res = k.RESULT >> 2;
      const keys = k.u32[res + R_KEYS];
      if (keys > 0) {
        const buf = slabs.buf;
        const outLen = k.u32[res + R_OUT];
        buf.set(k.mem.subarray(k.OUT, k.OUT + outLen), at);
        const fields = keys * RUN_STRIDE;
        const metaSrc = k.i32.subarray(k.META >> 2, (k.META >> 2) + fields);
        const expSrc = k.f64.subarray(k.META_EXP >> 3, (k.META_EXP >> 3) + keys);
        if (run === null) {
          // A new run's metadata goes into the slab right after its pieces (expiries first, 8-aligned): no
          // allocation of its own, one copy. It holds exactly these keys, so the run takes no more.
          const expAt = at + outLen + ((8 - ((buf.byteOffset + at + outLen) & 7)) & 7);
          const metaAt = expAt + keys * 8;
          const expires = new Float64Array(buf.buffer, buf.byteOffset + expAt, keys);
          const meta = new Int32Array(buf.buffer, buf.byteOffset + metaAt, fields);
          expires.set(expSrc);
          meta.set(metaSrc);
          slabs.commit(metaAt + fields * 4 - at);
          this.openRun = null;
          this.out.push({
            kind: 'dumps',
            db: this.db,
            count: keys,
            buf,
            meta,
            expires,
            types: this.valueTypes(),
            layout: this.layout,
            lease: slabs.hold(),
          });
        } else {
          slabs.commit(outLen);
          run.meta.set(metaSrc, run.count * RUN_STRIDE);
          run.expires.set(expSrc, run.count);
          run.count += keys;
        }
        this.keys += keys;
      }
      this.expiredSkipped += k.u32[res + R_EXPIRED];
      this.emptySkipped += k.u32[res + R_EMPTY];
      this.expireAt = 0;
      p += taken;
    }
    r.pos = p;
  }

  private keyMeta(): boolean {
    const r = this.r;
    while (this.metaClassesLeft > 0) {
      if (!this.metaInClass) {
        if (!r.have(4)) return false;
        r.pos += 4; // CLASS_SPEC
        this.metaInClass = true;
        this.skipper = new ModuleValueSkipper();
      }
      if (!this.skipper!.step(r)) return false;
      this.metaInClass = false;
      this.metaClassesLeft--;
    }
    this.st = S_OPCODE;
    return true;
  }

  private readKey(): boolean {
    const r = this.r;
    const key = r.string();
    if (key === null) return false;
    this.key = key;
    this.emitted = false;
    // The clock is only needed to drop expired keys and fields.
    if (this.dropExpiredFields) this.now = this.opts.now ? this.opts.now() : Date.now();
    this.expiredKey = this.dropExpiredFields && this.expireAt !== 0 && this.expireAt <= this.now;
    this.capturing = false;
    if (this.expiredKey) {
      this.skip = true;
    } else if (this.dumpable(this.rdbType)) {
      this.skip = true;
      this.capturing = true;
      this.capCrcSet = false;
      this.capStart = r.pos;
      this.capBase = r.base + r.pos;
      this.captured = [];
      this.capturedLen = 0;
    } else {
      this.skip = false;
    }
    this.dec =
      this.rdbType === 0
        ? this.stringDec.reset()
        : createValueDecoder(this.valueType, this.rdbType, this.flavor);
    this.st = S_VALUE;
    return true;
  }

  /** The lane's types: those it checks, dumped into runs, with a layout it can write itself. */
  private laneTypeMask(): number {
    const layout = this.layout;
    if (kernel === null || !this.runs || (layout !== null && layout.laneForm !== 'restore')) return 0;
    let mask = 0;
    for (const t of LANE_TYPES) if (this.dumpable(t)) mask |= 1 << t;
    return mask;
  }

  private dumpable(t: number): boolean {
    let v = this.dumpableByType[t];
    if (v === 0) {
      v = this.opts.dumpable?.(t, this.flavor) ? 1 : 2;
      this.dumpableByType[t] = v;
    }
    return v === 1;
  }

  private value(): boolean {
    const r = this.r;
    const done = this.dec!.step(r, this);
    if (this.capturing && this.capturedLen + (r.pos - this.capStart) > this.maxDumpBytes) {
      this.rewindForDecoding();
      return true;
    }
    if (!done) return false;
    if (this.expiredKey) this.expiredSkipped++;
    else if (this.capturing) this.emitDump();
    this.key = null;
    this.dec = null;
    this.capturing = false;
    this.captured = [];
    this.expireAt = 0;
    this.idle = -1;
    this.freq = -1;
    this.st = S_OPCODE;
    return true;
  }

  /** The value outgrew maxDumpBytes: go back to its first byte (all bytes are still held) and decode it. */
  private rewindForDecoding(): void {
    const r = this.r;
    if (this.crc && r.pos > this.crcPos) {
      this.crc.update(r.buf, this.crcPos, r.pos);
      this.crcPos = r.pos;
    }
    // The value's bytes go back to the front of the queue as the views they are (no copy); write() decodes them a
    // bounded amount per call. The checksum already covers `consumed` of them: crcPos may run past the buffers.
    const consumed = this.capturedLen + (this.crcPos - this.capStart);
    const again = this.captured;
    if (this.capStart < r.buf.length) again.push(r.buf.subarray(this.capStart));
    let n = 0;
    for (const part of again) n += part.length;
    this.pending = this.pending.length ? [...again, ...this.pending] : again;
    this.pendingLen += n;
    this.stitchBuf = null;
    if (this.crc) this.crcPos = consumed;
    r.buf = EMPTY;
    r.pos = 0;
    r.base = this.capBase;
    this.capturing = false;
    this.captured = [];
    this.capturedLen = 0;
    this.skip = false;
    this.dec = createValueDecoder(this.valueType, this.rdbType, this.flavor);
  }

  private emitDump(): void {
    const r = this.r;
    if (this.isCollection && this.dec!.count === 0) {
      this.emptySkipped++;
      return;
    }
    // The dump: the value's bytes captured earlier, then those in the buffer from capStart. It goes into the open
    // run when runs are on and it fits a slab piece, else out as a KeyEntry.
    const key = this.key!;
    const keyLen = key.length;
    const from = this.capStart;
    const tailLen = r.pos - from;
    const len = 1 + this.capturedLen + tailLen + 10;
    const layout = this.layout;
    const pieceLen = !this.runs
      ? len
      : layout === null
        ? keyLen + len
        : layout.size(keyLen, len, this.expireAt, this.idle, this.freq);
    // Run fields are 32-bit: an LRU idle time beyond that (none is real) keeps the key out of runs.
    const inRun = this.runs && pieceLen <= SLAB_MAX_PIECE && this.idle <= 0x7fffffff;
    const slabs = this.slabs;
    const at = slabs.begin(inRun ? pieceLen : len, inRun);
    const d = slabs.buf;
    let o = at;
    let keyAt = at;
    if (inRun) {
      if (layout !== null) {
        keyAt = at + layout.keyOffset(keyLen);
        o = layout.head(d, at, key, len, this.expireAt, this.idle, this.freq);
      } else if (keyLen < 64) for (let i = 0; i < keyLen; i++) d[o++] = key[i];
      else {
        d.set(key, o);
        o += keyLen;
      }
    }
    const dumpAt = o;
    d[o++] = this.rdbType;
    for (const part of this.captured) {
      d.set(part, o);
      o += part.length;
    }
    const src = r.buf;
    if (tailLen < 64) for (let i = from; i < r.pos; i++) d[o++] = src[i];
    else {
      src.copy(d, o, from, r.pos);
      o += tailLen;
    }
    const ver = this.dumpVersion;
    d[o] = ver & 0xff;
    d[o + 1] = (ver >> 8) & 0xff;
    if (!inRun) {
      const dump =
        len > SLAB_MAX_PIECE && this.sealFromFileCrc(d, at, len)
          ? slabs.endSealed(at, len)
          : slabs.end(at, len);
      this.out.push(this.keyEntry(dump, null, false));
      return;
    }
    slabs.seal(dumpAt, len);
    if (layout !== null) layout.tail(d, dumpAt + len, this.expireAt, this.idle, this.freq);
    let run = this.joinableRun();
    if (run === null) {
      run = {
        kind: 'dumps',
        db: this.db,
        count: 0,
        buf: d,
        meta: new Int32Array(RUN_KEYS * RUN_STRIDE),
        expires: new Float64Array(RUN_KEYS),
        types: this.valueTypes(),
        layout,
        lease: slabs.hold(),
      };
      this.openRun = run;
      this.out.push(run);
    }
    const m = run.meta;
    const mo = run.count * RUN_STRIDE;
    m[mo + RUN_CMD_AT] = at;
    m[mo + RUN_CMD_LEN] = pieceLen;
    m[mo + RUN_KEY_AT] = keyAt;
    m[mo + RUN_KEY_LEN] = keyLen;
    m[mo + RUN_DUMP_AT] = dumpAt;
    m[mo + RUN_DUMP_LEN] = len;
    run.expires[run.count] = this.expireAt;
    m[mo + RUN_IDLE] = this.idle;
    m[mo + RUN_FREQ] = this.freq;
    run.count++;
    this.keys++;
  }

  /**
   * Folds the file checksum up to the captured value's first byte and keeps the register there, while that byte is
   * still in the buffer (nothing captured yet) and the checksum has not passed it.
   */
  private markCapCrc(): void {
    if (this.capCrcSet || this.capturedLen !== 0 || this.crcPos > this.capStart) return;
    const crc = this.crc as Crc64;
    crc.update(this.r.buf, this.crcPos, this.capStart);
    this.crcPos = this.capStart;
    this.capCrcLo = crc.lo;
    this.capCrcHi = crc.hi;
    this.capCrcSet = true;
  }

  /**
   * Writes the CRC footer of the dump at `d[at, at+len)` (type byte, the value's bytes as in the file, version)
   * from the file checksum: with F0 and F1 its registers before and after the value V, and t the register after
   * the type byte alone, the register after type and value is shift(t ^ F0, |V|) ^ F1 (CRC linearity; `shift` is
   * O(log |V|)), then the two version bytes are folded in. A multi-megabyte value is thus checksummed once, not
   * twice. False (nothing written) when the file checksum is off or did not stop at the value's start.
   */
  private sealFromFileCrc(d: Buffer, at: number, len: number): boolean {
    const crc = this.crc;
    if (crc === null || kernel === null) return false;
    const r = this.r;
    this.markCapCrc();
    if (!this.capCrcSet) return false;
    crc.update(r.buf, this.crcPos, r.pos);
    this.crcPos = r.pos;
    const c = this.dumpCrc.reset().update(d, at, at + 1);
    c.lo = (c.lo ^ this.capCrcLo) >>> 0;
    c.hi = (c.hi ^ this.capCrcHi) >>> 0;
    c.shift(len - 11);
    c.lo = (c.lo ^ crc.lo) >>> 0;
    c.hi = (c.hi ^ crc.hi) >>> 0;
    c.update(d, at + len - 10, at + len - 8).writeLE(d, at + len - 8);
    return true;
  }

  /** The open run, if the next key can join it: room left, same slab and db, and still the last entry out. */
  private joinableRun(): DumpRunEntry | null {
    const run = this.openRun;
    if (
      run === null ||
      run.buf !== this.slabs.buf ||
      run.count * RUN_STRIDE === run.meta.length ||
      run.db !== this.db ||
      this.out[this.out.length - 1] !== run
    )
      return null;
    return run;
  }

  /** Logical type by RDB type byte for this file's flavor (shared by every run of the file). */
  private valueTypes(): ValueType[] {
    if (this.runTypes === null) {
      const t: ValueType[] = new Array(256).fill('string');
      for (let i = 0; i < 256; i++) {
        const info = rdbTypeInfo(i, this.flavor);
        if (info) t[i] = info.valueType;
      }
      this.runTypes = t;
    }
    return this.runTypes;
  }

  private keyEntry(dump: Buffer | null, value: Value | null, more: boolean): KeyEntry {
    this.keys++;
    return {
      kind: 'key',
      db: this.db,
      key: this.key!,
      type: this.valueType,
      rdbType: this.rdbType,
      expireAt: this.expireAt,
      idle: this.idle,
      freq: this.freq,
      dump,
      value,
      more,
    };
  }

  /** ValueSink: a decoded piece of the current key. */
  piece(v: Value, last: boolean): void {
    if (!this.emitted) {
      if (last && this.dec!.count === 0 && COLLECTIONS.has(this.valueType)) {
        this.emptySkipped++;
        return;
      }
      this.emitted = true;
      this.out.push(this.keyEntry(null, v, !last));
    } else {
      this.out.push({ kind: 'chunk', db: this.db, key: this.key!, value: v, more: !last });
    }
  }

  private checksum(): boolean {
    const r = this.r;
    if (!r.have(8)) return false;
    const b = r.buf;
    const p = r.pos;
    let zero = true;
    for (let i = 0; i < 8; i++) if (b[p + i] !== 0) zero = false;
    if (this.crc && !zero && !this.crc.equalsLE(b, p)) {
      let stored = 0n;
      for (let i = 7; i >= 0; i--) stored = (stored << 8n) | BigInt(b[p + i]);
      throw new RdbError(
        'RDB_ERR_CHECKSUM',
        `RDB CRC64 mismatch: stored ${stored}, computed ${this.crc.digest()}`,
      );
    }
    r.pos += 8;
    this.crc = null;
    this.st = S_DONE;
    return true;
  }
}

/** Read a whole byte stream, yielding entry batches (awaiting the consumer = backpressure). */
export async function* readRdb(
  source: AsyncIterable<Buffer>,
  opts?: RdbParserOptions,
): AsyncGenerator<Entry[]> {
  const p = new RdbParser(opts);
  for await (const chunk of source) {
    const e = p.write(chunk);
    if (e.length) yield e;
  }
  const e = p.end();
  if (e.length) yield e;
}
