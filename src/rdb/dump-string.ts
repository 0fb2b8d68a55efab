/**
 * The value inside a string's DUMP payload (`<RDB_TYPE_STRING><encoded string><rdbver u16><crc64 u64>`), for a
 * writer that sets plain strings with a command (MSET) instead of RESTORE: `stringDumpLength` says how long the
 * value is, `writeStringDump` writes its bytes (raw copied, INT8/16/32 as their decimal text, LZF expanded), as
 * redis/src/rdb.c `rdbGenericLoadStringObject()` loads them.
 */
import { RDB_TYPE_STRING } from './constants.ts';
import { Crc64 } from './crc64.ts';
import { lengthSize, writeLength } from './encodings/length.ts';
import { lzfDecompressInto } from './encodings/lzf.ts';
import {
  decimalLength,
  parseStringHeader,
  readEncodedInt,
  STR_INT,
  STR_LZF,
  type StringHeader,
  writeDecimal,
} from './encodings/string.ts';

/** Bytes of a DUMP payload after the encoded value: RDB version (2) and CRC-64 (8). */
const FOOTER = 10;

const h: StringHeader = { kind: 0, headerSize: 0, payloadSize: 0, rawLen: 0 };

/**
 * Reads the header of the string encoded in `dump[at, at+len)` into `h`; false when that is not a string DUMP
 * payload whose encoding fills it exactly (such a dump is left to RESTORE, whose checks judge it).
 */
function header(dump: Buffer, at: number, len: number): boolean {
  if (len < 1 + 1 + FOOTER || dump[at] !== RDB_TYPE_STRING) return false;
  const from = at + 1;
  const end = at + len - FOOTER;
  try {
    if (parseStringHeader(dump, from, end - from, h) !== 0) return false;
  } catch {
    return false;
  }
  return from + h.headerSize + h.payloadSize === end;
}

/** Length of the value in the string DUMP payload at `dump[at, at+len)`, or -1 when it is not one. */
export function stringDumpLength(dump: Buffer, at: number, len: number): number {
  if (!header(dump, at, len)) return -1;
  if (h.kind !== STR_INT) return h.rawLen;
  const start = at + 1 + h.headerSize;
  return decimalLength(readEncodedInt(dump, start, h.payloadSize));
}

/**
 * Writes the value of the string DUMP payload at `dump[at, at+len)` (one `stringDumpLength` accepted) at
 * `out[outAt]`; returns the offset after it. Throws RDB_ERR_LZF for a corrupt compressed value.
 */
export function writeStringDump(dump: Buffer, at: number, len: number, out: Buffer, outAt: number): number {
  header(dump, at, len);
  const start = at + 1 + h.headerSize;
  if (h.kind === STR_LZF) {
    lzfDecompressInto(dump, start, start + h.payloadSize, out, outAt, h.rawLen);
    return outAt + h.rawLen;
  }
  if (h.kind === STR_INT) return writeDecimal(out, outAt, readEncodedInt(dump, start, h.payloadSize));
  const n = h.rawLen;
  if (n < 64) for (let i = 0; i < n; i++) out[outAt + i] = dump[start + i];
  else dump.copy(out, outAt, start, start + n);
  return outAt + n;
}

/**
 * A DUMP payload of the string `value` as RDB version `rdbVersion` writes it (length-prefixed raw bytes), for a
 * target that takes RESTORE but refuses the MSET a value was meant for.
 */
export function stringDumpOf(value: Buffer, rdbVersion: number): Buffer {
  const n = value.length;
  const out = Buffer.allocUnsafe(1 + lengthSize(n) + n + FOOTER);
  out[0] = RDB_TYPE_STRING;
  const at = writeLength(out, 1, n);
  value.copy(out, at);
  const end = at + n;
  out.writeUInt16LE(rdbVersion, end);
  new Crc64().update(out, 0, end + 2).writeLE(out, end + 2);
  return out;
}
