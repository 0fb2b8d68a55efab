/**
 * A key's DUMP payload (type byte, serialized value, RDB version, CRC-64, as DUMP returns it) decoded into entries
 * as a file's would be, for a target that cannot RESTORE it (an encoding newer than it knows, RESTORE refused): the
 * writer then rewrites them into commands. The payload is wrapped into a one-key RDB for the streaming parser, so
 * every type, check and error is the decoder's own; its CRC-64 is verified first.
 */
import type { Entry } from '../entry.ts';
import { printableKey } from '../errors.ts';
import { Crc64 } from './crc64.ts';
import { lengthSize, writeLength } from './encodings/length.ts';
import { RdbError } from './errors.ts';
import { RdbParser } from './parser.ts';

const FOOTER = 10; // RDB version (u16) + CRC-64

/** The entries of `key` (in `db`, expiring at `expireAt`, 0 = never) whose DUMP payload is `dump`. */
export function decodeDump(key: Buffer, dump: Buffer, db: number, expireAt: number): Entry[] {
  const where = { db, key: printableKey(key) };
  if (dump.length < 1 + FOOTER)
    throw new RdbError('RDB_ERR_TRUNCATED', 'DUMP payload shorter than its footer', where);
  const crcAt = dump.length - 8;
  if (!new Crc64().update(dump, 0, crcAt).equalsLE(dump, crcAt)) {
    throw new RdbError('RDB_ERR_CHECKSUM', 'DUMP payload checksum mismatch', where);
  }
  const ver = dump.readUInt16LE(dump.length - FOOTER);
  const magic = ver >= 80 ? `VALKEY${String(ver).padStart(3, '0')}` : `REDIS${String(ver).padStart(4, '0')}`;
  const body = dump.subarray(1, dump.length - FOOTER);
  // magic, type, key, value, EOF, a zero checksum (not verified: the payload's own was).
  const rdb = Buffer.alloc(magic.length + 1 + lengthSize(key.length) + key.length + body.length + 9);
  let at = rdb.write(magic, 'latin1');
  rdb[at++] = dump[0];
  at = writeLength(rdb, at, key.length);
  at += key.copy(rdb, at);
  at += body.copy(rdb, at);
  rdb[at] = 0xff;
  const parser = new RdbParser({ dumpable: () => false });
  let entries: Entry[];
  try {
    entries = parser.write(rdb);
    entries.push(...parser.end());
  } catch (err) {
    if (!(err instanceof RdbError)) throw err;
    throw new RdbError(err.code, `DUMP payload: ${err.bare}`, where, { cause: err });
  }
  for (const e of entries) {
    if (e.kind === 'key') {
      e.db = db;
      e.expireAt = expireAt;
    } else if (e.kind === 'chunk') e.db = db;
  }
  return entries;
}
