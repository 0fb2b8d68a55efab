/**
 * decodeDump (a DUMP payload the target cannot RESTORE, decoded by the parser) gives, for every key of every
 * fixture whose values decode, the same value as decoding the file itself: type, every element, field TTLs, stream
 * entries and groups. The payloads are the parser's own dumps of the file (as `DUMP` on a server of that version
 * would give them); a changed byte or a cut payload fails naming the key and db.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Entry, KeyEntry } from '../../src/entry.ts';
import { decodeDump, RdbError } from '../../src/rdb/index.ts';
import {
  fixture,
  KNOWN_BAD,
  mergeKeys,
  parseChunks,
  rdbFixtures,
  serialize,
} from '../helpers/rdb-fixtures.ts';

/** The merged keys of `entries` without the fields a dump does not carry (idle, freq, dump). */
function values(entries: Entry[]): string {
  return serialize(
    mergeKeys(entries).map((k) => ({ ...k, idle: -1, freq: -1, dump: null, rdbType: 0, pieces: 0 })) as never,
  );
}

test('decodeDump gives the values the file decodes to, for every fixture key', () => {
  let keys = 0;
  let files = 0;
  for (const rel of rdbFixtures()) {
    if (KNOWN_BAD[rel]) continue;
    const input = fixture(rel);
    let decoded: Entry[];
    let dumped: Entry[];
    try {
      decoded = parseChunks([input]).entries;
      dumped = parseChunks([input], { dumpable: () => true }).entries;
    } catch (e) {
      if (e instanceof RdbError) continue; // files the decoder rejects (quirks listed in the manifest)
      throw e;
    }
    const fromDumps: Entry[] = [];
    let usable = true;
    for (const e of dumped) {
      if (e.kind !== 'key') continue;
      if (e.dump === null || e.type === 'module') {
        usable = false; // a value bigger than the dump bound, or a module: nothing to compare
        break;
      }
      fromDumps.push(...decodeDump(e.key, e.dump, e.db, e.expireAt));
    }
    if (!usable) continue;
    const want = decoded.filter((e) => e.kind === 'key' || e.kind === 'chunk');
    assert.equal(values(fromDumps), values(want), rel);
    keys += mergeKeys(want).length;
    files++;
  }
  assert.ok(files > 150 && keys > 100_000, `${files} files, ${keys} keys compared`);
});

test('a damaged or cut DUMP payload fails naming the key and db', () => {
  const { entries } = parseChunks([fixture('valkey/encodings.rdb')], { dumpable: () => true });
  const e = entries.find((x): x is KeyEntry => x.kind === 'key' && x.dump !== null && x.dump.length > 40);
  assert.ok(e?.dump);
  const flipped = Buffer.from(e.dump);
  flipped[5] ^= 0x10;
  for (const [dump, code] of [
    [flipped, 'RDB_ERR_CHECKSUM'],
    [e.dump.subarray(0, 8), 'RDB_ERR_TRUNCATED'],
  ] as const) {
    assert.throws(
      () => decodeDump(e.key, dump, 3, 0),
      (err: unknown) =>
        err instanceof RdbError &&
        err.code === code &&
        err.where.db === 3 &&
        err.where.key === e.key.toString(),
    );
  }
});
