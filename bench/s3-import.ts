/**
 * npm run bench:s3-import — not a test. One dataset, imported in one run on this machine:
 *   1. through the API from an S3 bucket (s3rver in its own process, the service in this one),
 *   2. through the API from a local file (the same backup-import pipeline over a FileStore),
 *   3. with `dcs-migrate import <file>` (the CLI's local-file path, a separate process),
 *   4. through the API from the bucket as .rdb.gz (decompression cost, informative),
 * checks each target against the source (DEBUG DIGEST), and prints the ratio S3 / local file (goal ≥ 0.8).
 *
 *   BENCH_KEYS=300000 (keys, mostly 64-byte strings plus lists/hashes/zsets), BENCH_RUNS=2 (best of),
 *   BENCH_DIR=bench/.data-s3
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.ts';
import { defaultExecutors } from '../src/executors.ts';
import { backupImportExecutor } from '../src/pipeline/index.ts';
import { unavailableExecutor } from '../src/runner/index.ts';
import { type RunningServer, startServer } from '../src/server.ts';
import { FileStore } from '../src/sources/index.ts';
import { freePort, type RedisServer, redisVersion, startRedis } from '../test/helpers/redis-server.ts';

const execFileP = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const env = (k: string, d: string) => process.env[k] ?? d;
const KEYS = Number(env('BENCH_KEYS', '300000'));
const RUNS = Number(env('BENCH_RUNS', '2'));
const DIR = join(ROOT, env('BENCH_DIR', 'bench/.data-s3'));
const BUCKET = 'bench';

function log(msg: string) {
  process.stderr.write(`[bench] ${msg}\n`);
}

async function populate(src: RedisServer): Promise<void> {
  const groups = Math.max(1, Math.floor(KEYS / 20));
  await src.cli('DEBUG', 'POPULATE', String(KEYS - 3 * groups), 'str', '64');
  const c = new Redis({ host: src.host, port: src.port });
  for (let i = 0; i < groups; i += 1000) {
    const p = c.pipeline();
    for (let j = i; j < Math.min(groups, i + 1000); j++) {
      p.rpush(`list:${j}`, ...Array.from({ length: 20 }, (_, k) => `item-${j}-${k}`));
      p.hset(`hash:${j}`, ...Array.from({ length: 10 }, (_, k) => [`f${k}`, `value-${j}-${k}`]).flat());
      p.zadd(`zset:${j}`, ...Array.from({ length: 10 }, (_, k) => [String(k * 1.5), `m${k}`]).flat());
    }
    await p.exec();
  }
  c.disconnect();
}

async function startS3rver(dir: string): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  const child = spawn(
    join(ROOT, 'node_modules/.bin/s3rver'),
    ['-d', dir, '-a', '127.0.0.1', '-p', String(port), '-s'],
    { stdio: 'ignore' },
  );
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  for (let i = 0; ; i++) {
    try {
      await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.destroy();
  return { port, stop: () => child.kill('SIGKILL') };
}

async function put(port: number, key: string, body: Buffer): Promise<void> {
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  client.destroy();
}

/** POST a backup import and wait for SUCCESS; returns seconds from the request to SUCCESS. */
async function importViaApi(server: RunningServer, target: RedisServer, file: string): Promise<number> {
  const project = `bench-${Math.random().toString(16).slice(2)}`;
  const t0 = performance.now();
  const res = await fetch(`${server.url}/v2/${project}/migration-task`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      task_name: 'bench',
      migration_type: 'backupfile_import',
      migration_method: 'full_amount_migration',
      backup_files: { file_source: 'self_build_obs', bucket_name: BUCKET, files: [{ file_name: file }] },
      target_instance: { id: '', addrs: `127.0.0.1:${target.port}` },
    }),
  });
  const { id } = (await res.json()) as { id: string };
  for (;;) {
    const r = await fetch(`${server.url}/v2/${project}/migration-tasks`);
    const t = (
      (await r.json()) as { migration_tasks: { task_id: string; status: string; error_message?: string }[] }
    ).migration_tasks.find((x) => x.task_id === id);
    if (t?.status === 'SUCCESS') return (performance.now() - t0) / 1000;
    if (t?.status === 'FAILED') throw new Error(`import failed: ${t.error_message}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function main() {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(join(DIR, 'source'), { recursive: true });
  log(`redis-server ${await redisVersion()}, ${KEYS} keys`);
  const src = await startRedis({ dir: join(DIR, 'source') });
  await populate(src);
  await src.cli('SAVE');
  const want = await src.cli('DEBUG', 'DIGEST');
  const keys = Number(await src.cli('DBSIZE'));
  const rdbPath = join(src.dir, 'dump.rdb');
  const rdb = readFileSync(rdbPath);
  const gz = gzipSync(rdb, { level: 6 });
  const localDir = join(DIR, 'local');
  mkdirSync(localDir, { recursive: true });
  writeFileSync(join(localDir, 'dump.rdb'), rdb);
  log(
    `dataset: ${keys} keys, RDB ${(rdb.length / 1048576).toFixed(1)} MB (gz ${(gz.length / 1048576).toFixed(1)} MB)`,
  );

  const s3 = await startS3rver(join(DIR, 's3'));
  await put(s3.port, 'dump.rdb', rdb);
  await put(s3.port, 'dump.rdb.gz', gz);
  const base = { PORT: '0', LOG_LEVEL: 'silent', TASK_CONCURRENCY: '1' };
  const s3Env = {
    S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
    S3_FORCE_PATH_STYLE: 'true',
    S3_ACCESS_KEY_ID: 'S3RVER',
    S3_SECRET_ACCESS_KEY: 'S3RVER',
  };
  const cfgS3 = loadConfig({ ...base, ...s3Env, DATA_DIR: join(DIR, 'svc-s3') });
  const viaS3 = await startServer(cfgS3, { executors: defaultExecutors(cfgS3) });
  const cfgLocal = loadConfig({ ...base, DATA_DIR: join(DIR, 'svc-local') });
  const viaFile = await startServer(cfgLocal, {
    executors: {
      backup_import: backupImportExecutor({ s3: cfgLocal.s3, store: () => new FileStore(localDir) }),
      online: unavailableExecutor('online'),
    },
  });

  const target = await startRedis();
  const check = async (what: string) => {
    const ok = (await target.cli('DEBUG', 'DIGEST')) === want;
    if (!ok) log(`${what}: DIGEST MISMATCH`);
    await target.cli('FLUSHALL');
    return ok;
  };
  const best = { s3: Infinity, file: Infinity, cli: Infinity, gz: Infinity };
  const ok = { s3: true, file: true, cli: true, gz: true };
  for (let run = 1; run <= RUNS; run++) {
    const f = await importViaApi(viaFile, target, 'dump.rdb');
    ok.file &&= await check('local file');
    const s = await importViaApi(viaS3, target, 'dump.rdb');
    ok.s3 &&= await check('s3');
    const { stdout } = await execFileP(
      process.execPath,
      [
        join(ROOT, 'bin/dcs-migrate.js'),
        'import',
        rdbPath,
        '--target',
        `redis://127.0.0.1:${target.port}`,
        '--json',
      ],
      { maxBuffer: 1 << 20 },
    );
    const c = Number(JSON.parse(stdout.trim().split('\n').pop() ?? '{}').seconds);
    ok.cli &&= await check('cli');
    const g = await importViaApi(viaS3, target, 'dump.rdb.gz');
    ok.gz &&= await check('s3 gz');
    log(
      `run ${run}: local file ${f.toFixed(2)}s, s3 ${s.toFixed(2)}s, cli ${c.toFixed(2)}s, s3 gz ${g.toFixed(2)}s`,
    );
    best.file = Math.min(best.file, f);
    best.s3 = Math.min(best.s3, s);
    best.cli = Math.min(best.cli, c);
    best.gz = Math.min(best.gz, g);
  }
  await viaS3.close();
  await viaFile.close();
  s3.stop();
  await target.stop();
  await src.stop();

  const mb = rdb.length / 1048576;
  const rows = [
    ['API, S3 bucket (s3rver), .rdb', best.s3, ok.s3],
    ['API, local file (same pipeline, FileStore)', best.file, ok.file],
    ['CLI `dcs-migrate import` (in-process time)', best.cli, ok.cli],
    ['API, S3 bucket, .rdb.gz', best.gz, ok.gz],
  ] as const;
  process.stdout.write(
    `\nDataset: ${keys.toLocaleString('en-US')} keys, RDB ${mb.toFixed(1)} MB, best of ${RUNS}\n\n`,
  );
  process.stdout.write('| what | seconds | keys/s | MB/s | digest |\n|---|---:|---:|---:|---|\n');
  for (const [what, s, good] of rows) {
    process.stdout.write(
      `| ${what} | ${s.toFixed(2)} | ${Math.round(keys / s).toLocaleString('en-US')} | ${(mb / s).toFixed(1)} | ${good ? 'ok' : 'MISMATCH'} |\n`,
    );
  }
  process.stdout.write(
    `\nS3 / local-file rate (same pipeline): ${(best.file / best.s3).toFixed(2)}x (goal >= 0.8)\n` +
      `S3 / CLI local-file rate: ${(best.cli / best.s3).toFixed(2)}x\n`,
  );
  rmSync(DIR, { recursive: true, force: true });
  if (!Object.values(ok).every(Boolean)) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
