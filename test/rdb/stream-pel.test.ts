/**
 * Stream PELs: Redis saves a group's PEL in id order, and the decoder finds consumers' entries in it by binary
 * search. A file with the PEL out of order (Redis loads it all the same) takes the map path and still gives every
 * entry its owner; a duplicated entry is refused as Redis refuses it. The files are a real server's DUMP of a
 * stream, framed as an RDB, with PEL entries swapped or overwritten in place.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { RdbError } from '../../src/rdb/index.ts';
import { mergeKeys, parseChunks } from '../helpers/rdb-fixtures.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';

/** 16-byte raw stream id (big-endian ms, seq), as PELs store them. */
const rawId = (ms: number, seq: number) => {
  const b = Buffer.alloc(16);
  b.writeBigUInt64BE(BigInt(ms), 0);
  b.writeBigUInt64BE(BigInt(seq), 8);
  return b;
};

/** An RDB file (checksum disabled) holding key "s" with the value of a DUMP payload. */
function rdbOf(dump: Buffer, rdbVersion: number): Buffer {
  const value = dump.subarray(0, dump.length - 10); // type byte + value; then 2-byte version + CRC
  return Buffer.concat([
    Buffer.from(`REDIS${String(rdbVersion).padStart(4, '0')}`),
    Buffer.from([0xfe, 0x00, value[0], 0x01, 0x73]),
    value.subarray(1),
    Buffer.from([0xff]),
    Buffer.alloc(8),
  ]);
}

describe('stream PEL order', () => {
  let server: RedisServer;
  let dump: Buffer;
  /** Offset of the group PEL's first entry (id 1-1) in the value, and each entry's size there. */
  let pelAt: number;
  const ENTRY = 16 + 8 + 1;

  before(async () => {
    server = await startRedis();
    const r = new Redis({ host: server.host, port: server.port, lazyConnect: true });
    await r.connect();
    try {
      for (let i = 1; i <= 4; i++) await r.xadd('s', `${i}-1`, 'f', `v${i}`);
      await r.xgroup('CREATE', 's', 'g', '0');
      await r.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 2, 'STREAMS', 's', '>');
      await r.xreadgroup('GROUP', 'g', 'bob', 'COUNT', 2, 'STREAMS', 's', '>');
      dump = (await r.dumpBuffer('s')) as Buffer;
    } finally {
      r.disconnect();
    }
    // The node key (first entry's id, a 16-byte string) comes first; the group PEL's raw ids after it.
    const first = dump.indexOf(rawId(1, 1));
    pelAt = dump.indexOf(rawId(1, 1), first + 16);
    assert.ok(first > 0 && pelAt > first, 'PEL found in the DUMP payload');
    for (let i = 0; i < 4; i++) {
      assert.deepEqual(dump.subarray(pelAt + i * ENTRY, pelAt + i * ENTRY + 16), rawId(i + 1, 1));
    }
  });
  after(async () => {
    await server.stop();
  });

  const version = () => dump.readUInt16LE(dump.length - 10);
  const decode = (d: Buffer) =>
    mergeKeys(parseChunks([rdbOf(d, version())], { dumpable: () => false }).entries);

  test('in order (as saved): owners from the consumers PELs', () => {
    const [k] = decode(dump);
    const pending = [...(k.stream?.meta?.groups[0].pending ?? [])];
    assert.deepEqual(
      pending.map((p) => `${p.id.ms}-${p.id.seq}:${p.consumer}`),
      ['1-1:alice', '2-1:alice', '3-1:bob', '4-1:bob'],
    );
  });

  test('out of order: the same owners, in file order', () => {
    const d = Buffer.from(dump);
    const a = Buffer.from(d.subarray(pelAt + 2 * ENTRY, pelAt + 3 * ENTRY));
    d.copy(d, pelAt + 2 * ENTRY, pelAt, pelAt + ENTRY); // 3-1's slot gets 1-1
    a.copy(d, pelAt); // and 1-1's slot 3-1
    const [k] = decode(d);
    const pending = [...(k.stream?.meta?.groups[0].pending ?? [])];
    assert.deepEqual(
      pending.map((p) => `${p.id.ms}-${p.id.seq}:${p.consumer}`),
      ['3-1:bob', '2-1:alice', '1-1:alice', '4-1:bob'],
    );
  });

  test('a duplicated entry is refused', () => {
    const d = Buffer.from(dump);
    rawId(2, 1).copy(d, pelAt + 2 * ENTRY); // 1-1, 2-1, 2-1, 4-1
    assert.throws(
      () => decode(d),
      (e: unknown) => e instanceof RdbError && /duplicated global PEL entry/.test(e.message),
    );
  });
});
