/**
 * A target that refuses RESTORE (an ACL user without it, or a server where rename-command removed it) still gets
 * every key, exactly, as plain commands: the writer asks the target once whether it runs RESTORE at all and, when
 * not, the import goes the command path from the first key and says so. The RDB holds every type (seeded random
 * dataset with TTLs, streams with groups, several dbs).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cliImport, runCli, saveSource } from '../helpers/cli.ts';
import { assertSameData, type Snapshot } from '../helpers/compare.ts';
import { writeDataset } from '../helpers/random-dataset.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';

/** `INFO commandstats` as command → calls (and rejected calls under `<command>:rejected`). */
async function commandStats(s: RedisServer): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await s.cli('INFO', 'commandstats')).matchAll(
    /^cmdstat_([^:]+):calls=(\d+).*?rejected_calls=(\d+)/gm,
  )) {
    out[m[1]] = Number(m[2]);
    out[`${m[1]}:rejected`] = Number(m[3]);
  }
  return out;
}

describe('a target that refuses RESTORE gets plain commands', { concurrency: 1 }, () => {
  let keys: number;
  let rdb: string;
  let snapshot: Snapshot;
  let digest: string;
  const servers: RedisServer[] = [];

  before(async () => {
    const src = await startRedis();
    servers.push(src);
    keys = (await writeDataset(src, { seed: 11, keys: 800, dbs: 3 })).keys;
    ({ rdb, snapshot, digest } = await saveSource(src));
  });
  after(async () => {
    for (const s of servers) await s.stop();
  });

  test('an ACL user without RESTORE', async () => {
    const tgt = await startRedis();
    servers.push(tgt);
    await tgt.cli('ACL', 'SETUSER', 'norestore', 'on', '>pw', '~*', '&*', '+@all', '-restore');
    await tgt.cli('CONFIG', 'RESETSTAT');
    const r = await runCli([
      'import',
      rdb,
      '--target',
      `redis://norestore:pw@${tgt.host}:${tgt.port}`,
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /the target refuses RESTORE \(ACL or rename-command\): every key is written as plain commands/,
    );
    assert.equal(JSON.parse(r.stdout).keys, keys);
    await assertSameData(snapshot, tgt);
    assert.equal(await tgt.cli('DEBUG', 'DIGEST'), digest);
    const stats = await commandStats(tgt);
    // The one probe, refused before it ran; nothing else tried RESTORE.
    assert.equal(stats.restore ?? 0, 0);
    assert.equal(stats['restore:rejected'], 1);
    assert.ok((stats.hset ?? 0) > 0 && (stats.xadd ?? 0) > 0, JSON.stringify(stats));
  });

  test('a server where RESTORE is renamed away', async () => {
    const tgt = await startRedis({ args: ['--rename-command', 'RESTORE', ''] });
    servers.push(tgt);
    const out = await cliImport([rdb, '--target', tgt.url]);
    assert.equal(out.keys, keys);
    await assertSameData(snapshot, tgt);
    assert.equal(await tgt.cli('DEBUG', 'DIGEST'), digest);
  });

  test('a target that runs RESTORE is not told otherwise', async () => {
    const tgt = await startRedis();
    servers.push(tgt);
    await tgt.cli('ACL', 'SETUSER', 'somekeys', 'on', '>pw', '~nothing-of-this*', '+@all');
    // A key ACL that matches no key of the file: RESTORE is allowed as a command, so the probe does not conclude
    // otherwise, and the import fails on the first key with the key permission error.
    const r = await runCli(['import', rdb, '--target', `redis://somekeys:pw@${tgt.host}:${tgt.port}`]);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /refuses RESTORE/);
    assert.match(r.stderr, /NOPERM/);
    await tgt.cli('CONFIG', 'RESETSTAT');
    const ok = await cliImport([rdb, '--target', tgt.url]);
    assert.equal(ok.keys, keys);
    const stats = await commandStats(tgt);
    assert.ok((stats.restore ?? 0) > 0, 'RESTORE used');
  });
});
