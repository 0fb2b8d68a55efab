/**
 * A stream whose consumer groups hold hundreds of thousands of pending entries (consumers that never XACK leave
 * such PELs) goes through the command path exactly: every PEL entry with its owner, delivery time and delivery
 * count, whatever runs of them share those. Compared with the source by XINFO STREAM FULL (assertSameData).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { cliImport } from '../helpers/cli.ts';
import { assertSameData, dataOf, type Snapshot } from '../helpers/compare.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';

const ENTRIES = 150_000;

describe('stream with big PELs through the command path', { concurrency: 1 }, () => {
  let src: RedisServer;
  let rdb: string;
  let snapshot: Snapshot;
  const servers: RedisServer[] = [];

  before(async () => {
    src = await startRedis();
    servers.push(src);
    const r = new Redis({ host: src.host, port: src.port, lazyConnect: true });
    await r.connect();
    try {
      for (let i = 0; i < ENTRIES; i += 5000) {
        const p = r.pipeline();
        for (let j = i; j < i + 5000; j++) p.xadd('s', `${1_000_000 + j}-${j % 3}`, 'n', String(j));
        await p.exec();
      }
      // g1: two consumers take all entries in reads of different sizes (runs of one owner and delivery time);
      // every 7th entry is then claimed back by the first with its own retry count and delivery time, every 11th
      // acknowledged: runs break at every kind of boundary.
      await r.xgroup('CREATE', 's', 'g1', '0');
      for (const [c, n] of [
        ['alice', 60_000],
        ['bob', 1],
        ['bob', 40_000],
        ['alice', 49_999],
      ] as const) {
        await r.xreadgroup('GROUP', 'g1', c, 'COUNT', n, 'STREAMS', 's', '>');
      }
      const ids = (await r.xrange('s', '-', '+')).map(([id]) => id);
      const claim = r.pipeline();
      const ack = r.pipeline();
      for (let j = 0; j < ids.length; j++) {
        if (j % 7 === 0)
          claim.xclaim(
            's',
            'g1',
            'alice',
            0,
            ids[j],
            'TIME',
            1_700_000_000_000 + j,
            'RETRYCOUNT',
            2 + (j % 5),
          );
        if (j % 11 === 0) ack.xack('s', 'g1', ids[j]);
      }
      await claim.exec();
      await ack.exec();
      // g2: one reader of everything; g3: an idle consumer and no PEL.
      await r.xgroup('CREATE', 's', 'g2', '0');
      await r.xreadgroup('GROUP', 'g2', 'carol', 'COUNT', ENTRIES, 'STREAMS', 's', '>');
      await r.xgroup('CREATE', 's', 'g3', '$');
      await r.call('XGROUP', 'CREATECONSUMER', 's', 'g3', 'dave');
      const pending = (await r.xpending('s', 'g1')) as [number, ...unknown[]];
      assert.ok(pending[0] > 130_000, `g1 has ${pending[0]} pending entries`);
    } finally {
      r.disconnect();
    }
    assert.equal(await src.cli('SAVE'), 'OK');
    rdb = join(src.dir, 'dump.rdb');
    snapshot = await dataOf(src);
  });
  after(async () => {
    for (const s of servers) await s.stop();
  });

  test('imported with plain commands, PELs equal the source', async () => {
    const tgt = await startRedis();
    servers.push(tgt);
    const out = await cliImport([rdb, '--target', tgt.url, '--no-restore']);
    assert.equal(out.keys, 1);
    await assertSameData(snapshot, tgt);
  });
});
