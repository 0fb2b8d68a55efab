/**
 * `dcs-migrate migrate` as a user runs it (a separate process): --full-only copies a live source and exits 0 with
 * a JSON summary; the live mode follows writes until SIGINT and drains before exiting; usage errors exit 2.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { assertSameData } from '../helpers/compare.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';
import { eventually } from '../helpers/service.ts';

const BIN = join(import.meta.dirname, '../../bin/dcs-migrate.js');
const servers: RedisServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});
async function redis(args: string[] = []) {
  const s = await startRedis({ args });
  servers.push(s);
  return s;
}

function cli(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'migrate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => {
    stdout += b;
  });
  child.stderr.on('data', (b) => {
    stderr += b;
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exit,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}

const FAST = ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'];

test('migrate --full-only copies the source and prints a JSON summary', async () => {
  const src = await redis(FAST);
  const dst = await redis();
  await src.cli('DEBUG', 'POPULATE', '2000', 'cli', '10');
  await src.cli('SADD', 's', 'a', 'b');
  const run = cli(['--source', src.url, '--target', dst.url, '--full-only', '--json']);
  assert.equal(await run.exit, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.equal(out.completed, true);
  assert.equal(out.masters[0].fullSyncs, 1);
  await assertSameData(src, dst);
});

test('migrate follows live writes until SIGINT, then drains and exits 0', async () => {
  const src = await redis(FAST);
  const dst = await redis();
  await src.cli('SET', 'before', '1');
  const run = cli(['--source', src.url, '--target', dst.url, '--json']);
  await eventually(async () => (await dst.cli('GET', 'before')) === '1', 'full sync', 30_000);
  await src.cli('RPUSH', 'during', 'x', 'y');
  await eventually(async () => (await dst.cli('LLEN', 'during')) === '2', 'live write applied', 30_000);
  run.child.kill('SIGINT');
  assert.equal(await run.exit, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).completed, false);
  await assertSameData(src, dst);
});

test('migrate usage errors exit 2 and say what is wrong', async () => {
  const noSource = cli(['--target', 'redis://127.0.0.1:1']);
  assert.equal(await noSource.exit, 2);
  assert.match(noSource.stderr, /--source is required/);
  const bad = cli(['--source', 'redis://nohost', '--target', 'redis://127.0.0.1:1']);
  assert.equal(await bad.exit, 2);
  assert.match(bad.stderr, /--source: "nohost" is not host:port/);
});
