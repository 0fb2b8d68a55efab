/**
 * RDB string encoding, following redis/src/rdb.c `rdbGenericLoadStringObject()` / `rdbLoadIntegerObject()` /
 * `rdbLoadLzfStringObject()`: a length-prefixed raw string, or RDB_ENCVAL + INT8/INT16/INT32 (little-endian,
 * loaded as their decimal text), or RDB_ENCVAL + LZF (compressed length, raw length, payload).
 * Also the decimal formatting of integers used by every encoding that stores numbers (ll2string).
 */
import { RDB_ENC_INT8, RDB_ENC_INT16, RDB_ENC_INT32, RDB_ENC_LZF } from '../constants.ts';
import { RdbError } from '../errors.ts';
import { decodeLength, hexByte, isEncodedLength, lengthFieldSize } from './length.ts';

export const STR_RAW = 0;
export const STR_INT = 1;
export const STR_LZF = 2;

/** Result of parsing a string header: kind, header size and payload size (raw length or compressed length). */
export interface StringHeader {
  kind: number;
  /** Bytes of the header (length field, or ENC byte + LZF lengths). */
  headerSize: number;
  /** Bytes following the header: raw length, int width, or compressed length. */
  payloadSize: number;
  /** LZF only: decompressed length. */
  rawLen: number;
}

/**
 * Parse the string header at `pos` with `avail` bytes present. Returns the number of header bytes needed when
 * more are required (negative: -(bytes needed)), or 0 and fills `h`.
 */
export function parseStringHeader(buf: Buffer, pos: number, avail: number, h: StringHeader): number {
  const b = buf[pos];
  if (!isEncodedLength(b)) {
    const size = lengthFieldSize(b);
    if (size === 0) throw new RdbError('RDB_ERR_BAD_LENGTH', `unknown length encoding 0x${hexByte(b)}`);
    if (avail < size) return -size;
    h.kind = STR_RAW;
    h.headerSize = size;
    h.payloadSize = decodeLength(buf, pos);
    h.rawLen = h.payloadSize;
    return 0;
  }
  const enc = b & 0x3f;
  if (enc === RDB_ENC_INT8 || enc === RDB_ENC_INT16 || enc === RDB_ENC_INT32) {
    h.kind = STR_INT;
    h.headerSize = 1;
    h.payloadSize = enc === RDB_ENC_INT8 ? 1 : enc === RDB_ENC_INT16 ? 2 : 4;
    h.rawLen = 0;
    return 0;
  }
  if (enc !== RDB_ENC_LZF) throw new RdbError('RDB_ERR_BAD_STRING', `unknown string encoding ${enc}`);
  if (avail < 2) return -2;
  const s1 = lengthFieldSize(buf[pos + 1]);
  if (s1 === 0 || isEncodedLength(buf[pos + 1]))
    throw new RdbError('RDB_ERR_BAD_LENGTH', 'bad LZF compressed length');
  if (avail < 2 + s1) return -(2 + s1);
  const s2 = lengthFieldSize(buf[pos + 1 + s1]);
  if (s2 === 0 || isEncodedLength(buf[pos + 1 + s1]))
    throw new RdbError('RDB_ERR_BAD_LENGTH', 'bad LZF raw length');
  if (avail < 1 + s1 + s2) return -(1 + s1 + s2);
  h.kind = STR_LZF;
  h.headerSize = 1 + s1 + s2;
  h.payloadSize = decodeLength(buf, pos + 1);
  h.rawLen = decodeLength(buf, pos + 1 + s1);
  return 0;
}

/** The integer of an INT8/16/32-encoded string payload (little-endian, signed). */
export function readEncodedInt(buf: Buffer, pos: number, width: number): number {
  if (width === 1) return buf.readInt8(pos);
  if (width === 2) return buf.readInt16LE(pos);
  return buf.readInt32LE(pos);
}

const DIGITS = Buffer.from('0123456789', 'latin1');

/** Decimal text of a safe integer as a Buffer (Redis ll2string), digits written from bytes, no string building. */
export function decimal(v: number): Buffer {
  if (v >= 0 && v < 10) {
    // Fresh buffer each time: callers own the Buffers they receive.
    const out = Buffer.allocUnsafe(1);
    out[0] = DIGITS[v];
    return out;
  }
  const out = Buffer.allocUnsafe(decimalLength(v));
  writeDecimal(out, 0, v);
  return out;
}

/** Bytes of a safe integer's decimal text (its sign included). */
export function decimalLength(v: number): number {
  let len = v < 0 ? 2 : 1;
  for (let t = Math.abs(v); t >= 10; t = Math.floor(t / 10)) len++;
  return len;
}

/** Writes a safe integer's decimal text at `out[o]`; returns the offset after it. */
export function writeDecimal(out: Buffer, o: number, v: number): number {
  const end = o + decimalLength(v);
  if (v < 0) out[o++] = 45;
  let n = Math.abs(v);
  let i = end;
  do {
    const q = Math.floor(n / 10);
    out[--i] = 48 + (n - q * 10);
    n = q;
  } while (i > o);
  return end;
}

/** Decimal text of any 64-bit integer (values beyond 2^53 are rare: intset/ziplist/listpack int64). */
export function decimalBig(v: bigint): Buffer {
  return Buffer.from(String(v), 'latin1');
}

/**
 * Parse an IEEE double from ASCII bytes (the only place text is converted to a number: ZSET type 3 scores,
 * ziplist/listpack score strings). Accepts Redis' spellings of infinities.
 */
export function parseAsciiDouble(buf: Buffer, start: number, end: number): number {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Number.POSITIVE_INFINITY;
  if (t === '-inf' || t === '-infinity') return Number.NEGATIVE_INFINITY;
  if (t === 'nan' || t === '-nan') return Number.NaN;
  if (t.length === 0 || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) {
    throw new RdbError('RDB_ERR_BAD_VALUE', `invalid double "${s.slice(0, 40)}"`);
  }
  return Number(t);
}
