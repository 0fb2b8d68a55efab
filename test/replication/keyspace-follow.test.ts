/**
 * A source that refuses PSYNC (renamed away, SYNC disabled) but publishes keyspace notifications: an incremental
 * migration copies it with SCAN and then follows the notifications, so writes during and after the scan reach the
 * target; the stats' lag counts keys not yet copied again. Without enough notification classes the task still
 * fails after the one-time copy, saying how to enable them.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { migrateOnline, type OnlineStats } from '../../src/online/index.ts';
import { assertSameData } from '../helpers/compare.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';
import { eventually } from '../helpers/service.ts';
import { startLoad } from './load.ts';

const servers: RedisServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});
async function redis(args: string[] = []): Promise<RedisServer> {
  const s = await startRedis({ args });
  servers.push(s);
  return s;
}

const NO_PSYNC = ['--rename-command', 'PSYNC', 'MYPSYNC', '--rename-command', 'SYNC', ''];

function start(src: RedisServer, dst: RedisServer) {
  const ac = new AbortController();
  const logs: { level: string; code: string; message: string }[] = [];
  const phases: string[] = [];
  const stats: OnlineStats[] = [];
  const done = migrateOnline(
    {
      source: { addrs: `${src.host}:${src.port}` },
      target: { addrs: `${dst.host}:${dst.port}` },
      mode: 'incremental',
      resumeMode: 'auto',
      bandwidthLimitMb: null,
      checkpoint: null,
      signal: ac.signal,
      statsIntervalMs: 100,
    },
    {
      log: async (level, code, message) => {
        logs.push({ level, code, message });
      },
      checkpoint: async () => {},
      phase: async (e) => {
        phases.push(e);
      },
      stats: (s) => stats.push(s),
    },
  );
  let failed: unknown = null;
  done.catch((err) => {
    failed = err;
  });
  return { ac, logs, phases, stats, done, failed: () => failed };
}

describe('SCAN mode followed by keyspace notifications', () => {
  test('writes during and after the scan reach the target; lag 0 means equal', async () => {
    const src = await redis([...NO_PSYNC, '--notify-keyspace-events', 'KEA']);
    const dst = await redis();
    await src.cli('DEBUG', 'POPULATE', '20000', 'pre', '16');
    const load = startLoad({ host: src.host, port: src.port, prefix: 'ks', seed: 5 });
    await eventually(() => load.count > 300, 'writer running');
    const run = start(src, dst);
    await eventually(() => run.failed() || run.phases.includes('incremental'), 'following', 30_000);
    assert.equal(run.failed(), null);
    const warn = run.logs.find((l) => l.code === 'SCAN_MODE');
    assert.ok(warn && warn.level === 'WARN', JSON.stringify(run.logs));
    assert.match(warn.message, /following keyspace notifications.*NOT lossless/);
    const at = load.count;
    await eventually(() => load.count > at + 3000, 'writes while following', 30_000);
    await load.stop();
    // Keys deleted and expired after the scan disappear from the target too.
    await src.cli('DEL', 'key:1', 'key:2');
    await src.cli('SET', 'short', 'x', 'PX', '50');
    await eventually(async () => (await src.cli('EXISTS', 'short')) === '0', 'short expired on the source');
    // Notifications arrive in order: once the sentinel is on the target, all earlier ones were received.
    await src.cli('SET', 'sentinel', '1');
    await eventually(async () => (await dst.cli('GET', 'sentinel')) === '1', 'sentinel copied', 30_000);
    const from = run.stats.length;
    await eventually(() => run.stats.slice(from + 1).some((s) => s.lag === 0), 'lag 0', 30_000);
    assert.equal(await dst.cli('EXISTS', 'key:1', 'key:2', 'short'), '0');
    await assertSameData(src, dst, { expiryToleranceMs: 1000 });
    run.ac.abort();
    assert.equal(((await run.done) as { completed: boolean }).completed, false);
    assert.ok(run.logs.some((l) => l.code === 'KEYSPACE_FOLLOW_STOPPED'));
  });

  test('notifications without every class: the one-time copy, then a failure saying how to enable them', async () => {
    const src = await redis([...NO_PSYNC, '--notify-keyspace-events', 'K$']);
    const dst = await redis();
    await src.cli('DEBUG', 'POPULATE', '500', 'pre', '8');
    const run = start(src, dst);
    await assert.rejects(run.done, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'REPL_ERR_SYNC_REFUSED');
      assert.match(err.message, /copied once with SCAN.*following live writes needs/);
      assert.match(err.message, /"\$K", lacking "glshzxet".*CONFIG SET notify-keyspace-events KA/);
      return true;
    });
    await assertSameData(src, dst, { expiryToleranceMs: 1000 });
  });

  test('a dropped subscription fails the task (events may have been lost), never a silent gap', async () => {
    const src = await redis([...NO_PSYNC, '--notify-keyspace-events', 'KA']);
    const dst = await redis();
    await src.cli('SET', 'a', '1');
    const run = start(src, dst);
    await eventually(() => run.failed() || run.phases.includes('incremental'), 'following', 30_000);
    assert.equal(await src.cli('CLIENT', 'KILL', 'TYPE', 'pubsub'), '1');
    await assert.rejects(run.done, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ONLINE_ERR_SOURCE');
      assert.match(err.message, /keyspace notification subscription was lost/);
      return true;
    });
  });
});
