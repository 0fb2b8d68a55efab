/**
 * RESP2: the one module that writes `*`/`$` framing (STYLE habit 7) and the one streaming reply parser.
 *
 * Encoding follows ioredis `Command.toWritable` / `execPipeline`: the size of a whole batch is computed first, then
 * every command is written into one `Buffer.allocUnsafe(size)`, so a batch costs one allocation and one socket
 * `write`. Parsing follows redis `networking.c` (`processMultibulkBuffer`): replies may arrive split anywhere; a
 * partially received array keeps its finished elements on a stack, and a bulk string whose header is known waits
 * until its whole payload is buffered (chunks are joined once, never re-scanned byte by byte).
 */

import type { RunLayout } from '../entry.ts';

/** An argument of a command: Buffers for user data, strings only for ASCII protocol words and numbers. */
export type RespArg = Buffer | string;
export type Argv = readonly RespArg[];

/** An error reply (`-CODE message`). `code` is the first word (Redis's error code), used for identity. */
export class RespError {
  readonly code: string;
  readonly message: string;
  constructor(message: string) {
    this.message = message;
    const sp = message.indexOf(' ');
    this.code = sp < 0 ? message : message.slice(0, sp);
  }
}

/**
 * A parsed reply: simple strings as `string` (protocol text such as `OK`, `QUEUED`, `FULLRESYNC …`), bulk strings as
 * `Buffer` (user data stays binary), integers as `number`, null bulk/array as `null`, errors as `RespError`.
 */
export type RespValue = string | number | Buffer | null | RespError | RespValue[];

const CRLF_LEN = 2;

/** Decimal digits of a non-negative safe integer. */
function digits(n: number): number {
  if (n < 10) return 1;
  if (n < 100) return 2;
  if (n < 1000) return 3;
  if (n < 10000) return 4;
  let d = 4;
  n = Math.floor(n / 10000);
  while (n >= 1) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/** Byte length of a string argument: its length when ASCII (protocol words, numbers), else its UTF-8 size. */
function strLen(a: string): number {
  for (let i = 0; i < a.length; i++) if (a.charCodeAt(i) > 0x7f) return Buffer.byteLength(a);
  return a.length;
}

function argLen(a: RespArg): number {
  return typeof a === 'string' ? strLen(a) : a.length;
}

/** Encoded size of one command in bytes. */
export function commandSize(argv: Argv): number {
  let size = 1 + digits(argv.length) + CRLF_LEN;
  for (const a of argv) {
    const n = argLen(a);
    size += 1 + digits(n) + CRLF_LEN + n + CRLF_LEN;
  }
  return size;
}

function writeInt(buf: Buffer, off: number, n: number): number {
  if (n < 10) {
    buf[off] = 0x30 + n;
    return off + 1;
  }
  const d = digits(n);
  let end = off + d;
  const stop = off;
  if (n < 0x80000000) {
    do {
      end--;
      const q = (n / 10) | 0;
      buf[end] = 0x30 + n - q * 10;
      n = q;
    } while (end > stop);
    return off + d;
  }
  do {
    end--;
    buf[end] = 0x30 + (n % 10);
    n = Math.floor(n / 10);
  } while (end > stop);
  return off + d;
}

/** Writes one command at `off`; returns the offset after it. `buf` must have `commandSize(argv)` bytes free. */
export function writeCommand(buf: Buffer, off: number, argv: Argv): number {
  buf[off++] = 0x2a; // '*'
  off = writeInt(buf, off, argv.length);
  buf[off++] = 0x0d;
  buf[off++] = 0x0a;
  for (const a of argv) {
    const n = argLen(a);
    off = bulkHead(buf, off, n);
    if (typeof a !== 'string') {
      if (n < 16) for (let i = 0; i < n; i++) buf[off + i] = a[i];
      else buf.set(a, off);
      off += n;
    } else if (n === a.length) {
      // ASCII: byte by byte is cheaper than a native write call for these short words.
      for (let i = 0; i < n; i++) buf[off + i] = a.charCodeAt(i);
      off += n;
    } else off += buf.write(a, off, 'utf8');
    buf[off++] = 0x0d;
    buf[off++] = 0x0a;
  }
  return off;
}

/** One command as RESP (`*N\r\n$len\r\narg\r\n…`). */
export function encodeCommand(argv: Argv): Buffer {
  const buf = Buffer.allocUnsafe(commandSize(argv));
  writeCommand(buf, 0, argv);
  return buf;
}

/**
 * Commands encoded up front into 1 MiB slabs, back to back: consecutive commands are consecutive bytes, so a
 * connection can write a run of them as one view without copying (see connection.ts). After `encode`/`restore`,
 * the command's bytes are `buf[at, at + size)`; a slab lives as long as a command encoded in it is held.
 */
export class CommandSlab {
  buf: Buffer = Buffer.alloc(0);
  at = 0;
  /**
   * Set instead of `buf`/`at` by `restore` for a big dump: the command as [head, dump, tail], so the dump is
   * written by reference rather than copied into a second big buffer. Null otherwise.
   */
  parts: Buffer[] | null = null;
  private slab: Buffer = this.buf;
  private off = 0;

  /** Encodes `argv`; returns its size. */
  encode(argv: Argv): number {
    this.parts = null;
    const size = commandSize(argv);
    writeCommand(this.room(size), this.at, argv);
    return size;
  }

  /**
   * `RESTORE key ttl dump REPLACE [ABSTTL] [opt val]` (opt: RESTORE_FREQ / RESTORE_IDLETIME) without building an
   * argv: the one command an RDB import sends per key. Returns its size.
   */
  restore(key: Buffer, ttl: number, dump: Buffer, absTtl: boolean, opt: Buffer | null, val: number): number {
    if (dump.length <= COMMAND_SLAB_BYTES >> 4)
      return this.restoreAt(key, 0, key.length, dump, 0, dump.length, ttl, absTtl, opt, val);
    const size = restoreSize(key.length, ttl, dump.length, absTtl, opt, val);
    const b = Buffer.allocUnsafe(size - dump.length);
    this.buf = b;
    this.at = 0;
    const dumpAt = restoreHead(b, 0, key, 0, key.length, ttl, dump.length, absTtl, opt);
    const o = restoreTail(b, dumpAt, absTtl, opt, val);
    this.parts = [b.subarray(0, dumpAt), dump, b.subarray(dumpAt, o)];
    return size;
  }

  /** `restore` of a key and a dump of at most 64 KiB given as ranges of Buffers (no views needed). */
  restoreAt(
    keySrc: Buffer,
    keyAt: number,
    keyLen: number,
    dumpSrc: Buffer,
    dumpAt: number,
    dumpLen: number,
    ttl: number,
    absTtl: boolean,
    opt: Buffer | null,
    val: number,
  ): number {
    const size = restoreSize(keyLen, ttl, dumpLen, absTtl, opt, val);
    this.parts = null;
    const b = this.room(size);
    const o = restoreHead(b, this.at, keySrc, keyAt, keyLen, ttl, dumpLen, absTtl, opt);
    restoreTail(b, copyRange(b, o, dumpSrc, dumpAt, dumpLen), absTtl, opt, val);
    return size;
  }

  /** Points `buf`/`at` at `size` free bytes (in the slab, or a Buffer of its own when large). */
  private room(size: number): Buffer {
    if (size > COMMAND_SLAB_BYTES >> 4) {
      this.buf = Buffer.allocUnsafe(size);
      this.at = 0;
      return this.buf;
    }
    if (this.off + size > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(COMMAND_SLAB_BYTES);
      this.off = 0;
    }
    this.buf = this.slab;
    this.at = this.off;
    this.off += size;
    return this.slab;
  }
}

/** Bytes of one key-value pair of an MSET (`$k\r\nkey\r\n$v\r\nvalue\r\n`). */
export function msetPairSize(keyLen: number, valueLen: number): number {
  return bulkSize(keyLen) + bulkSize(valueLen);
}

/** `*<2n+1>\r\n` for up to 9,999,999 arguments, then the command name. */
const MSET_HEAD_MAX = 1 + 7 + CRLF_LEN + 10;
const MSET_NAME = Buffer.from('$4\r\nMSET\r\n');

/**
 * A slab of MsetBuilder and its commands not yet acknowledged: it is written again only once it is full and all of
 * them were (a lost connection resends the same bytes).
 */
class MsetSlab {
  pending = 0;
  full = false;

  constructor(
    readonly buf: Buffer,
    private readonly free: MsetSlab[],
  ) {}

  /** One of its commands was acknowledged. */
  done(): void {
    if (--this.pending === 0 && this.full) this.free.push(this);
  }
}

/**
 * One MSET at a time, built pair by pair into 1 MiB slabs without knowing its size up front: room for the longest
 * header is left before the first pair, and `close` writes the header right before the pairs, so the command is
 * one range of a slab (`buf[at, at + size)`) and its pairs never move. Slabs are reused once every command in
 * them was acknowledged (`close` returns the hold to give up then), so a long import keeps a few of them.
 */
export class MsetBuilder {
  /** After `close`: the command is `buf[at, at + size)`. */
  buf: Buffer = Buffer.alloc(0);
  at = 0;
  size = 0;
  /** Pairs in the open MSET, and their bytes. */
  count = 0;
  bytes = 0;
  private slab: MsetSlab | null = null;
  private off = 0;
  private pairsAt = 0;
  private readonly free: MsetSlab[] = [];

  /**
   * Can the open MSET take a pair of `size` bytes (msetPairSize)? An empty one always can, in another slab when
   * the current one is full; a non-empty one that cannot must be closed first.
   */
  fits(size: number): boolean {
    const slab = this.slab;
    if (slab !== null && this.off + size + (this.count > 0 ? 0 : MSET_HEAD_MAX) <= slab.buf.length)
      return true;
    if (this.count > 0) return false;
    if (slab !== null) {
      slab.full = true;
      if (slab.pending === 0) this.free.push(slab);
    }
    const need = MSET_HEAD_MAX + size;
    const reuse = this.free.length > 0 && need <= COMMAND_SLAB_BYTES ? this.free.pop() : undefined;
    const next = reuse ?? new MsetSlab(Buffer.allocUnsafeSlow(Math.max(COMMAND_SLAB_BYTES, need)), this.free);
    next.full = false;
    this.slab = next;
    this.off = 0;
    return true;
  }

  /**
   * Appends a pair (after `fits`): the key copied from `keySrc[keyAt, keyAt+keyLen)`, the value's framing around
   * `valueLen` bytes the caller writes at the returned offset of `slabBuf`.
   */
  pair(keySrc: Buffer, keyAt: number, keyLen: number, valueLen: number): number {
    const b = this.slabBuf;
    if (this.count === 0) {
      this.pairsAt = this.off + MSET_HEAD_MAX;
      this.off = this.pairsAt;
    }
    let o = bulkHead(b, this.off, keyLen);
    o = copyRange(b, o, keySrc, keyAt, keyLen);
    b[o++] = 0x0d;
    b[o++] = 0x0a;
    o = bulkHead(b, o, valueLen);
    b[o + valueLen] = 0x0d;
    b[o + valueLen + 1] = 0x0a;
    const size = o + valueLen + CRLF_LEN - this.off;
    this.off += size;
    this.bytes += size;
    this.count++;
    return o;
  }

  /** Drops the open MSET (its keys were not sent, so none of them is counted written). */
  discard(): void {
    if (this.count === 0) return;
    this.off = this.pairsAt - MSET_HEAD_MAX;
    this.count = 0;
    this.bytes = 0;
  }

  /** The slab the pairs are written into (for the value bytes of `pair`). */
  get slabBuf(): Buffer {
    return (this.slab as MsetSlab).buf;
  }

  /**
   * Ends the open MSET (at least one pair): its header goes right before its pairs; `buf`/`at`/`size` tell.
   * Returns the hold whose `done()` says the command was acknowledged (or is no longer needed).
   */
  close(): { done(): void } {
    const slab = this.slab as MsetSlab;
    const b = slab.buf;
    const argc = 1 + 2 * this.count;
    const head = 1 + digits(argc) + CRLF_LEN + MSET_NAME.length;
    let o = this.pairsAt - head;
    this.at = o;
    b[o++] = 0x2a;
    o = writeInt(b, o, argc);
    b[o++] = 0x0d;
    b[o++] = 0x0a;
    put(b, o, MSET_NAME);
    this.buf = b;
    this.size = this.off - this.at;
    this.count = 0;
    this.bytes = 0;
    slab.pending++;
    return slab;
  }
}

function restoreSize(
  keyLen: number,
  ttl: number,
  dumpLen: number,
  absTtl: boolean,
  opt: Buffer | null,
  val: number,
): number {
  let size =
    4 + // *N\r\n (N < 10)
    RESTORE_HEAD.length +
    bulkSize(keyLen) +
    bulkSize(digits(ttl)) +
    bulkSize(dumpLen) +
    REPLACE_ARG.length;
  if (absTtl) size += ABSTTL_ARG.length;
  if (opt) size += opt.length + bulkSize(digits(val));
  return size;
}

/** `*N RESTORE key ttl $<dumpLen>\r\n`: everything before the dump's bytes; returns where they go. */
function restoreHead(
  b: Buffer,
  o: number,
  keySrc: Buffer,
  keyAt: number,
  keyLen: number,
  ttl: number,
  dumpLen: number,
  absTtl: boolean,
  opt: Buffer | null,
): number {
  b[o++] = 0x2a;
  b[o++] = 0x30 + 5 + (absTtl ? 1 : 0) + (opt ? 2 : 0);
  b[o++] = 0x0d;
  b[o++] = 0x0a;
  o = put(b, o, RESTORE_HEAD);
  o = bulkHead(b, o, keyLen);
  o = copyRange(b, o, keySrc, keyAt, keyLen);
  b[o++] = 0x0d;
  b[o++] = 0x0a;
  o = bulkInt(b, o, ttl);
  return bulkHead(b, o, dumpLen);
}

/** `\r\n REPLACE [ABSTTL] [opt val]`: everything after the dump's bytes, from `o` (just after them). */
function restoreTail(b: Buffer, o: number, absTtl: boolean, opt: Buffer | null, val: number): number {
  b[o++] = 0x0d;
  b[o++] = 0x0a;
  o = put(b, o, REPLACE_ARG);
  if (absTtl) o = put(b, o, ABSTTL_ARG);
  if (opt) {
    o = put(b, o, opt);
    o = bulkInt(b, o, val);
  }
  return o;
}

function copyRange(b: Buffer, o: number, src: Buffer, at: number, len: number): number {
  if (len < 64) for (let i = 0; i < len; i++) b[o + i] = src[at + i];
  else src.copy(b, o, at, at + len);
  return o + len;
}

/**
 * The RESTORE of the writer's fast path (`RESTORE key ttl dump REPLACE [ABSTTL] [FREQ f | IDLETIME s]`, ttl the
 * absolute expiry) as a run layout: the parser lays every key of a run out as this command, and the writer sends
 * the run's bytes as they are (for targets that take REPLACE and ABSTTL, i.e. 5.0+).
 */
export const RESTORE_RUN_LAYOUT: RunLayout = {
  laneForm: 'restore',
  size(keyLen, dumpLen, expireAt, idle, freq) {
    return restoreSize(
      keyLen,
      expireAt,
      dumpLen,
      expireAt > 0,
      restoreOption(idle, freq),
      optionValue(idle, freq),
    );
  },
  keyOffset(keyLen) {
    return 4 + RESTORE_HEAD.length + 1 + digits(keyLen) + CRLF_LEN;
  },
  head(buf, at, key, dumpLen, expireAt, idle, freq) {
    return restoreHead(
      buf,
      at,
      key,
      0,
      key.length,
      expireAt,
      dumpLen,
      expireAt > 0,
      restoreOption(idle, freq),
    );
  },
  tail(buf, at, expireAt, idle, freq) {
    restoreTail(buf, at, expireAt > 0, restoreOption(idle, freq), optionValue(idle, freq));
  },
};

/** The RESTORE option a key's LFU frequency or LRU idle time calls for (5.0+ targets), with `optionValue`. */
export function restoreOption(idle: number, freq: number): Buffer | null {
  return freq >= 0 ? RESTORE_FREQ : idle >= 0 ? RESTORE_IDLETIME : null;
}

export function optionValue(idle: number, freq: number): number {
  return freq >= 0 ? freq : idle;
}

/** A cursor over encoded commands, for the error paths that read them back. */
class RespWalk {
  constructor(
    readonly buf: Buffer,
    public p: number,
  ) {}

  /** The number after a type byte (`*` or `$`), the cursor then past its CRLF. */
  num(): number {
    const b = this.buf;
    let p = this.p + 1;
    let v = 0;
    for (; p < b.length && b[p] !== 0x0d; p++) v = v * 10 + b[p] - 0x30;
    this.p = p + 2;
    return v;
  }

  /** Past one bulk string. */
  skipBulk(): void {
    const len = this.num();
    this.p += len + 2;
  }

  /** One bulk string as a view, the cursor past it; null when the buffer ends inside it. */
  bulk(): Buffer | null {
    const len = this.num();
    const at = this.p;
    this.p += len + 2;
    return at + len <= this.buf.length ? this.buf.subarray(at, at + len) : null;
  }
}

/** The key-value pairs of the MSET encoded at `buf[at]`, as views (a target that refuses MSET gets them again). */
export function msetPairsOf(buf: Buffer, at: number): [Buffer, Buffer][] {
  const w = new RespWalk(buf, at);
  const argc = w.num();
  w.skipBulk(); // MSET
  const out: [Buffer, Buffer][] = [];
  for (let i = 1; i + 1 < argc; i += 2) out.push([w.bulk() as Buffer, w.bulk() as Buffer]);
  return out;
}

/** Offset of the command that follows `skip` commands from `at` (error paths only: walks the RESP). */
export function commandAfter(buf: Buffer, at: number, skip: number): number {
  const w = new RespWalk(buf, at);
  for (let c = 0; c < skip && w.p < buf.length; c++) {
    const n = w.num();
    for (let i = 0; i < n && w.p < buf.length; i++) w.skipBulk();
  }
  return w.p;
}

/** Size of a bulk string of `n` bytes: `$n\r\n…\r\n`. */
function bulkSize(n: number): number {
  return 1 + digits(n) + CRLF_LEN + n + CRLF_LEN;
}

function put(b: Buffer, o: number, src: Buffer): number {
  if (src.length < 16) for (let i = 0; i < src.length; i++) b[o + i] = src[i];
  else b.set(src, o);
  return o + src.length;
}

/** `$n\r\n`: the header of a bulk string of `n` bytes. */
function bulkHead(b: Buffer, o: number, n: number): number {
  b[o++] = 0x24;
  o = writeInt(b, o, n);
  b[o++] = 0x0d;
  b[o++] = 0x0a;
  return o;
}

function bulkInt(b: Buffer, o: number, v: number): number {
  o = bulkHead(b, o, digits(v));
  o = writeInt(b, o, v);
  b[o++] = 0x0d;
  b[o++] = 0x0a;
  return o;
}

/**
 * The first argument of the command encoded at `buf[at]`: the key of a RESTORE, the first key of an MSET (for error
 * messages; walks the RESP).
 */
export function commandKeyOf(buf: Buffer, at: number): Buffer | null {
  const w = new RespWalk(buf, at);
  if (at >= buf.length || buf[at] !== 0x2a || w.num() < 2) return null;
  w.skipBulk(); // the command's name
  return w.p < buf.length && buf[w.p] === 0x24 ? w.bulk() : null;
}

const RESTORE_HEAD = Buffer.from('$7\r\nRESTORE\r\n');
const REPLACE_ARG = Buffer.from('$7\r\nREPLACE\r\n');
const ABSTTL_ARG = Buffer.from('$6\r\nABSTTL\r\n');
export const RESTORE_FREQ = Buffer.from('$4\r\nFREQ\r\n');
export const RESTORE_IDLETIME = Buffer.from('$8\r\nIDLETIME\r\n');

const COMMAND_SLAB_BYTES = 1 << 20;

/** Many commands in one sized Buffer (one allocation). `size` may be passed when the caller already summed it. */
export function encodeCommands(cmds: readonly Argv[], size?: number): Buffer {
  if (size === undefined) {
    size = 0;
    for (const c of cmds) size += commandSize(c);
  }
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  for (const c of cmds) off = writeCommand(buf, off, c);
  return buf;
}

/** ASCII text of a short protocol line (status, error). Never used on user data. */
function asciiLine(buf: Buffer, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** Thrown (as a value of the parser) when the byte stream is not RESP. */
export class RespProtocolError extends RespError {}

interface Frame {
  items: RespValue[];
  remaining: number;
}

/** Result of `next()` when no complete reply is buffered yet. */
export const NEED_MORE: unique symbol = Symbol('NEED_MORE');

/**
 * Streaming RESP parser. `push()` chunks as they arrive, then call `next()` until it returns `NEED_MORE`.
 * `offset` is the number of input bytes consumed by the replies returned so far (the replication client uses it
 * as its stream offset; the AOF reader as its file position). `takeRest()` hands the unconsumed bytes to another
 * consumer (e.g. the RDB payload after `+FULLRESYNC`).
 */
export class RespParser {
  /** Bytes consumed by complete top-level replies returned so far. */
  offset = 0;
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Chunks received while waiting for `want` bytes (joined once enough arrived). */
  private pending: Buffer[] = [];
  private pendingLen = 0;
  /** Bytes (from `pos`) needed before parsing can progress; 0 = try with what we have. */
  private want = 0;
  private stack: Frame[] = [];
  /** Input bytes dropped from the front of `buf` so far (`offset` = consumedBefore + pos). */
  private consumedBefore = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.pos >= this.buf.length && this.pending.length === 0) {
      this.consumedBefore += this.buf.length;
      this.buf = chunk;
      this.pos = 0;
      return;
    }
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    if (this.want === 0 || this.buf.length - this.pos + this.pendingLen >= this.want) this.join();
  }

  /** Bytes buffered but not yet consumed by a complete reply. */
  get buffered(): number {
    return this.buf.length - this.pos + this.pendingLen;
  }

  /** Joins the unparsed tail with the pending chunks (elements already parsed are not copied again). */
  private join(): void {
    const head = this.buf.subarray(this.pos);
    const joined = Buffer.concat([head, ...this.pending], head.length + this.pendingLen);
    this.consumedBefore += this.pos;
    this.pos = 0;
    this.buf = joined;
    this.pending = [];
    this.pendingLen = 0;
  }

  /** The next complete reply, or NEED_MORE. Throws RespProtocolError on malformed input. */
  next(): RespValue | typeof NEED_MORE {
    if (this.want > 0) {
      if (this.buf.length - this.pos + this.pendingLen < this.want) return NEED_MORE;
      if (this.pendingLen > 0) this.join();
      this.want = 0;
    } else if (this.pendingLen > 0) this.join();
    // A top-level `+OK` (the reply to nearly every write of an import) without a line search.
    const b = this.buf;
    const p = this.pos;
    if (
      this.stack.length === 0 &&
      p + 5 <= b.length &&
      b[p] === 0x2b &&
      b[p + 1] === 0x4f &&
      b[p + 2] === 0x4b &&
      b[p + 3] === 0x0d &&
      b[p + 4] === 0x0a
    ) {
      this.pos = p + 5;
      this.offset = this.consumedBefore + this.pos;
      return 'OK';
    }
    for (;;) {
      const v = this.parseOne();
      if (v === NEED_MORE) return NEED_MORE;
      let value: RespValue = v;
      // Attach to enclosing arrays; finished arrays bubble up.
      for (;;) {
        const top = this.stack[this.stack.length - 1];
        if (!top) {
          this.offset = this.consumedBefore + this.pos;
          return value;
        }
        top.items.push(value);
        if (--top.remaining > 0) break;
        this.stack.pop();
        value = top.items;
      }
    }
  }

  /**
   * Unconsumed bytes after the last reply returned by `next()`; the parser is left empty. Call it between replies
   * (e.g. right after `+FULLRESYNC`), not while an array is half parsed.
   */
  takeRest(): Buffer {
    if (this.stack.length) throw new RespProtocolError('ERR takeRest inside a partially parsed array');
    const rest = Buffer.concat([this.buf.subarray(this.pos), ...this.pending]);
    this.consumedBefore += this.pos;
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    this.pending = [];
    this.pendingLen = 0;
    this.want = 0;
    this.stack = [];
    return rest;
  }

  /** Index of '\r' of the line starting at `from`, or -1 (then `want` is set to wait for more). */
  private lineEnd(from: number): number {
    const i = this.buf.indexOf(0x0d, from);
    if (i < 0 || i + 1 >= this.buf.length) {
      this.want = 0;
      return -1;
    }
    if (this.buf[i + 1] !== 0x0a) throw new RespProtocolError('ERR protocol: CR without LF');
    return i;
  }

  /** Signed integer of the bytes [start, end). */
  private int(start: number, end: number): number {
    const b = this.buf;
    let neg = false;
    let i = start;
    if (b[i] === 0x2d) {
      neg = true;
      i++;
    }
    if (i >= end) throw new RespProtocolError('ERR protocol: empty integer');
    let n = 0;
    for (; i < end; i++) {
      const c = b[i] - 0x30;
      if (c < 0 || c > 9) throw new RespProtocolError('ERR protocol: bad integer');
      n = n * 10 + c;
    }
    return neg ? -n : n;
  }

  /** Parses one non-array value or opens an array frame; NEED_MORE leaves `pos` unchanged. */
  private parseOne(): RespValue | typeof NEED_MORE {
    for (;;) {
      const start = this.pos;
      if (start >= this.buf.length) {
        this.want = 0;
        return NEED_MORE;
      }
      const type = this.buf[start];
      const end = this.lineEnd(start + 1);
      if (end < 0) return NEED_MORE;
      switch (type) {
        case 0x24: {
          // '$' bulk
          const len = this.int(start + 1, end);
          if (len < 0) {
            this.pos = end + 2;
            return null;
          }
          const dataStart = end + 2;
          const need = dataStart + len + 2;
          if (need > this.buf.length) {
            this.want = need - this.pos;
            return NEED_MORE;
          }
          if (this.buf[need - 2] !== 0x0d || this.buf[need - 1] !== 0x0a) {
            throw new RespProtocolError('ERR protocol: bulk not terminated by CRLF');
          }
          this.pos = need;
          return this.buf.subarray(dataStart, dataStart + len);
        }
        case 0x2a: {
          // '*' array
          const n = this.int(start + 1, end);
          this.pos = end + 2;
          if (n < 0) return null;
          if (n === 0) return [];
          this.stack.push({ items: [], remaining: n });
          continue;
        }
        case 0x2b: // '+'
          this.pos = end + 2;
          // The reply of nearly every write: no string to build.
          if (end === start + 3 && this.buf[start + 1] === 0x4f && this.buf[start + 2] === 0x4b) return 'OK';
          return asciiLine(this.buf, start + 1, end);
        case 0x2d: // '-'
          this.pos = end + 2;
          return new RespError(asciiLine(this.buf, start + 1, end));
        case 0x3a: // ':'
          this.pos = end + 2;
          return this.int(start + 1, end);
        default:
          throw new RespProtocolError(`ERR protocol: unexpected type byte ${type}`);
      }
    }
  }
}
