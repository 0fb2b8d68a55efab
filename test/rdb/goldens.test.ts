/**
 * Inline goldens named `<type>_<encoding>_v<rdbver>`: DUMP payloads captured from redis-server 7.0.15 (RDB 10)
 * with the command that made them, wrapped into a one-key RDB file, decoded in every chunking, and the DUMP the
 * decoder rebuilds from the raw bytes must equal Redis' own byte for byte. Plus unit checks of crc64 and the
 * typed errors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Entry, Value } from '../../src/entry.ts';
import { Crc64, crc64, RdbError, RdbParser } from '../../src/rdb/index.ts';
import { chunkings } from '../helpers/feed-chunked.ts';
import { parseChunks, serialize } from '../helpers/rdb-fixtures.ts';

/** REDIS0010 + SELECTDB 0 + <type> <key "k"> <value> + EOF + CRC64 from a DUMP payload. */
function rdbFromDump(dumpHex: string): Buffer {
  const dump = Buffer.from(dumpHex, 'hex');
  const body = Buffer.concat([
    Buffer.from('REDIS0010', 'latin1'),
    Buffer.from([0xfe, 0x00, dump[0], 0x01, 0x6b]),
    dump.subarray(1, dump.length - 10),
    Buffer.from([0xff]),
  ]);
  const crc = Buffer.alloc(8);
  new Crc64().update(body).writeLE(crc, 0);
  return Buffer.concat([body, crc]);
}

const b = (s: string) => Buffer.from(s, 'latin1');

const GOLDENS: { name: string; cmd: string; dump: string; value: Value }[] = [
  {
    name: 'string_raw_v10',
    cmd: 'SET k hello',
    dump: '000568656c6c6f0a006372df766534200a',
    value: { type: 'string', value: b('hello') },
  },
  {
    name: 'string_int16_v10',
    cmd: 'SET k -12345',
    dump: '00c1c7cf0a0067eda236b4db26d0',
    value: { type: 'string', value: b('-12345') },
  },
  {
    name: 'list_quicklist2_v10',
    cmd: 'RPUSH k a 1 -7000 123456789012',
    dump: '1201021a1a00000004008161020101f1a8e403f4141a99be1c00000009ff0a00559edbfd3e11a976',
    value: { type: 'list', items: [b('a'), b('1'), b('-7000'), b('123456789012')] },
  },
  {
    name: 'set_intset_v10',
    cmd: 'SADD k 1 2 -300 70000',
    dump: '0b180400000004000000d4feffff0100000002000000701101000a00ce0bedd980149edc',
    value: { type: 'set', members: [b('-300'), b('1'), b('2'), b('70000')] },
  },
  {
    name: 'set_hashtable_lzf_v10',
    cmd: `SADD k ${'x'.repeat(70)} y`,
    dump: '02020179c3094046017878e039000178780a00601345a91c9faa3a',
    value: { type: 'set', members: [b('y'), b('x'.repeat(70))] },
  },
  {
    name: 'zset_listpack_v10',
    cmd: 'ZADD k 1.5 a -inf b 3 c',
    dump: '111d1d0000000600816202842d696e660581610283312e35048163020301ff0a002970c58fcde6fc31',
    value: { type: 'zset', members: [b('b'), b('a'), b('c')], scores: [Number.NEGATIVE_INFINITY, 1.5, 3] },
  },
  {
    name: 'hash_listpack_v10',
    cmd: 'HSET k f1 v1 f2 22',
    dump: '10151500000004008266310382763103826632031601ff0a00794ee62e9c48a90c',
    value: { type: 'hash', fields: [b('f1'), b('f2')], values: [b('v1'), b('22')] },
  },
  {
    name: 'stream_listpacks2_v10',
    cmd: 'XADD k 1-1 f v',
    dump: '130110000000000000000100000000000000011d1d0000000a0001010001010181660200010201000100018176020401ff0101010101000001000a00ff55ab626ac035db',
    value: {
      type: 'stream',
      entries: [{ id: { ms: 1n, seq: 1n }, fields: [b('f'), b('v')] }],
      meta: {
        length: 1,
        lastId: { ms: 1n, seq: 1n },
        firstId: { ms: 1n, seq: 1n },
        maxDeletedId: { ms: 0n, seq: 0n },
        entriesAdded: 1,
        groups: [],
      },
    },
  },
];

describe('goldens', () => {
  for (const g of GOLDENS) {
    test(`${g.name} (${g.cmd.slice(0, 40)})`, () => {
      const rdb = rdbFromDump(g.dump);
      const { entries } = parseChunks([rdb]);
      assert.equal(entries.length, 1);
      const e = entries[0] as Extract<Entry, { kind: 'key' }>;
      assert.equal(e.kind, 'key');
      assert.deepEqual(e.key, b('k'));
      assert.deepEqual(e.value, g.value);
      const whole = serialize(entries);
      for (const c of chunkings(rdb)) assert.equal(serialize(parseChunks(c.chunks).entries), whole, c.name);
      // The rebuilt DUMP equals Redis' own, byte for byte.
      const dumped = parseChunks([rdb], { dumpable: () => true }).entries[0] as Extract<
        Entry,
        { kind: 'key' }
      >;
      assert.equal(dumped.dump?.toString('hex'), g.dump);
      assert.equal(dumped.value, null);
    });
  }
});

describe('crc64 and errors', () => {
  test('crc64 check value (Jones, reflected)', () => {
    assert.equal(crc64(Buffer.from('123456789')), 0xe9c6d914c4b8d9can);
  });

  test('truncated input is RDB_ERR_TRUNCATED with the offset, never a partial success', () => {
    const rdb = rdbFromDump(GOLDENS[0].dump);
    const p = new RdbParser({ file: 'x.rdb' });
    p.write(rdb.subarray(0, rdb.length - 3));
    assert.throws(
      () => p.end(),
      (e: unknown) =>
        e instanceof RdbError &&
        e.code === 'RDB_ERR_TRUNCATED' &&
        e.where.file === 'x.rdb' &&
        e.where.offset === rdb.length - 3,
    );
  });

  test('checksum mismatch names the offset; a zero checksum disables the check', () => {
    const rdb = rdbFromDump(GOLDENS[0].dump);
    const bad = Buffer.from(rdb);
    bad[bad.length - 1] ^= 1;
    assert.throws(
      () => parseChunks([bad]),
      (e: unknown) => e instanceof RdbError && e.code === 'RDB_ERR_CHECKSUM',
    );
    const zero = Buffer.from(rdb);
    zero.fill(0, zero.length - 8);
    assert.equal(parseChunks([zero]).entries.length, 1);
  });

  test('unknown versions and magic', () => {
    const rdb = rdbFromDump(GOLDENS[0].dump);
    const v99 = Buffer.concat([b('REDIS0099'), rdb.subarray(9)]);
    assert.throws(
      () => parseChunks([v99]),
      (e: unknown) => e instanceof RdbError && e.code === 'RDB_ERR_UNSUPPORTED_VERSION',
    );
    assert.throws(
      () => parseChunks([b('HELLO0010')]),
      (e: unknown) => e instanceof RdbError && e.code === 'RDB_ERR_BAD_MAGIC',
    );
  });

  test('bytes after the end are kept as trailing', () => {
    const rdb = rdbFromDump(GOLDENS[0].dump);
    const { parser } = parseChunks([rdb, b('*1\r\n$4\r\nPING\r\n')]);
    assert.ok(parser.finished);
    assert.equal(parser.trailing.toString('latin1'), '*1\r\n$4\r\nPING\r\n');
  });

  test('skipExpired counts expired keys without emitting them', () => {
    // EXPIRETIME_MS 1000 (1970) before the key.
    const plain = rdbFromDump(GOLDENS[0].dump);
    const body = Buffer.concat([
      plain.subarray(0, 11),
      Buffer.from([0xfc, 0xe8, 0x03, 0, 0, 0, 0, 0, 0]),
      plain.subarray(11, plain.length - 8),
    ]);
    const crc = Buffer.alloc(8);
    new Crc64().update(body).writeLE(crc, 0);
    const rdb = Buffer.concat([body, crc]);
    assert.equal((parseChunks([rdb]).entries[0] as Extract<Entry, { kind: 'key' }>).expireAt, 1000);
    const { entries, parser } = parseChunks([rdb], { skipExpired: true });
    assert.equal(entries.length, 0);
    assert.equal(parser.status().expiredSkipped, 1);
  });
});
