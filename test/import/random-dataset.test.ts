/**
 * Seeded random datasets round-trip exactly: written into a source redis-server with ordinary commands, saved
 * by the server itself, imported with the real `dcs-migrate import` executable into fresh servers (RESTORE path
 * and plain-command path), then compared key by key (type, value, exact expiry, stream groups/PEL) and by
 * DEBUG DIGEST. The seed is in the test name; rerun with SEED=<n> to reproduce.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cliImportAs, IMPORT_MODES, type SavedSource, saveSource } from '../helpers/cli.ts';
import { assertSameData } from '../helpers/compare.ts';
import { runSeed, writeDataset } from '../helpers/random-dataset.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';

const seed = runSeed();

describe(`random dataset round-trip (SEED=${seed})`, { concurrency: 1 }, () => {
  let keys: number;
  let saved: SavedSource;
  const servers: RedisServer[] = [];

  before(async () => {
    const src = await startRedis();
    servers.push(src);
    keys = (await writeDataset(src, { seed, keys: 4000, dbs: 16, big: true })).keys;
    saved = await saveSource(src);
  });
  after(async () => {
    for (const s of servers) await s.stop();
  });

  for (const mode of IMPORT_MODES) {
    test(`imported through RESTORE or commands equals the source (${mode})`, async () => {
      const tgt = await startRedis();
      servers.push(tgt);
      const out = await cliImportAs(mode, saved.rdb, tgt.url);
      assert.equal(out.keys, keys, 'keys acknowledged');
      assert.equal(out.expiredSkipped, 0);
      await assertSameData(saved.snapshot, tgt);
      assert.equal(await tgt.cli('DEBUG', 'DIGEST'), saved.digest);
    });
  }
});
