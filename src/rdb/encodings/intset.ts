/**
 * Intset decoding, following redis/src/intset.c `intsetValidateIntegrity()` (encoding 2/4/8, size matches the
 * length, not empty, strictly ascending) and `_intsetGet()` (little-endian members).
 */
import { INTSET_ENC_INT16, INTSET_ENC_INT32, INTSET_ENC_INT64 } from '../constants.ts';
import { RdbError } from '../errors.ts';
import { CHECK_INTSET, kernelCount } from '../kernel.ts';
import type { Item } from './listpack.ts';
import { decimalBig } from './string.ts';

function bad(msg: string): never {
  throw new RdbError('RDB_ERR_INTSET', `intset integrity check failed: ${msg}`);
}

function checkHeader(is: Buffer): number {
  if (is.length < 8) bad('too short');
  const enc = is.readUInt32LE(0);
  if (enc !== INTSET_ENC_INT16 && enc !== INTSET_ENC_INT32 && enc !== INTSET_ENC_INT64)
    bad(`encoding ${enc}`);
  const count = is.readUInt32LE(4);
  if (8 + count * enc !== is.length) bad('size does not match the length');
  if (count === 0) bad('empty intset');
  return count;
}

/**
 * Decode every member into `out` (numbers, or decimal bytes beyond 2^53), or with `out` null only check them;
 * returns the member count.
 */
export function intsetDecode(is: Buffer, out: Item[] | null): number {
  const count = checkHeader(is);
  const enc = is.readUInt32LE(0);
  let prev = Number.NEGATIVE_INFINITY;
  // 64-bit members compare as (signed high half, unsigned low half): no BigInt per member.
  let prevHi = Number.NEGATIVE_INFINITY;
  let prevLo = 0;
  for (let i = 0, p = 8; i < count; i++, p += enc) {
    if (enc === INTSET_ENC_INT16 || enc === INTSET_ENC_INT32) {
      const v = enc === INTSET_ENC_INT16 ? is.readInt16LE(p) : is.readInt32LE(p);
      if (v <= prev) bad('members not strictly ascending');
      prev = v;
      out?.push(v);
    } else {
      const hi = is.readInt32LE(p + 4);
      const lo = is.readUInt32LE(p);
      if (hi < prevHi || (hi === prevHi && lo <= prevLo)) bad('members not strictly ascending');
      prevHi = hi;
      prevLo = lo;
      if (out === null) continue;
      if (hi >= -0x200000 && hi < 0x200000) out.push(hi * 0x100000000 + lo);
      else out.push(decimalBig(is.readBigInt64LE(p)));
    }
  }
  return count;
}

/** Member count of an intset, checked as deeply as when decoding. */
export function intsetCount(is: Buffer): number {
  const n = kernelCount(CHECK_INTSET, is);
  return n >= 0 ? n : intsetDecode(is, null);
}
