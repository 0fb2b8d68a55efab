/**
 * A seeded random dataset with big keys (collections of 60,000 elements, 3 MB strings), saved by a standalone
 * server, imported with the real `dcs-migrate import` into a fresh 3-master Redis Cluster through both paths
 * (RESTORE and MSET where the target takes them, plain commands with `--no-restore`): keys routed by slot, big values
 * chunked, every key equal to the source's across the masters. Rerun with SEED=<n> to reproduce.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cliImportAs, IMPORT_MODES, type SavedSource, saveSource } from '../helpers/cli.ts';
import { assertSameData, dataOfAll } from '../helpers/compare.ts';
import { runSeed, writeDataset } from '../helpers/random-dataset.ts';
import { type RedisServer, startCluster, startRedis } from '../helpers/redis-server.ts';

const seed = runSeed();

describe(`random dataset into a cluster (SEED=${seed})`, { concurrency: 1 }, () => {
  let src: RedisServer;
  let keys: number;
  let saved: SavedSource;

  before(async () => {
    src = await startRedis();
    const opts = { seed, keys: 3000, dbs: 1, big: true, bigElements: 60_000, bigStringBytes: 3 << 20 };
    keys = (await writeDataset(src, opts)).keys;
    saved = await saveSource(src);
  });
  after(async () => {
    await src.stop();
  });

  for (const mode of IMPORT_MODES) {
    test(`through ${mode === 'restore' ? 'RESTORE' : 'plain commands'}`, async () => {
      const cluster = await startCluster(3);
      try {
        const out = await cliImportAs(mode, saved.rdb, `redis://${cluster.addrs}`);
        assert.equal(out.keys, keys);
        await assertSameData(saved.snapshot, await dataOfAll(cluster.nodes));
      } finally {
        await cluster.stop();
      }
    });
  }
});
