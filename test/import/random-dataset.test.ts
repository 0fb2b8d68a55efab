/**
 * Seeded random datasets round-trip exactly: written into a source redis-server with ordinary commands, saved
 * by the server itself, imported with the real `dcs-migrate import` executable into fresh servers (RESTORE path
 * and plain-command path), then compared key by key (type, value, exact expiry, stream groups/PEL) and by
 * DEBUG DIGEST. The seed is in the test name; rerun with SEED=<n> to reproduce.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliImport } from '../helpers/cli.ts';
import { assertSameData, dataOf, type Snapshot } from '../helpers/compare.ts';
import { runSeed, writeDataset } from '../helpers/random-dataset.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';

const seed = runSeed();

describe(`random dataset round-trip (SEED=${seed})`, { concurrency: 1 }, () => {
  let src: RedisServer;
  let rdb: string;
  let keys: number;
  let snapshot: Snapshot;
  let digest: string;
  const servers: RedisServer[] = [];

  before(async () => {
    src = await startRedis();
    servers.push(src);
    const summary = await writeDataset(src, { seed, keys: 4000, dbs: 16, big: true });
    keys = summary.keys;
    assert.equal(await src.cli('SAVE'), 'OK');
    rdb = join(src.dir, 'dump.rdb');
    snapshot = await dataOf(src);
    digest = await src.cli('DEBUG', 'DIGEST');
  });
  after(async () => {
    for (const s of servers) await s.stop();
  });

  for (const mode of ['restore', 'commands'] as const) {
    test(`imported through RESTORE or commands equals the source (${mode})`, async () => {
      const tgt = await startRedis();
      servers.push(tgt);
      const out = await cliImport([
        rdb,
        '--target',
        tgt.url,
        ...(mode === 'commands' ? ['--no-restore'] : []),
      ]);
      assert.equal(out.keys, keys, 'keys acknowledged');
      assert.equal(out.expiredSkipped, 0);
      await assertSameData(snapshot, tgt);
      assert.equal(await tgt.cli('DEBUG', 'DIGEST'), digest);
    });
  }
});
