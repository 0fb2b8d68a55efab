/**
 * Online migration from a source reached over TLS only (a CA and a server certificate made with openssl for this
 * run). The migration is given the TLS port alone, so the replica link, the control connections and the stats all
 * go over TLS (the plain port is there for the test's own writer and comparisons). A certificate signed by a CA the
 * client does not trust fails with an error that says so, on the control connection and on the replica link alike.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { migrateOnline, type OnlineStats } from '../../src/online/index.ts';
import { openMasterLink, ReplicationError } from '../../src/replication/index.ts';
import { runCli } from '../helpers/cli.ts';
import { assertSameData } from '../helpers/compare.ts';
import { freePort, type RedisServer, startRedis } from '../helpers/redis-server.ts';
import { eventually } from '../helpers/service.ts';
import { makeCerts, tlsServerArgs } from '../helpers/tls-certs.ts';
import { startLoad } from './load.ts';

const DISKLESS = ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'];

describe('online migration from a TLS source', { concurrency: 1 }, () => {
  const certs = mkdtempSync(join(tmpdir(), 'tls-src-'));
  const servers: RedisServer[] = [];
  let src: RedisServer;
  let srcTls: number;
  let ca: Buffer;

  async function redis(args: string[] = []): Promise<RedisServer> {
    const s = await startRedis({ args });
    servers.push(s);
    return s;
  }

  before(async () => {
    makeCerts(certs);
    ca = readFileSync(join(certs, 'ca.pem'));
    srcTls = await freePort();
    src = await redis([...DISKLESS, ...tlsServerArgs(certs, srcTls)]);
    await src.cli('DEBUG', 'POPULATE', '3000', 'tls', '32');
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(certs, { recursive: true, force: true });
  });

  test('full sync and live stream under a writer over TLS: the target equals the source at lag 0', async () => {
    const dst = await redis();
    const load = startLoad({ host: src.host, port: src.port, prefix: 'tls', seed: 11 });
    await eventually(() => load.count > 300, 'writer running');
    const ac = new AbortController();
    const phases: string[] = [];
    const stats: OnlineStats[] = [];
    const done = migrateOnline(
      {
        source: { addrs: `127.0.0.1:${srcTls}`, tls: { ca } },
        target: { addrs: `${dst.host}:${dst.port}` },
        mode: 'incremental',
        resumeMode: 'auto',
        bandwidthLimitMb: null,
        checkpoint: null,
        signal: ac.signal,
        statsIntervalMs: 200,
      },
      {
        log: async () => {},
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
    await eventually(() => failed || phases.includes('incremental'), 'incremental phase', 30_000);
    assert.equal(failed, null);
    const at = load.count;
    await eventually(() => load.count > at + 1500, 'writes during the stream', 30_000);
    await load.stop();
    const from = stats.length;
    await eventually(() => stats.slice(from + 1).some((s) => s.lag === 0), 'lag 0', 30_000);
    await assertSameData(src, dst);
    // The replica link is the TLS connection: the source lists it as its one replica.
    assert.match(await src.cli('INFO', 'replication'), /connected_slaves:1/);
    ac.abort();
    assert.equal(((await done) as { completed: boolean }).completed, false);
  });

  test('a certificate the client does not trust: a clear error, nothing copied', async () => {
    const dst = await redis();
    await assert.rejects(
      migrateOnline(
        {
          source: { addrs: `127.0.0.1:${srcTls}`, tls: true },
          target: { addrs: `${dst.host}:${dst.port}` },
          mode: 'full',
          resumeMode: 'auto',
          bandwidthLimitMb: null,
          checkpoint: null,
          signal: new AbortController().signal,
        },
        { log: async () => {}, checkpoint: async () => {}, phase: async () => {}, stats: () => {} },
      ),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'ONLINE_ERR_SOURCE');
        assert.match(err.message, /TLS: the certificate of 127\.0\.0\.1:\d+ is not trusted: .*certificate/);
        return true;
      },
    );
    assert.equal(await dst.cli('DBSIZE'), '0');
    // The replica link says the same on its own.
    await assert.rejects(
      openMasterLink({ host: '127.0.0.1', port: srcTls, tls: true }, null, { bucket: null }),
      (err: unknown) => {
        assert.ok(err instanceof ReplicationError);
        assert.equal(err.code, 'REPL_ERR_CONNECT');
        assert.match(err.message, /TLS: the source's certificate is not trusted/);
        return true;
      },
    );
  });

  test('dcs-migrate migrate: rediss:// source with --source-tls-ca into a TLS target with --tls-ca', async () => {
    const dstTls = await freePort();
    const dst = await redis(tlsServerArgs(certs, dstTls));
    const r = await runCli([
      'migrate',
      '--source',
      `rediss://127.0.0.1:${srcTls}`,
      '--source-tls-ca',
      join(certs, 'ca.pem'),
      '--target',
      `rediss://127.0.0.1:${dstTls}`,
      '--tls-ca',
      join(certs, 'ca.pem'),
      '--full-only',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.completed, true);
    assert.equal(out.masters[0].fullSyncs, 1);
    await assertSameData(src, dst);
    // The stats read the target over TLS too: its key count is there, equal to the source's (every db).
    assert.ok(out.targetKeys > 3000);
    assert.equal(out.targetKeys, out.sourceKeys);

    const untrusted = await runCli([
      'migrate',
      '--source',
      `rediss://127.0.0.1:${srcTls}`,
      '--target',
      `redis://127.0.0.1:${dst.port}`,
      '--full-only',
    ]);
    assert.equal(untrusted.code, 1);
    assert.match(untrusted.stderr, /not trusted/);
    const missing = await runCli([
      'migrate',
      '--source',
      `rediss://127.0.0.1:${srcTls}`,
      '--source-tls-ca',
      join(certs, 'nope.pem'),
      '--target',
      `redis://127.0.0.1:${dst.port}`,
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read --source-tls-ca .*nope\.pem/);
  });
});
