/**
 * Online migration against real redis-server processes (src/online + src/replication): full sync and the live
 * stream under a writer issuing mixed commands, a replica link killed mid-stream continuing with +CONTINUE (no
 * second full sync: the source's own sync_full / sync_partial_ok counters say so), disk-based and diskless
 * transfers, password and ACL sources, a 3-master cluster source, and resume refusals. Every test ends with the
 * target equal to the source key by key.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  migrateOnline,
  type OnlineCheckpoint,
  type OnlineMigrationOptions,
  type OnlineStats,
} from '../../src/online/index.ts';
import { assertSameData, dataOfAll } from '../helpers/compare.ts';
import { type RedisServer, startCluster, startRedis } from '../helpers/redis-server.ts';
import { eventually } from '../helpers/service.ts';
import { startLoad } from './load.ts';

const servers: { stop(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

async function redis(args: string[] = [], password?: string): Promise<RedisServer> {
  const s = await startRedis({ args, password });
  servers.push(s);
  return s;
}

const DISK = ['--repl-diskless-sync', 'no'];
const DISKLESS = ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'];

interface Run {
  logs: { level: string; code: string; message: string }[];
  phases: string[];
  checkpoints: OnlineCheckpoint[];
  stats: OnlineStats[];
  done: Promise<unknown>;
  ac: AbortController;
  /** Resolves once a stats sample taken after now reports lag 0. */
  caughtUp(): Promise<void>;
}

function start(
  o: Omit<OnlineMigrationOptions, 'signal' | 'resumeMode' | 'bandwidthLimitMb' | 'checkpoint'> &
    Partial<OnlineMigrationOptions>,
): Run {
  const ac = new AbortController();
  const run: Run = {
    logs: [],
    phases: [],
    checkpoints: [],
    stats: [],
    ac,
    done: Promise.resolve(),
    async caughtUp() {
      const from = run.stats.length;
      await eventually(() => run.stats.slice(from + 1).some((s) => s.lag === 0), 'lag 0', 30_000);
    },
  };
  run.done = migrateOnline(
    {
      resumeMode: 'auto',
      bandwidthLimitMb: null,
      checkpoint: null,
      signal: ac.signal,
      statsIntervalMs: 200,
      ...o,
    },
    {
      log: async (level, code, message) => {
        run.logs.push({ level, code, message });
      },
      checkpoint: async (cp) => {
        run.checkpoints.push(cp);
      },
      phase: async (e) => {
        run.phases.push(e);
      },
      stats: (s) => run.stats.push(s),
    },
  );
  run.done.catch((err) => run.logs.push({ level: 'ERROR', code: 'FAILED', message: String(err) }));
  return run;
}

const addr = (s: RedisServer) => `${s.host}:${s.port}`;

async function syncCounters(s: RedisServer): Promise<{ full: number; partialOk: number }> {
  const info = await s.cli('INFO', 'stats');
  const field = (n: string) => Number(new RegExp(`${n}:(\\d+)`).exec(info)?.[1]);
  return { full: field('sync_full'), partialOk: field('sync_partial_ok') };
}

describe('online migration', () => {
  for (const [name, args] of [
    ['disk-based', DISK],
    ['diskless', DISKLESS],
  ] as const) {
    test(`${name} source under load: full sync, stream, CLIENT KILL TYPE replica → +CONTINUE, target equals source`, async () => {
      const src = await redis(args);
      const dst = await redis();
      await src.cli('DEBUG', 'POPULATE', '5000', 'seed', '64');
      const load = startLoad({ host: src.host, port: src.port, prefix: name, seed: 7 });
      await eventually(() => load.count > 500, 'writer running');
      const run = start({ source: { addrs: addr(src) }, target: { addrs: addr(dst) }, mode: 'incremental' });
      await eventually(() => run.phases.includes('incremental'), 'incremental phase', 30_000);
      const at = load.count;
      await eventually(() => load.count > at + 2000, 'more writes during the stream', 30_000);
      assert.equal(await src.cli('CLIENT', 'KILL', 'TYPE', 'replica'), '1');
      await eventually(() => run.logs.some((l) => l.code === 'PSYNC_CONTINUE'), '+CONTINUE', 30_000);
      const after = load.count;
      await eventually(() => load.count > after + 2000, 'writes after the reconnect', 30_000);
      await load.stop();
      await run.caughtUp();
      await assertSameData(src, dst);
      const c = await syncCounters(src);
      assert.equal(c.full, 1, 'exactly one full sync');
      assert.ok(c.partialOk >= 1, 'the reconnect was a partial resync');
      assert.deepEqual(run.phases, ['incremental']);
      assert.ok(run.logs.some((l) => l.code === 'SOURCE_RECONNECT'));
      run.ac.abort();
      const summary = (await run.done) as { completed: boolean };
      assert.equal(summary.completed, false);
      const last = run.checkpoints.at(-1) as OnlineCheckpoint;
      const off = Number(/master_repl_offset:(\d+)/.exec(await src.cli('INFO', 'replication'))?.[1]);
      assert.equal(last.masters[addr(src)].offset, off, 'the last checkpoint is the source offset');
    });
  }

  test('password source (requirepass) and ACL user source', async () => {
    const pw = await redis(DISKLESS, 's3cret:pw');
    const acl = await redis(DISK);
    await acl.cli('ACL', 'SETUSER', 'repl', 'on', '>rpw', '~*', '&*', '+@all');
    await acl.cli('ACL', 'SETUSER', 'default', 'off');
    const dst = await redis();
    await pw.cli('SET', 'a', '1');
    await acl.cli('--user', 'repl', '--pass', 'rpw', 'SET', 'b', '2');
    const r1 = start({
      source: { addrs: addr(pw), password: 's3cret:pw' },
      target: { addrs: addr(dst) },
      mode: 'incremental',
    });
    const r2 = start({
      source: { addrs: addr(acl), password: 'repl:rpw' },
      target: { addrs: addr(dst), dbMap: undefined },
      mode: 'incremental',
    });
    await eventually(() => r1.phases.length && r2.phases.length, 'both streaming', 30_000).catch((err) => {
      throw new assert.AssertionError({ message: `${err.message}: ${JSON.stringify([r1.logs, r2.logs])}` });
    });
    await pw.cli('RPUSH', 'la', 'x', 'y');
    await acl.cli('--user', 'repl', '--pass', 'rpw', 'RPUSH', 'lb', 'z');
    await Promise.all([r1.caughtUp(), r2.caughtUp()]);
    r1.ac.abort();
    r2.ac.abort();
    await Promise.all([r1.done, r2.done]);
    const want = await dataOfAll([{ host: pw.host, port: pw.port, password: 's3cret:pw' }]);
    const got = await dataOfAll([dst]);
    for (const k of ['a', 'la']) assert.deepEqual(got.get(0)?.get(k), want.get(0)?.get(k));
    assert.equal(await dst.cli('GET', 'b'), '2');
    assert.equal(await dst.cli('LRANGE', 'lb', '0', '-1'), 'z');
  });

  test('wrong source password fails with a clear error', async () => {
    const src = await redis([], 'right');
    const dst = await redis();
    const run = start({
      source: { addrs: addr(src), password: 'wrong' },
      target: { addrs: addr(dst) },
      mode: 'full',
    });
    await assert.rejects(run.done, /WRONGPASS|invalid password/);
  });

  test('3-master cluster source: one stream per master, all into one target', async () => {
    const cluster = await startCluster(3, { args: DISKLESS });
    servers.push(cluster);
    const dst = await redis();
    const load = startLoad({ host: '', port: 0, cluster: cluster.nodes, prefix: 'c', seed: 3 });
    await eventually(() => load.count > 300, 'writer running', 30_000);
    const run = start({
      source: { addrs: addr(cluster.nodes[0]) },
      target: { addrs: addr(dst) },
      mode: 'incremental',
    });
    await eventually(() => run.phases.includes('incremental'), 'incremental phase', 30_000);
    assert.ok(run.logs.some((l) => l.code === 'SOURCE_CLUSTER'));
    const at = load.count;
    await eventually(() => load.count > at + 1000, 'writes during the stream', 30_000);
    await load.stop();
    await run.caughtUp();
    await assertSameData(await dataOfAll(cluster.nodes), dst);
    for (const n of cluster.nodes) assert.equal((await syncCounters(n)).full, 1);
    run.ac.abort();
    await run.done;
  });

  test('full_amount_migration returns after the full sync', async () => {
    const src = await redis(DISK);
    const dst = await redis();
    await src.cli('DEBUG', 'POPULATE', '2000', 'full', '16');
    await src.cli('ZADD', 'z', '1.5', 'a', '-inf', 'b');
    const run = start({ source: { addrs: addr(src) }, target: { addrs: addr(dst) }, mode: 'full' });
    const summary = (await run.done) as { completed: boolean };
    assert.equal(summary.completed, true);
    assert.deepEqual(run.phases, []);
    await assertSameData(src, dst);
  });

  test('a refused continuation: manual fails, auto runs a new full sync', async () => {
    const src = await redis(DISKLESS);
    const dst = await redis();
    await src.cli('SET', 'k', 'v');
    const stale: OnlineCheckpoint = {
      v: 1,
      masters: { [addr(src)]: { replid: 'f'.repeat(40), offset: 99, db: 0 } },
    };
    const manual = start({
      source: { addrs: addr(src) },
      target: { addrs: addr(dst) },
      mode: 'incremental',
      resumeMode: 'manual',
      checkpoint: stale,
    });
    await assert.rejects(manual.done, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'REPL_ERR_RESYNC_REQUIRED');
      assert.match(err.message, /offset 100.*resume_mode is manual/);
      return true;
    });
    assert.equal(await dst.cli('DBSIZE'), '0');
    const auto = start({
      source: { addrs: addr(src) },
      target: { addrs: addr(dst) },
      mode: 'incremental',
      checkpoint: stale,
    });
    await eventually(() => auto.phases.includes('incremental'), 'incremental', 30_000);
    assert.ok(auto.logs.some((l) => l.code === 'PSYNC_REFUSED'));
    await auto.caughtUp();
    await assertSameData(src, dst);
    auto.ac.abort();
    await auto.done;
  });

  test('a lost backlog after keys were deleted: a target empty at the start is flushed, then equals the source', async () => {
    const src = await redis([...DISKLESS, '--repl-backlog-size', '16kb']);
    const dst = await redis();
    for (let i = 0; i < 50; i++) await src.cli('SET', `k${i}`, `v${i}`);
    const first = start({ source: { addrs: addr(src) }, target: { addrs: addr(dst) }, mode: 'incremental' });
    await eventually(() => first.phases.includes('incremental'), 'incremental', 30_000);
    await first.caughtUp();
    first.ac.abort();
    await first.done;
    const cp = first.checkpoints.at(-1) as OnlineCheckpoint;
    assert.equal(Object.values(cp.masters)[0].targetEmpty, true);
    // While no replica follows: deletes, then more writes than the 16 KB backlog holds.
    await src.cli('DEL', 'k1', 'k2', 'k3');
    for (let i = 0; i < 40; i++) await src.cli('SET', `fill${i}`, 'x'.repeat(1024));
    await dst.cli('SET', 'k1', 'v1'); // as if still there (it is: the stream stopped before the DEL)
    const second = start({
      source: { addrs: addr(src) },
      target: { addrs: addr(dst) },
      mode: 'incremental',
      checkpoint: cp,
    });
    await eventually(() => second.phases.includes('incremental'), 'incremental', 30_000);
    await second.caughtUp();
    assert.ok(second.logs.some((l) => l.code === 'PSYNC_REFUSED'));
    assert.ok(second.logs.some((l) => l.code === 'TARGET_FLUSHED'));
    assert.equal(await dst.cli('EXISTS', 'k1'), '0');
    await assertSameData(src, dst);
    second.ac.abort();
    await second.done;
  });

  test('a renamed PSYNC: --psync-command reaches it; a source refusing PSYNC is copied by SCAN (logged as not lossless)', async () => {
    const renamed = await redis([
      ...DISKLESS,
      '--rename-command',
      'PSYNC',
      'MYPSYNC',
      '--rename-command',
      'SYNC',
      '',
    ]);
    const dst1 = await redis();
    const dst2 = await redis();
    const dst3 = await redis();
    await renamed.cli('DEBUG', 'POPULATE', '1500', 'scan', '12');
    await renamed.cli('HSET', 'h', 'f', 'v');
    await renamed.cli('SET', 'ttl', 'x', 'PX', '3600000');
    await renamed.cli('XADD', 'st', '1-1', 'a', 'b');

    const named = start({
      source: { addrs: addr(renamed), psyncCommand: 'MYPSYNC' },
      target: { addrs: addr(dst1) },
      mode: 'full',
    });
    await named.done;
    assert.ok(named.logs.some((l) => l.code === 'FULL_SYNC_DONE'));
    await assertSameData(renamed, dst1);

    const scanned = start({ source: { addrs: addr(renamed) }, target: { addrs: addr(dst2) }, mode: 'full' });
    assert.equal(((await scanned.done) as { completed: boolean }).completed, true);
    const warn = scanned.logs.find((l) => l.code === 'SCAN_MODE');
    assert.ok(
      warn && warn.level === 'WARN' && /NOT lossless/.test(warn.message),
      JSON.stringify(scanned.logs),
    );
    await assertSameData(renamed, dst2, { expiryToleranceMs: 1000 });

    const incr = start({
      source: { addrs: addr(renamed) },
      target: { addrs: addr(dst3) },
      mode: 'incremental',
    });
    await assert.rejects(incr.done, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'REPL_ERR_SYNC_REFUSED');
      assert.match(err.message, /copied once with SCAN.*following live writes needs/);
      return true;
    });
    await assertSameData(renamed, dst3, { expiryToleranceMs: 1000 });
  });
});
