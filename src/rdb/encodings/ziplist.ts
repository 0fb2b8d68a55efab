/**
 * Ziplist decoding with Redis' deep integrity checks, following redis/src/ziplist.c
 * `ziplistValidateIntegrity()` (header bytes, tail offset, terminator, prevlen chain, count) and `zipEntrySafe()`
 * / `ZIP_DECODE_LENGTH` / `zipLoadInteger()` for the entry encodings.
 */
import {
  ZIP_BIG_PREVLEN,
  ZIP_END,
  ZIP_INT_8B,
  ZIP_INT_16B,
  ZIP_INT_24B,
  ZIP_INT_32B,
  ZIP_INT_64B,
  ZIP_INT_IMM_MASK,
  ZIP_INT_IMM_MAX,
  ZIP_INT_IMM_MIN,
  ZIP_STR_06B,
  ZIP_STR_14B,
  ZIP_STR_32B,
  ZIP_STR_MASK,
  ZIPLIST_HEADER_SIZE,
} from '../constants.ts';
import { RdbError } from '../errors.ts';
import { CHECK_ZIPLIST, kernelCount } from '../kernel.ts';
import { hexByte } from './length.ts';
import type { Item } from './listpack.ts';
import { decimalBig } from './string.ts';

function bad(msg: string): never {
  throw new RdbError('RDB_ERR_ZIPLIST', `ziplist integrity check failed: ${msg}`);
}

function checkHeader(zl: Buffer): number {
  if (zl.length < ZIPLIST_HEADER_SIZE + 1) bad('too short');
  if (zl.readUInt32LE(0) !== zl.length) bad('total bytes do not match the blob size');
  if (zl[zl.length - 1] !== ZIP_END) bad('missing terminator');
  if (zl.readUInt32LE(4) > zl.length - 1) bad('tail offset outside the blob');
  return zl.readUInt16LE(8);
}

/**
 * Decode every entry of `zl` into `out` (or, with `out` null, only check them: the same deep checks, for values
 * that go to a target as DUMP payloads); returns the number of entries.
 */
export function ziplistDecode(zl: Buffer, out: Item[] | null): number {
  const headerCount = checkHeader(zl);
  const last = zl.length - 1; // index of ZIP_END
  let p = ZIPLIST_HEADER_SIZE;
  let prevRaw = 0;
  let prevStart = -1;
  let count = 0;
  while (p < last) {
    if (zl[p] === ZIP_END) break;
    // prevlen
    let prevlen: number;
    let q: number;
    if (zl[p] < ZIP_BIG_PREVLEN) {
      prevlen = zl[p];
      q = p + 1;
    } else {
      if (p + 5 > last) bad('entry outside the blob');
      prevlen = zl.readUInt32LE(p + 1);
      q = p + 5;
    }
    if (prevlen !== prevRaw) bad('prevlen does not match the previous entry');
    if (q >= last) bad('entry outside the blob');
    const enc = zl[q];
    let dataStart: number;
    let len: number;
    if ((enc & ZIP_STR_MASK) !== ZIP_STR_MASK) {
      const kind = enc & ZIP_STR_MASK;
      if (kind === ZIP_STR_06B) {
        len = enc & 0x3f;
        dataStart = q + 1;
      } else if (kind === ZIP_STR_14B) {
        if (q + 2 > last) bad('entry outside the blob');
        len = ((enc & 0x3f) << 8) | zl[q + 1];
        dataStart = q + 2;
      } else if (enc === ZIP_STR_32B) {
        if (q + 5 > last) bad('entry outside the blob');
        len = zl.readUInt32BE(q + 1);
        dataStart = q + 5;
      } else {
        bad(`invalid string encoding 0x${hexByte(enc)}`);
      }
      if (dataStart + len > last) bad('entry outside the blob');
      out?.push(zl.subarray(dataStart, dataStart + len));
    } else {
      dataStart = q + 1;
      if (enc === ZIP_INT_8B) len = 1;
      else if (enc === ZIP_INT_16B) len = 2;
      else if (enc === ZIP_INT_24B) len = 3;
      else if (enc === ZIP_INT_32B) len = 4;
      else if (enc === ZIP_INT_64B) len = 8;
      else if (enc >= ZIP_INT_IMM_MIN && enc <= ZIP_INT_IMM_MAX) len = 0;
      else bad(`invalid entry encoding 0x${hexByte(enc)}`);
      if (dataStart + len > last) bad('entry outside the blob');
      if (out === null) {
        // checked only
      } else if (len === 0) out.push((enc & ZIP_INT_IMM_MASK) - 1);
      else if (len === 1) out.push(zl.readInt8(dataStart));
      else if (len === 2) out.push(zl.readInt16LE(dataStart));
      else if (len === 3) out.push(zl.readIntLE(dataStart, 3));
      else if (len === 4) out.push(zl.readInt32LE(dataStart));
      else {
        const hi = zl.readInt32LE(dataStart + 4);
        if (hi >= -0x200000 && hi < 0x200000) out.push(hi * 0x100000000 + zl.readUInt32LE(dataStart));
        else out.push(decimalBig(zl.readBigInt64LE(dataStart)));
      }
    }
    prevStart = p;
    prevRaw = dataStart + len - p;
    p = dataStart + len;
    count++;
  }
  if (p !== last) bad('entries do not end at the terminator');
  if (prevStart >= 0 && prevStart !== zl.readUInt32LE(4)) bad('tail offset does not point to the last entry');
  if (headerCount !== 0xffff && headerCount !== count) bad('entry count mismatch');
  return count;
}

/** Entry count of a ziplist, every entry checked as deeply as when decoding. */
export function ziplistCount(zl: Buffer): number {
  const n = kernelCount(CHECK_ZIPLIST, zl);
  return n >= 0 ? n : ziplistDecode(zl, null);
}
