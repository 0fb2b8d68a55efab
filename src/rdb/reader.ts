/**
 * The byte cursor every decoder reads through (type modules never index buffers themselves). It works on offsets
 * into one contiguous Buffer that the parser refills between steps; a read that lacks bytes records how far the
 * buffer must reach (`needEnd`) and returns a "need more" sentinel without consuming anything, so the parser
 * retries the step only once that many bytes have arrived (no quadratic re-parsing).
 *
 * Follows redis/src/rdb.c `rdbLoadLen()`, `rdbGenericLoadStringObject()`, `rdbLoadDoubleValue()`,
 * `rdbLoadBinaryDoubleValue()`, `rdbLoadMillisecondTime()` for the primitive layouts.
 */

import { decodeLength, decodeLengthBig, hexByte, lengthFieldSize } from './encodings/length.ts';
import { lzfDecompress, lzfMaxExpansion } from './encodings/lzf.ts';
import {
  decimal,
  parseAsciiDouble,
  parseStringHeader,
  readEncodedInt,
  STR_INT,
  STR_LZF,
  type StringHeader,
} from './encodings/string.ts';
import { RdbError } from './errors.ts';
import { type Kernel, kernel, kernelCount, R_KEYS } from './kernel.ts';

const EMPTY = Buffer.alloc(0);

/** The Reader whose bytes the kernel's IN area holds: parsers share the one kernel. */
let windowOwner: Reader | null = null;

/** Elements of a big collection are skipped by the kernel from this many on (below, the call costs more). */
const KERNEL_SKIP_MIN = 16;

/** Element shapes of `skipElements` (wasm/kernel.ts `skip`). */
export const SKIP_STRING = 1;
export const SKIP_STRING_PAIR = 2;
export const SKIP_STRING_DOUBLE = 3;

export class Reader {
  buf: Buffer = EMPTY;
  pos = 0;
  /** Offset in `buf` the last failed read needed the buffer to reach. */
  needEnd = 0;
  /** Absolute input offset of `buf[0]`. */
  base = 0;
  readonly maxItemBytes: number;
  private readonly h: StringHeader = { kind: 0, headerSize: 0, payloadSize: 0, rawLen: 0 };
  /** The kernel's copy of buf[winFrom, winTo), at its IN area (see `window`). */
  private winBuf: Buffer | null = null;
  private winFrom = 0;
  private winTo = 0;

  constructor(maxItemBytes: number) {
    this.maxItemBytes = maxItemBytes;
  }

  /**
   * Puts the bytes from `pos` into the kernel's IN area (up to IN_CAP of them), unless it holds them already with
   * at least `margin` bytes past `pos` (or all the buffer has). Returns the kernel offset of `pos`; the copy ends
   * at `windowEnd`. Only when `kernel` is not null. The buffer's bytes never change once in it (see
   * RdbParser.write), so a window stays valid as long as `buf` is the same Buffer.
   */
  window(margin: number): number {
    const k = kernel as Kernel;
    const b = this.buf;
    const p = this.pos;
    if (
      windowOwner !== this ||
      this.winBuf !== b ||
      p < this.winFrom ||
      (this.winTo < b.length && this.winTo - p < margin)
    ) {
      const n = Math.min(b.length - p, k.IN_CAP);
      k.mem.set(b.subarray(p, p + n), k.IN);
      windowOwner = this;
      this.winBuf = b;
      this.winFrom = p;
      this.winTo = p + n;
    }
    return k.IN + p - this.winFrom;
  }

  get windowEnd(): number {
    return (kernel as Kernel).IN + this.winTo - this.winFrom;
  }

  /**
   * Skips up to `max` whole elements of `shape` (SKIP_*) that are in the buffer, with the kernel (a structure-only
   * pass over a big collection); returns how many. The caller goes on element by element from there: anything
   * the kernel does not take (a cut element, a bad one) is read the usual way, with its errors.
   */
  skipElements(max: number, shape: number): number {
    if (kernel === null || max < KERNEL_SKIP_MIN || this.buf.length - this.pos < 1024) return 0;
    const at = this.window(1024);
    const stop = kernel.skip(at, this.windowEnd, max, shape, this.maxItemBytes);
    this.pos += stop - at;
    return kernel.u32[(kernel.RESULT >> 2) + R_KEYS];
  }

  /** Are `n` more bytes present? If not, record the need. */
  have(n: number): boolean {
    if (this.pos + n <= this.buf.length) return true;
    this.needEnd = this.pos + n;
    return false;
  }

  get avail(): number {
    return this.buf.length - this.pos;
  }

  /** Unchecked reads: call `have()` first. */
  u8(): number {
    return this.buf[this.pos++];
  }

  u16le(): number {
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }

  i32le(): number {
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Signed 64-bit little-endian as a number (millisecond times; exact within ±2^53). */
  i64le(): number {
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readInt32LE(this.pos + 4);
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }

  f64le(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A 16-byte big-endian stream id (streamDecodeID) → [ms, seq]. */
  streamIdRaw(): [bigint, bigint] {
    const ms = this.buf.readBigUInt64BE(this.pos);
    const seq = this.buf.readBigUInt64BE(this.pos + 8);
    this.pos += 16;
    return [ms, seq];
  }

  /** `n` raw bytes as a view, or null (need recorded). */
  take(n: number): Buffer | null {
    if (!this.have(n)) return null;
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Skip up to `n` bytes of what is present; returns how many were skipped (records a need of 1 if none). */
  skipUpTo(n: number): number {
    const k = Math.min(n, this.buf.length - this.pos);
    this.pos += k;
    if (k === 0) this.needEnd = this.pos + 1;
    return k;
  }

  /** A length (rdbLoadLen); -1 when more bytes are needed. Special encodings are an error here. */
  length(): number {
    if (!this.have(1)) return -1;
    const b = this.buf[this.pos];
    const size = lengthFieldSize(b);
    if (size === 0 || b >> 6 === 3) {
      throw new RdbError('RDB_ERR_BAD_LENGTH', `invalid length byte 0x${hexByte(b)}`);
    }
    if (!this.have(size)) return -1;
    const v = decodeLength(this.buf, this.pos);
    this.pos += size;
    return v;
  }

  /** A length over the full u64 range (stream ids, module ids); null when more bytes are needed. */
  lengthBig(): bigint | null {
    if (!this.have(1)) return null;
    const size = lengthFieldSize(this.buf[this.pos]);
    if (size === 0) throw new RdbError('RDB_ERR_BAD_LENGTH', 'invalid length encoding');
    if (!this.have(size)) return null;
    const v = decodeLengthBig(this.buf, this.pos);
    this.pos += size;
    return v;
  }

  /** Skip a length field; false when more bytes are needed. */
  skipLength(): boolean {
    if (!this.have(1)) return false;
    const size = lengthFieldSize(this.buf[this.pos]);
    if (size === 0) throw new RdbError('RDB_ERR_BAD_LENGTH', 'invalid length encoding');
    if (!this.have(size)) return false;
    this.pos += size;
    return true;
  }

  /**
   * Parse a string header without consuming it (0 = parsed into the returned header, -1 = need more).
   * The returned object is reused: read it before the next call.
   */
  peekStringHeader(): StringHeader | null {
    if (!this.have(1)) return null;
    const r = parseStringHeader(this.buf, this.pos, this.buf.length - this.pos, this.h);
    if (r < 0) {
      this.needEnd = this.pos - r;
      return null;
    }
    return this.h;
  }

  private checkItem(h: StringHeader): void {
    if (h.payloadSize > this.maxItemBytes || h.rawLen > this.maxItemBytes) {
      throw new RdbError(
        'RDB_ERR_ITEM_TOO_LARGE',
        `string of ${Math.max(h.payloadSize, h.rawLen)} bytes exceeds maxItemBytes`,
      );
    }
    if (h.kind === STR_LZF && h.rawLen > lzfMaxExpansion(h.payloadSize)) {
      throw new RdbError('RDB_ERR_LZF', `LZF header claims ${h.rawLen} bytes from ${h.payloadSize}`);
    }
  }

  /**
   * Where the string of header `h` at `pos` ends, when all its bytes are here; else -1, and the buffer must reach
   * that end (`needEnd`).
   */
  private stringEnd(h: StringHeader): number {
    this.checkItem(h);
    const end = this.pos + h.headerSize + h.payloadSize;
    if (end <= this.buf.length) return end;
    this.needEnd = end;
    return -1;
  }

  /** A whole string (raw view, integer as decimal text, or decompressed LZF); null when more bytes are needed. */
  string(): Buffer | null {
    const h = this.peekStringHeader();
    if (h === null) return null;
    const end = this.stringEnd(h);
    if (end < 0) return null;
    const start = this.pos + h.headerSize;
    this.pos = end;
    if (h.kind === STR_INT) return decimal(readEncodedInt(this.buf, start, h.payloadSize));
    if (h.kind === STR_LZF) return lzfDecompress(this.buf, start, end, h.rawLen);
    return this.buf.subarray(start, end);
  }

  /**
   * The next string, a ziplist, listpack or intset (kernel CHECK_*), as its element count once `count` has checked
   * it deeply (it throws on a corrupt blob); null when more bytes are needed. One compressed with LZF is expanded
   * and checked inside the kernel when it fits there: dumps of big compressed lists cost no expansion in JavaScript.
   */
  blobCount(kind: number, count: (blob: Buffer) => number): number | null {
    const h = this.peekStringHeader();
    if (h === null) return null;
    if (h.kind === STR_LZF) {
      const end = this.stringEnd(h);
      if (end < 0) return null;
      const n = kernelCount(kind, this.buf.subarray(this.pos + h.headerSize, end), h.rawLen);
      if (n >= 0) {
        this.pos = end;
        return n;
      }
    }
    const blob = this.string();
    return blob === null ? null : count(blob);
  }

  /** Skip a whole string without materializing it (no decompression); false when more bytes are needed. */
  skipString(): boolean {
    const h = this.peekStringHeader();
    if (h === null) return false;
    const end = this.stringEnd(h);
    if (end < 0) return false;
    this.pos = end;
    return true;
  }

  /** Consume only a string header (for strings streamed in pieces); the header is returned. */
  stringHeader(): StringHeader | null {
    const h = this.peekStringHeader();
    if (h === null) return null;
    this.pos += h.headerSize;
    return h;
  }

  /** A ZSET (type 3) score: 1-byte length + ASCII, or 253/254/255 = NaN/+inf/-inf (rdbLoadDoubleValue). */
  asciiDouble(): number | null {
    if (!this.have(1)) return null;
    const len = this.buf[this.pos];
    if (len === 255 || len === 254 || len === 253) {
      this.pos++;
      return len === 255 ? Number.NEGATIVE_INFINITY : len === 254 ? Number.POSITIVE_INFINITY : Number.NaN;
    }
    if (!this.have(1 + len)) return null;
    const v = parseAsciiDouble(this.buf, this.pos + 1, this.pos + 1 + len);
    this.pos += 1 + len;
    return v;
  }
}
