/**
 * Import over TLS (a CA and a server certificate made with openssl for this run; redis-server with tls-port only)
 * as an ACL user, and the errors a user sees when the certificate cannot be verified or the user lacks a permission.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliImport, runCli } from '../helpers/cli.ts';
import { assertSameData } from '../helpers/compare.ts';
import { writeDataset } from '../helpers/random-dataset.ts';
import { freePort, type RedisServer, startRedis } from '../helpers/redis-server.ts';
import { makeCerts } from '../helpers/tls-certs.ts';

describe('import over TLS as an ACL user', { concurrency: 1 }, () => {
  const certs = mkdtempSync(join(tmpdir(), 'tls-'));
  let src: RedisServer;
  let tgt: RedisServer;
  let tlsPort: number;
  let rdb: string;

  before(async () => {
    makeCerts(certs);
    src = await startRedis();
    await writeDataset(src, { seed: 3, keys: 400, dbs: 2 });
    await src.cli('SAVE');
    rdb = join(src.dir, 'dump.rdb');
    tlsPort = await freePort();
    tgt = await startRedis({
      args: [
        '--tls-port',
        String(tlsPort),
        '--tls-cert-file',
        join(certs, 'server.pem'),
        '--tls-key-file',
        join(certs, 'server.key'),
        '--tls-ca-cert-file',
        join(certs, 'ca.pem'),
        '--tls-auth-clients',
        'no',
      ],
    });
    // A migration user: every key, the write commands an import needs, nothing else.
    await tgt.cli(
      'ACL',
      'SETUSER',
      'migrator',
      'on',
      '>m1gr4te',
      '~*',
      '&*',
      '+@all',
      '-flushall',
      '-flushdb',
    );
    await tgt.cli('ACL', 'SETUSER', 'reader', 'on', '>r3ad', '~*', '+@read', '+info', '+ping', '+select');
  });
  after(async () => {
    await src.stop();
    await tgt.stop();
    rmSync(certs, { recursive: true, force: true });
  });

  test('rediss:// with --tls-ca and user:password imports everything', async () => {
    const out = await cliImport([
      rdb,
      '--target',
      `rediss://migrator:m1gr4te@127.0.0.1:${tlsPort}`,
      '--tls-ca',
      join(certs, 'ca.pem'),
    ]);
    assert.equal(out.keys, 400);
    await assertSameData(src, tgt);
  });

  test('a certificate the system CAs do not trust: exit 1 naming the verification failure', async () => {
    const r = await runCli(['import', rdb, '--target', `rediss://migrator:m1gr4te@127.0.0.1:${tlsPort}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /certificate|self.signed|verify/i);
  });

  test('a user without write permission: exit 1 with NOPERM, nothing claimed', async () => {
    const r = await runCli(['import', rdb, '--target', `redis://reader:r3ad@127.0.0.1:${tgt.port}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NOPERM|no permissions/i);
    assert.equal(r.stdout, '');
  });

  test('a wrong ACL password: exit 1 with the auth failure', async () => {
    const r = await runCli(['import', rdb, '--target', `redis://migrator:nope@127.0.0.1:${tgt.port}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /WRONGPASS|invalid username-password/i);
  });
});
