/**
 * Zipmap decoding (Redis 2.x hashes), following redis/src/zipmap.c `zipmapValidateIntegrity()` and
 * `zipmapNext()`: <count><len>field<len><free>value[free bytes]...<0xff>; lengths are 1 byte (< 254) or 254 + u32.
 */
import { ZIPMAP_BIGLEN, ZIPMAP_END } from '../constants.ts';
import { RdbError } from '../errors.ts';

function bad(msg: string): never {
  throw new RdbError('RDB_ERR_ZIPMAP', `zipmap integrity check failed: ${msg}`);
}

/** Decode field/value pairs into `out` (field, value, field, value…); returns the pair count. */
export function zipmapDecode(zm: Buffer, out: Buffer[]): number {
  if (zm.length < 2) bad('too short');
  const last = zm.length - 1;
  if (zm[last] !== ZIPMAP_END) bad('missing terminator');
  let p = 1;
  let count = 0;
  const readLen = (): number => {
    if (p > last) bad('entry outside the blob');
    const b = zm[p];
    if (b < ZIPMAP_BIGLEN) {
      p += 1;
      return b;
    }
    if (b === ZIPMAP_END) bad('unexpected terminator');
    if (p + 5 > last) bad('entry outside the blob');
    const l = zm.readUInt32LE(p + 1);
    p += 5;
    return l;
  };
  while (p < last && zm[p] !== ZIPMAP_END) {
    const flen = readLen();
    if (p + flen > last) bad('entry outside the blob');
    const field = zm.subarray(p, p + flen);
    p += flen;
    const vlen = readLen();
    if (p > last) bad('entry outside the blob');
    const free = zm[p++];
    if (p + vlen + free > last) bad('entry outside the blob');
    out.push(field, zm.subarray(p, p + vlen));
    p += vlen + free;
    count++;
  }
  if (p !== last) bad('entries do not end at the terminator');
  if (count === 0) bad('empty zipmap');
  if (zm[0] !== ZIPMAP_BIGLEN && zm[0] !== count) bad('pair count mismatch');
  return count;
}
