/**
 * RDB length encoding, following redis/src/rdb.c `rdbLoadLenByRef()`:
 * 00|6 bits, 01|14 bits (big-endian), 0x80 + u32 big-endian, 0x81 + u64 big-endian, 11|6 bits = special encoding.
 * Pure functions over a contiguous buffer; the caller (reader.ts) guarantees the bytes are present. Also the
 * encoder, for the few payloads this project writes itself (string dumps, a DUMP payload wrapped as an RDB).
 */
import { RDB_6BITLEN, RDB_14BITLEN, RDB_32BITLEN, RDB_64BITLEN, RDB_ENCVAL } from '../constants.ts';
import { RdbError } from '../errors.ts';

/** Size of the length field `writeLength` writes for `n` (below 2^32). */
export function lengthSize(n: number): number {
  return n < 1 << 6 ? 1 : n < 1 << 14 ? 2 : 5;
}

/** Writes `n` (below 2^32) as an RDB length at `out[at]` (rdbSaveLen); returns the offset after it. */
export function writeLength(out: Buffer, at: number, n: number): number {
  if (n < 1 << 6) {
    out[at] = n;
    return at + 1;
  }
  if (n < 1 << 14) {
    out.writeUInt16BE(0x4000 | n, at);
    return at + 2;
  }
  out[at] = RDB_32BITLEN;
  out.writeUInt32BE(n, at + 1);
  return at + 5;
}

/** Size of the length field whose first byte is `b`: 1, 2, 5 or 9; 0 when the byte is no valid length. */
export function lengthFieldSize(b: number): number {
  const type = b >> 6;
  if (type === RDB_6BITLEN || type === RDB_ENCVAL) return 1;
  if (type === RDB_14BITLEN) return 2;
  if (b === RDB_32BITLEN) return 5;
  if (b === RDB_64BITLEN) return 9;
  return 0;
}

/** Is the length byte `b` a special-encoding marker (11xxxxxx)? Then the value is the RDB_ENC_* kind. */
export function isEncodedLength(b: number): boolean {
  return b >> 6 === RDB_ENCVAL;
}

/**
 * Decode the length at `pos` (its `lengthFieldSize` bytes must be present). Lengths above 2^53 cannot be real
 * counts or sizes and are rejected.
 */
export function decodeLength(buf: Buffer, pos: number): number {
  const b = buf[pos];
  const type = b >> 6;
  if (type === RDB_6BITLEN || type === RDB_ENCVAL) return b & 0x3f;
  if (type === RDB_14BITLEN) return ((b & 0x3f) << 8) | buf[pos + 1];
  if (b === RDB_32BITLEN) return buf.readUInt32BE(pos + 1);
  if (b === RDB_64BITLEN) {
    const hi = buf.readUInt32BE(pos + 1);
    if (hi > 0x1fffff) throw new RdbError('RDB_ERR_BAD_LENGTH', 'length above 2^53');
    return hi * 0x100000000 + buf.readUInt32BE(pos + 5);
  }
  throw new RdbError('RDB_ERR_BAD_LENGTH', `unknown length encoding 0x${hexByte(b)}`);
}

/** Like decodeLength but exact for the whole u64 range (stream ids are saved with rdbSaveLen). */
export function decodeLengthBig(buf: Buffer, pos: number): bigint {
  const b = buf[pos];
  if (b === RDB_64BITLEN) return buf.readBigUInt64BE(pos + 1);
  return BigInt(decodeLength(buf, pos));
}

export function hexByte(b: number): string {
  const h = '0123456789abcdef';
  return h[(b >> 4) & 15] + h[b & 15];
}
