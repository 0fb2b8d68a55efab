/**
 * Listpack decoding with integrity checks, following redis/src/listpack.c `lpValidateIntegrity()` (header total
 * bytes, terminator, element count) and `lpValidateNext()` (each entry and its back-length inside the blob),
 * and `lpGet()` for the entry encodings (7-bit uint, 6/12/32-bit strings, 13/16/24/32/64-bit ints).
 */
import {
  LP_ENCODING_6BIT_STR,
  LP_ENCODING_6BIT_STR_MASK,
  LP_ENCODING_12BIT_STR,
  LP_ENCODING_12BIT_STR_MASK,
  LP_ENCODING_13BIT_INT,
  LP_ENCODING_13BIT_INT_MASK,
  LP_ENCODING_16BIT_INT,
  LP_ENCODING_24BIT_INT,
  LP_ENCODING_32BIT_INT,
  LP_ENCODING_32BIT_STR,
  LP_ENCODING_64BIT_INT,
  LP_EOF,
  LP_HDR_NUMELE_UNKNOWN,
  LP_HDR_SIZE,
} from '../constants.ts';
import { RdbError } from '../errors.ts';
import { CHECK_LISTPACK, kernelCount } from '../kernel.ts';
import { hexByte } from './length.ts';
import { decimalBig } from './string.ts';

/** A decoded element: bytes, or an integer (safe integers as numbers, larger ones as their decimal bytes). */
export type Item = Buffer | number;

function bad(msg: string): never {
  throw new RdbError('RDB_ERR_LISTPACK', `listpack integrity check failed: ${msg}`);
}

/** Validate the listpack header (lpValidateIntegrity, non-deep part); returns the header element count. */
function checkHeader(lp: Buffer): number {
  if (lp.length < LP_HDR_SIZE + 1) bad('too short');
  if (lp.readUInt32LE(0) !== lp.length) bad('total bytes do not match the blob size');
  if (lp[lp.length - 1] !== LP_EOF) bad('missing terminator');
  return lp.readUInt16LE(4);
}

/** Number of bytes the back-length of an entry of `l` bytes takes (lpEncodeBacklen). */
function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/**
 * Decode every element of `lp` into `out` (or, with `out` null, only check them: the same deep checks, for values
 * that go to a target as DUMP payloads); returns the number of elements.
 */
export function listpackDecode(lp: Buffer, out: Item[] | null): number {
  const numele = checkHeader(lp);
  const last = lp.length - 1; // index of LP_EOF
  let p = LP_HDR_SIZE;
  let count = 0;
  while (p < last) {
    const b = lp[p];
    let entryLen: number; // encoding + data, without back-length
    if ((b & 0x80) === 0) {
      out?.push(b & 0x7f);
      entryLen = 1;
    } else if ((b & LP_ENCODING_6BIT_STR_MASK) === LP_ENCODING_6BIT_STR) {
      const len = b & 0x3f;
      entryLen = 1 + len;
      if (p + entryLen > last) bad('entry outside the blob');
      out?.push(lp.subarray(p + 1, p + entryLen));
    } else if ((b & LP_ENCODING_13BIT_INT_MASK) === LP_ENCODING_13BIT_INT) {
      if (p + 2 > last) bad('entry outside the blob');
      if (out !== null) {
        const v = ((b & 0x1f) << 8) | lp[p + 1];
        out.push(v >= 1 << 12 ? v - (1 << 13) : v);
      }
      entryLen = 2;
    } else if ((b & LP_ENCODING_12BIT_STR_MASK) === LP_ENCODING_12BIT_STR) {
      if (p + 2 > last) bad('entry outside the blob');
      const len = ((b & 0x0f) << 8) | lp[p + 1];
      entryLen = 2 + len;
      if (p + entryLen > last) bad('entry outside the blob');
      out?.push(lp.subarray(p + 2, p + entryLen));
    } else if (b === LP_ENCODING_16BIT_INT) {
      if (p + 3 > last) bad('entry outside the blob');
      out?.push(lp.readInt16LE(p + 1));
      entryLen = 3;
    } else if (b === LP_ENCODING_24BIT_INT) {
      if (p + 4 > last) bad('entry outside the blob');
      out?.push(lp.readIntLE(p + 1, 3));
      entryLen = 4;
    } else if (b === LP_ENCODING_32BIT_INT) {
      if (p + 5 > last) bad('entry outside the blob');
      out?.push(lp.readInt32LE(p + 1));
      entryLen = 5;
    } else if (b === LP_ENCODING_64BIT_INT) {
      if (p + 9 > last) bad('entry outside the blob');
      if (out !== null) {
        const hi = lp.readInt32LE(p + 5);
        if (hi >= -0x200000 && hi < 0x200000) out.push(hi * 0x100000000 + lp.readUInt32LE(p + 1));
        else out.push(decimalBig(lp.readBigInt64LE(p + 1)));
      }
      entryLen = 9;
    } else if (b === LP_ENCODING_32BIT_STR) {
      if (p + 5 > last) bad('entry outside the blob');
      const len = lp.readUInt32LE(p + 1);
      entryLen = 5 + len;
      if (p + entryLen > last) bad('entry outside the blob');
      out?.push(lp.subarray(p + 5, p + entryLen));
    } else {
      bad(`invalid entry encoding 0x${hexByte(b)}`);
    }
    const bl = backlenSize(entryLen);
    const next = p + entryLen + bl;
    if (next > last) bad('entry outside the blob');
    // lpDecodeBacklen on the last back-length byte must give the entry length.
    if (bl === 1) {
      if (lp[next - 1] !== entryLen) bad('back-length mismatch');
    } else {
      let val = 0;
      let shift = 0;
      let q = next - 1;
      for (; ; q--) {
        val += (lp[q] & 127) * 2 ** shift;
        if (!(lp[q] & 128)) break;
        shift += 7;
        if (shift > 28) bad('back-length too long');
      }
      // It must take exactly its bytes (as the kernel checks).
      if (val !== entryLen || q !== p + entryLen) bad('back-length mismatch');
    }
    p = next;
    count++;
  }
  if (p !== last) bad('entries do not end at the terminator');
  if (numele !== LP_HDR_NUMELE_UNKNOWN && numele !== count) bad('element count mismatch');
  return count;
}

/** Element count of a listpack, every entry checked as deeply as when decoding. */
export function listpackCount(lp: Buffer): number {
  const n = kernelCount(CHECK_LISTPACK, lp);
  return n >= 0 ? n : listpackDecode(lp, null);
}
