/**
 * The `dcs-migrate import` executable as a user runs it: the summary, exit codes, and a clear error on stderr for
 * each kind of bad input (missing or corrupt file, wrong password, unreachable target, bad options). On failure the
 * exit code is non-zero and nothing claims success.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { cliImport, runCli } from '../helpers/cli.ts';
import { assertSameData, dataOf, dataOfAll, printable } from '../helpers/compare.ts';
import { writeDataset } from '../helpers/random-dataset.ts';
import {
  freePort,
  type RedisCluster,
  type RedisServer,
  startCluster,
  startRedis,
} from '../helpers/redis-server.ts';

describe('dcs-migrate import', { concurrency: 1 }, () => {
  let src: RedisServer;
  let tgt: RedisServer;
  let rdb: string;
  let keys: number;
  const tmp = mkdtempSync(join(tmpdir(), 'cli-import-'));

  before(async () => {
    src = await startRedis();
    keys = (await writeDataset(src, { seed: 7, keys: 300, dbs: 3 })).keys;
    assert.equal(await src.cli('SAVE'), 'OK');
    rdb = join(src.dir, 'dump.rdb');
    tgt = await startRedis({ password: 's3cret' });
  });
  after(async () => {
    await src.stop();
    await tgt.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('prints a one-line summary and exits 0', async () => {
    const r = await runCli(['import', rdb, '--target', `redis://:s3cret@127.0.0.1:${tgt.port}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^Imported ${keys} keys \\(0 skipped as existing, 0 already expired\\) from `),
    );
    assert.match(r.stdout, /keys\/s, [\d.]+ MB\/s\n$/);
    await assertSameData(src, { ...tgt, password: 's3cret' });
  });

  test('--db-map moves dbs; --on-conflict skip leaves existing keys and counts them', async () => {
    const t = await startRedis();
    try {
      let out = await cliImport([rdb, '--target', t.url, '--db-map', '0:5,1:6,2:7']);
      assert.equal(out.keys, keys);
      await assertSameData(src, t, {
        dbMap: new Map([
          [0, 5],
          [1, 6],
          [2, 7],
        ]),
      });
      const tc = new Redis(t.port);
      await tc.select(5);
      const [one] = await tc.keysBuffer('*');
      await tc.set(one, 'changed');
      tc.disconnect();
      out = await cliImport([rdb, '--target', t.url, '--db-map', '0:5,1:6,2:7', '--on-conflict', 'skip']);
      assert.equal(out.keysSkipped, keys);
      const snap = await dataOf(t, [5]);
      assert.match(snap.get(5)?.get(printable(one))?.value ?? '', /changed/);
    } finally {
      await t.stop();
    }
  });

  test('--on-conflict fail stops at the first existing key with exit 1', async () => {
    const r = await runCli([
      'import',
      rdb,
      '--target',
      `redis://:s3cret@127.0.0.1:${tgt.port}`,
      '--on-conflict',
      'fail',
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already exists/i);
    assert.equal(r.stdout, '');
  });

  test('into a 3-master cluster with --cluster (db 0 only)', async () => {
    const c1 = await startRedis();
    let cluster: RedisCluster | null = null;
    try {
      await writeDataset(c1, { seed: 11, keys: 500, dbs: 1 });
      await c1.cli('SAVE');
      cluster = await startCluster(3);
      const out = await cliImport([
        join(c1.dir, 'dump.rdb'),
        '--target',
        `redis://${cluster.addrs}`,
        '--cluster',
      ]);
      assert.equal(out.keys, 500);
      await assertSameData(await dataOf(c1), await dataOfAll(cluster.nodes));
      // A file with several dbs cannot go into a cluster: the error says so.
      const r = await runCli(['import', rdb, '--target', `redis://${cluster.addrs}`]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cluster target has db 0 only/);
    } finally {
      await c1.stop();
      await cluster?.stop();
    }
  });

  test('wrong password: exit 1 naming the authentication failure', async () => {
    const r = await runCli(['import', rdb, '--target', `redis://:wrong@127.0.0.1:${tgt.port}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /WRONGPASS|invalid username-password|auth/i);
    assert.equal(r.stdout, '');
  });

  test('unreachable target: exit 1 naming the address', async () => {
    const port = await freePort();
    const r = await runCli(['import', rdb, '--target', `redis://127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(r.stderr, /ECONNREFUSED|refused|connect/i);
  });

  test('truncated file: exit 1 with the byte offset, nothing reported as imported', async () => {
    const { readFileSync } = await import('node:fs');
    const whole = readFileSync(rdb);
    const cut = join(tmp, 'cut.rdb');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const t = await startRedis();
    try {
      const r = await runCli(['import', cut, '--target', t.url]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /input ended before the RDB EOF/);
      assert.match(r.stderr, /offset=\d+, db=\d+, key=/);
      assert.equal(r.stdout, '');
    } finally {
      await t.stop();
    }
  });

  test('a file that is not an RDB: exit 1 saying so', async () => {
    const bad = join(tmp, 'notes.txt');
    writeFileSync(bad, 'hello, this is not a backup\n');
    const r = await runCli(['import', bad, '--target', `redis://:s3cret@127.0.0.1:${tgt.port}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not an RDB|magic|header/i);
  });

  test('usage errors exit 2: missing file, no --target, unknown option, bad --on-conflict', async () => {
    const cases: [string[], RegExp][] = [
      [['import', join(tmp, 'nope.rdb'), '--target', 'redis://127.0.0.1:1'], /cannot read .*nope\.rdb/],
      [['import', rdb], /--target is required/],
      [['import', rdb, '--target', 'redis://127.0.0.1:1', '--bogus'], /bogus/],
      [
        ['import', rdb, '--target', 'redis://127.0.0.1:1', '--on-conflict', 'maybe'],
        /overwrite, skip or fail/,
      ],
    ];
    for (const [args, msg] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
  });
});
