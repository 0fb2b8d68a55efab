/**
 * Source data covering every value type, binary keys/values and expiries, written with ordinary commands
 * (each line says what it creates). Used by the writer suites to compare a target with the source.
 */
import { Redis } from 'ioredis';
import type { ServerLike } from '../helpers/compare.ts';

export const BIN = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x7b, 0x7d, 0x80, 0x20]);

export async function populate(server: ServerLike, prefix = ''): Promise<void> {
  const r = new Redis({ host: server.host, port: server.port, password: server.password });
  const k = (s: string | Buffer) => Buffer.concat([Buffer.from(prefix), Buffer.from(s)]);
  const future = Date.now() + 3_600_000;
  try {
    await r.set(k('str'), 'hello'); // set str hello
    await r.set(k('int'), '12345'); // int encoding
    await r.set(k(BIN), BIN); // binary key and value
    await r.set(k('ttl'), 'v', 'PXAT', future); // absolute expiry
    await r.set(k('empty'), ''); // empty string
    await r.rpush(k('list'), 'a', BIN, '3'); // listpack list
    await r.rpush(k('biglist'), ...Array.from({ length: 300 }, (_, i) => `item-${i}-${'x'.repeat(i % 70)}`)); // quicklist
    await r.pexpireat(k('biglist'), future + 1);
    await r.sadd(k('intset'), 1, 2, 3, -5); // intset
    await r.sadd(k('set'), 'a', BIN, 'c'); // listpack/hashtable set
    await r.sadd(k('bigset'), ...Array.from({ length: 600 }, (_, i) => `m${i}`)); // hashtable set
    await r.zadd(k('zset'), 1.5, 'a', -2, BIN, 0.1, 'c'); // listpack zset
    await r.call('ZADD', k('zinf'), 'inf', 'top', '-inf', 'bottom', '-0', 'negzero', '1e300', 'huge'); // ±inf, -0
    await r.zadd(k('bigzset'), ...Array.from({ length: 400 }, (_, i) => [i / 7, `z${i}`]).flat()); // skiplist zset
    await r.hset(k('hash'), 'f1', 'v1', BIN, BIN); // listpack hash
    await r.hset(k('bighash'), Object.fromEntries(Array.from({ length: 700 }, (_, i) => [`f${i}`, `v${i}`]))); // hashtable
    // stream with deleted entries, two groups, consumers, PEL
    for (let i = 1; i <= 5; i++) await r.xadd(k('stream'), `${1000 + i}-1`, 'n', String(i), 'bin', BIN);
    await r.xdel(k('stream'), '1002-1');
    await r.xgroup('CREATE', k('stream'), 'g1', '0');
    await r.xgroup('CREATE', k('stream'), 'g2', '$');
    await r.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', 2, 'STREAMS', k('stream'), '>');
    await r.xreadgroup('GROUP', 'g1', 'bob', 'COUNT', 1, 'STREAMS', k('stream'), '>');
    await r.call('XGROUP', 'CREATECONSUMER', k('stream'), 'g2', 'idle-consumer');
    // empty stream with a group (XGROUP CREATE … MKSTREAM)
    await r.xgroup('CREATE', k('emptystream'), 'g', '$', 'MKSTREAM');
    // stream whose entries were all deleted
    await r.xadd(k('drained'), '5-5', 'a', '1');
    await r.xdel(k('drained'), '5-5');
  } finally {
    r.disconnect();
  }
}
