/**
 * Online migration through the HTTP API with the real executor (src/online) and real redis-server processes:
 * CreateOnlineMigrationTask + SetOnlineMigrationTask run a full sync then the live stream (FULLMIGRATING →
 * INCRMIGEATING); the service restarted mid-incremental resumes with PSYNC from the checkpoint (+CONTINUE, the
 * source's sync_full stays 1); ShowMigrationTaskStats reaches offset 0 once the writer stops; StopMigrationTask ends
 * TERMINATED with the target equal to the source. A full_amount_migration task ends SUCCESS; a refused
 * continuation with resume_mode manual ends FAILED with a clear error.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { defaultExecutors } from '../../src/executors.ts';
import { assertSameData } from '../helpers/compare.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';
import { eventually, startTestService, type TestService, waitForStatus } from '../helpers/service.ts';
import { startLoad } from '../replication/load.ts';
import { createOnline, freshProject } from './support.ts';

const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function redis(args: string[] = []): Promise<RedisServer> {
  const s = await startRedis({ args });
  cleanup.push(() => s.stop());
  return s;
}

async function service(): Promise<TestService> {
  const svc = await startTestService({ executors: defaultExecutors(loadConfig({})) });
  cleanup.push(() => svc.dispose());
  return svc;
}

const addr = (s: RedisServer) => `${s.host}:${s.port}`;
const config = (src: RedisServer, dst: RedisServer, over: Record<string, unknown> = {}) => ({
  source_instance: { addrs: addr(src) },
  target_instance: { addrs: addr(dst) },
  // A limit far above what the test writes: the token bucket is on the path without slowing the test.
  bandwidth_limit_mb: '1000',
  ...over,
});

async function syncCounters(s: RedisServer) {
  const info = await s.cli('INFO', 'stats');
  const field = (n: string) => Number(new RegExp(`${n}:(\\d+)`).exec(info)?.[1]);
  return { full: field('sync_full'), partialOk: field('sync_partial_ok') };
}

async function logCodes(svc: TestService, p: string, id: string): Promise<string[]> {
  const res = await svc.agent.get(`/v2/${p}/migration-task/${id}/logs?limit=1000`);
  assert.equal(res.status, 200, res.text);
  return res.body.migration_logs.map((l: { log_code: string }) => l.log_code);
}

describe('online migration through the API', () => {
  test('SetOnlineMigrationTask incremental: full sync, stream, service restart resumes with +CONTINUE, stop', async () => {
    let svc = await startTestService({ executors: defaultExecutors(loadConfig({})) });
    // The restarted instance (same data dir) is the one to dispose of.
    cleanup.push(() => svc.dispose());
    const src = await redis(['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0']);
    const dst = await redis();
    await src.cli('DEBUG', 'POPULATE', '3000', 'api', '32');
    const load = startLoad({ host: src.host, port: src.port, prefix: 'api', seed: 11 });
    cleanup.push(async () => void (await load.stop()));
    const p = freshProject();
    const id = await createOnline(svc.agent, p, config(src, dst));
    await waitForStatus(svc.agent, p, id, 'INCRMIGEATING', { timeoutMs: 30_000 });
    const at = load.count;
    await eventually(() => load.count > at + 1500, 'writes during the stream', 30_000);

    svc = await svc.restart();
    await waitForStatus(svc.agent, p, id, 'INCRMIGEATING', { timeoutMs: 30_000 });
    await eventually(
      async () => (await logCodes(svc, p, id)).includes('PSYNC_CONTINUE'),
      '+CONTINUE',
      30_000,
    );
    const codes = await logCodes(svc, p, id);
    assert.ok(codes.includes('TASK_RESUMED'), codes.join(','));
    const after = load.count;
    await eventually(() => load.count > after + 1500, 'writes after the restart', 30_000);
    await load.stop();

    await eventually(
      async () => {
        const s = await svc.agent.get(`/v2/${p}/migration-task/${id}/stats`);
        return s.body.offset === '0' && s.body.full_migration_progress === '100' ? s.body : null;
      },
      'offset 0',
      30_000,
    );
    await assertSameData(src, dst);
    const stats = (await svc.agent.get(`/v2/${p}/migration-task/${id}/stats`)).body;
    assert.equal(stats.source_dbsize, stats.target_dbsize);
    assert.equal(stats.is_migrating, true);
    const c = await syncCounters(src);
    assert.equal(c.full, 1, 'no second full sync after the restart');
    assert.ok(c.partialOk >= 1);

    const stop = await svc.agent.post(`/v2/${p}/migration-task/${id}/stop`);
    assert.equal(stop.status, 200, stop.text);
    await waitForStatus(svc.agent, p, id, 'TERMINATED', { timeoutMs: 30_000 });
  });

  test('full_amount_migration ends SUCCESS with the target equal to the source', async () => {
    const svc = await service();
    const src = await redis();
    const dst = await redis();
    await src.cli('DEBUG', 'POPULATE', '1000', 'full', '8');
    await src.cli('HSET', 'h', 'a', '1', 'b', '2');
    const p = freshProject();
    const id = await createOnline(
      svc.agent,
      p,
      config(src, dst, { migration_method: 'full_amount_migration' }),
    );
    await waitForStatus(svc.agent, p, id, 'SUCCESS', { timeoutMs: 30_000 });
    await assertSameData(src, dst);
    const codes = await logCodes(svc, p, id);
    assert.ok(codes.includes('FULL_SYNC_DONE'), codes.join(','));
  });

  test('a stopped task whose offset left the backlog: restart with resume_mode manual fails, auto resyncs', async () => {
    const svc = await service();
    const src = await redis([
      '--repl-backlog-size',
      '16kb',
      '--repl-diskless-sync',
      'yes',
      '--repl-diskless-sync-delay',
      '0',
    ]);
    const dst = await redis();
    await src.cli('SET', 'a', '1');
    const p = freshProject();
    const id = await createOnline(svc.agent, p, config(src, dst, { resume_mode: 'manual' }));
    await waitForStatus(svc.agent, p, id, 'INCRMIGEATING', { timeoutMs: 30_000 });
    await svc.agent.post(`/v2/${p}/migration-task/${id}/sync-stop`).expect(204);
    await waitForStatus(svc.agent, p, id, 'TERMINATED');
    // 64 KB of writes push the saved offset out of the 16 KB backlog.
    for (let i = 0; i < 64; i++) await src.cli('SET', `big${i}`, 'x'.repeat(1024));

    const restart = async () => {
      const res = await svc.agent
        .post(`/v2/${p}/migration-tasks/batch-restart`)
        .send({ migration_tasks: [id] });
      assert.equal(res.status, 200, res.text);
    };
    await restart();
    const failed = await waitForStatus(svc.agent, p, id, 'FAILED', { timeoutMs: 30_000 });
    assert.match(
      String(failed.error_message),
      /cannot continue the stream from offset \d+ .*resume_mode is manual/,
    );

    const upd = await svc.agent.put(`/v2/${p}/migration-task/${id}`).send({ resume_mode: 'auto' });
    assert.equal(upd.status, 200, upd.text);
    await restart();
    await waitForStatus(svc.agent, p, id, 'INCRMIGEATING', { timeoutMs: 30_000 });
    const codes = await logCodes(svc, p, id);
    assert.ok(codes.includes('WARN_PSYNC_REFUSED'), codes.join(','));
    await eventually(
      async () => (await src.cli('DBSIZE')) === (await dst.cli('DBSIZE')),
      'target caught up',
      30_000,
    );
    await assertSameData(src, dst);
    // The source counts a full sync for every +FULLRESYNC it answered: the first sync, the refused manual restart
    // (which disconnects before the RDB), and the resync.
    assert.equal((await syncCounters(src)).full, 3);
  });
});
