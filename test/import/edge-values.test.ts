/**
 * Values at the edges of every encoding, written with ordinary commands into a source redis-server, saved by it, and
 * imported with the real `dcs-migrate import` (RESTORE path and plain-command path): integer-looking strings around
 * int64 and the shared-integer range, embstr/raw boundaries, empty keys and values, a 100 KB key name, zset scores
 * at the limits of a double (±0, denormals, ±inf, 17 significant digits), intsets crossing 16/32/64-bit widths,
 * plain list nodes between packed ones, trimmed streams with XSETID (entries-added, max-deleted-id), groups with
 * entries-read, a stream emptied by XDEL, a function library, non-contiguous dbs, and keys already expired in the
 * file (kept there by turning active expiry off). Compared key by key, by DEBUG DIGEST and FUNCTION LIST.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { cliImportAs, IMPORT_MODES, saveSource } from '../helpers/cli.ts';
import { assertSameData, type Snapshot } from '../helpers/compare.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';

const INTISH = [
  '',
  '0',
  '-0',
  '007',
  ' 1',
  '1 ',
  '+1',
  '9999',
  '10000',
  '-1',
  '127',
  '128',
  '-128',
  '-129',
  '32767',
  '32768',
  '-32768',
  '-32769',
  '2147483647',
  '2147483648',
  '-2147483648',
  '-2147483649',
  '9223372036854775807',
  '-9223372036854775808',
  '9223372036854775808',
  '-9223372036854775809',
  '12345678901234567890123',
  '1e10',
  'nan',
  '0x10',
];

const SCORES = [
  '0',
  '-0',
  '5e-324',
  '-5e-324',
  '2.2250738585072014e-308',
  '1.7976931348623157e308',
  '-1.7976931348623157e308',
  '+inf',
  '-inf',
  '0.1',
  '0.30000000000000004',
  '0.3333333333333333',
  '1e-300',
  '123456789012345680000',
  '9007199254740993',
];

const LIB =
  "#!lua name=edgelib\nredis.register_function('edge_echo', function(keys, args) return args[1] end)";

async function writeEdges(r: Redis): Promise<{ live: number; expired: number }> {
  let live = 0;
  const set = async (k: Buffer | string, v: Buffer | string) => {
    await r.set(k, v);
    live++;
  };
  await r.select(0);
  for (const [i, v] of INTISH.entries()) await set(`int:${i}`, v);
  for (const n of [0, 1, 39, 44, 45, 46, 63, 64, 65]) await set(`len:${n}`, 'e'.repeat(n));
  await set('', 'the empty key');
  await set(Buffer.from([0, 13, 10, 0xff]), Buffer.from([0, 13, 10, 0xff, 0]));
  await set(Buffer.alloc(100_000, 'k'), 'a 100 KB key name');
  await set('lzf:small', 'ab'.repeat(12)); // too short for LZF
  await set('lzf:big', 'ab'.repeat(5000));
  await r.set('ttl:ms', 'v', 'PX', 86_400_123);
  await r.set('ttl:2100', 'far');
  await r.pexpireat('ttl:2100', 4_102_444_800_123);
  live += 2;

  await r.zadd('zset:small', ...SCORES.flatMap((s, i) => [s, `m${i}`]));
  await r.zadd('zset:big', ...SCORES.flatMap((s, i) => [s, `m${i}`]));
  await r.zadd('zset:big', ...Array.from({ length: 200 }, (_, i) => [String(i / 7), `x${i}`]).flat());
  await r.hset('hash:small', ...INTISH.flatMap((v, i) => [v || `empty${i}`, v]));
  await r.hset('hash:empty-field', '', '', 'f', '');
  await r.hset(
    'hash:big',
    ...Array.from({ length: 300 }, (_, i) => [INTISH[i % INTISH.length] + i, String(i)]).flat(),
  );
  await r.sadd('set:int16', 1, -32768, 32767);
  await r.sadd('set:int32', 1, 32768, -2147483648);
  await r.sadd('set:int64', 1, '9223372036854775807', '-9223372036854775808');
  await r.sadd('set:mixed', 1, '-0', '007', '');
  await r.rpush('list:ints', ...INTISH);
  await r.rpush('list:plain', 'a', 'b', 'x'.repeat(9000), 'c', 'y'.repeat(70_000), '', 'd');
  live += 11;

  await r.select(5);
  await r.xadd('stream:trimmed', 'MAXLEN', '3', '1-1', 'f', 'v1');
  for (let i = 2; i <= 8; i++) await r.xadd('stream:trimmed', 'MAXLEN', '3', `${i}-1`, 'f', `v${i}`, 'g', '');
  await r.xdel('stream:trimmed', '7-1');
  await r.call('XSETID', 'stream:trimmed', '100-5', 'ENTRIESADDED', '50', 'MAXDELETEDID', '90-0');
  await r.xgroup('CREATE', 'stream:trimmed', 'readers', '0', 'ENTRIESREAD', '4');
  await r.xreadgroup('GROUP', 'readers', 'alice', 'COUNT', '1', 'STREAMS', 'stream:trimmed', '>');
  await r.call('XGROUP', 'CREATECONSUMER', 'stream:trimmed', 'readers', 'idle-bob');
  await r.xgroup('CREATE', 'stream:trimmed', 'late', '$');
  await r.xadd('stream:emptied', '5-5', 'f', 'v');
  await r.xdel('stream:emptied', '5-5');
  await r.xgroup('CREATE', 'stream:emptied', 'g', '0');
  live += 2;

  await r.select(15);
  await set('db15', 'last db');

  // Expired in the file: written with a short TTL while active expiry is off, so SAVE keeps them.
  await r.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  await r.select(0);
  const expired = 5;
  for (let i = 0; i < expired; i++) await r.set(`expired:${i}`, 'gone', 'PX', 1);
  await r.hset('expired:hash', 'f', 'v');
  await r.pexpire('expired:hash', 1);
  await new Promise((res) => setTimeout(res, 20));

  await r.call('FUNCTION', 'LOAD', LIB);
  return { live, expired: expired + 1 };
}

describe('edge values round-trip exactly', { concurrency: 1 }, () => {
  let src: RedisServer;
  let rdb: string;
  let counts: { live: number; expired: number };
  let snapshot: Snapshot;
  let digest: string;
  let functions: string;
  const servers: RedisServer[] = [];

  before(async () => {
    src = await startRedis();
    servers.push(src);
    const r = new Redis({ host: src.host, port: src.port });
    try {
      counts = await writeEdges(r);
    } finally {
      r.disconnect();
    }
    // Reading the source after SAVE expires what expired (SCAN skips it): the snapshot holds the live keys only.
    ({ rdb, snapshot, digest } = await saveSource(src));
    functions = await src.cli('FUNCTION', 'LIST', 'WITHCODE');
    assert.equal(
      [...snapshot.values()].reduce((n, keys) => n + keys.size, 0),
      counts.live,
    );
  });
  after(async () => {
    for (const s of servers) await s.stop();
  });

  for (const mode of IMPORT_MODES) {
    test(`through ${mode === 'restore' ? 'RESTORE and MSET' : 'plain commands'}`, async () => {
      const tgt = await startRedis();
      servers.push(tgt);
      const out = await cliImportAs(mode, rdb, tgt.url);
      assert.equal(out.keys, counts.live, 'keys acknowledged');
      assert.equal(out.expiredSkipped, counts.expired, 'keys expired in the file skipped and counted');
      await assertSameData(snapshot, tgt);
      assert.equal(await tgt.cli('DEBUG', 'DIGEST'), digest);
      assert.equal(await tgt.cli('FUNCTION', 'LIST', 'WITHCODE'), functions);
    });
  }
});
