/**
 * npm run bench:import — not a test. Builds a mixed dataset of ≥1M keys with big keys in a real redis-server,
 * saves it, then in one run measures on this machine:
 *   1. native RDB load (redis-server starting on the file; its own "DB loaded from disk" time),
 *   2. `redis-cli --pipe` of the equivalent RESTORE stream (one RESTORE … ABSTTL REPLACE per key),
 *   3. our import (`dcs-migrate import`, a separate process, its peak RSS),
 *   4. decode-only throughput of the RDB decoder (dump level and data level, each in a fresh process),
 * checks that every target equals the natively loaded one (DEBUG DIGEST), and prints ratios.
 *
 * Timings vary by ±20% from run to run on a shared VM, so each is the median of several runs in fresh processes
 * (the import and `redis-cli --pipe` alternate, each into a fresh target).
 *
 *   BENCH_KEYS=1000000 (small keys), BENCH_BIG=1 (big keys on), BENCH_DIR=bench/.data,
 *   BENCH_RUNS=3 (import / --pipe pairs), BENCH_DECODE_RUNS=5
 */
import { execFile, spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RdbParser } from '../src/rdb/index.ts';
import { encodeCommand } from '../src/target/resp.ts';
import { type RedisServer, redisVersion, startRedis } from '../test/helpers/redis-server.ts';

const execFileP = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const env = (k: string, d: string) => process.env[k] ?? d;
const SMALL = Number(env('BENCH_KEYS', '1000000'));
const BIG = env('BENCH_BIG', '1') === '1';
const DIR = join(ROOT, env('BENCH_DIR', 'bench/.data'));
const RUNS = Math.max(1, Number(env('BENCH_RUNS', '3')));
const DECODE_RUNS = Math.max(1, Number(env('BENCH_DECODE_RUNS', '5')));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function range(xs: number[]): string {
  return `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}s`;
}

function log(msg: string) {
  process.stderr.write(`[bench] ${msg}\n`);
}

async function pipeInto(server: RedisServer, file: string): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const p = spawn('redis-cli', ['-p', String(server.port), '--pipe'], {
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    createReadStream(file).pipe(p.stdin);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli --pipe exited ${code}`))));
  });
  return (performance.now() - t0) / 1000;
}

/** Writes RESP commands to a file, honouring backpressure. */
async function writeResp(file: string, gen: () => Generator<(string | Buffer)[]>) {
  const out = createWriteStream(file);
  for (const argv of gen()) {
    if (!out.write(encodeCommand(argv))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(r));
}

function* mixedCommands(): Generator<(string | Buffer)[]> {
  const now = Date.now();
  const n = Math.max(1, Math.floor(SMALL / 50));
  for (let i = 0; i < n; i++) {
    yield ['RPUSH', `list:${i}`, ...Array.from({ length: 20 }, (_, j) => `item-${i}-${j}`)];
    yield ['HSET', `hash:${i}`, ...Array.from({ length: 10 }, (_, j) => [`f${j}`, `value-${i}-${j}`]).flat()];
    yield ['SADD', `iset:${i}`, ...Array.from({ length: 10 }, (_, j) => String(i * 10 + j))];
    yield ['ZADD', `zset:${i}`, ...Array.from({ length: 10 }, (_, j) => [String(j * 1.5), `m${j}`]).flat()];
    yield ['SET', `ttl:${i}`, `v${i}`, 'PXAT', String(now + 3_600_000 + i)];
  }
  if (BIG) {
    const batch = 1000;
    for (let b = 0; b < 300; b++)
      yield ['RPUSH', 'big:list', ...Array.from({ length: batch }, (_, j) => `element-${b * batch + j}`)];
    for (let b = 0; b < 200; b++)
      yield [
        'HSET',
        'big:hash',
        ...Array.from({ length: batch }, (_, j) => [`field-${b * batch + j}`, `v${j}`]).flat(),
      ];
    for (let b = 0; b < 200; b++)
      yield [
        'ZADD',
        'big:zset',
        ...Array.from({ length: batch }, (_, j) => [String(b * batch + j), `member-${b * batch + j}`]).flat(),
      ];
    for (let b = 0; b < 200; b++)
      yield ['SADD', 'big:set', ...Array.from({ length: batch }, (_, j) => `s-${b * batch + j}`)];
    yield ['SET', 'big:string', Buffer.alloc(8 << 20, 'x')];
  }
}

async function nativeLoad(rdb: string): Promise<{ seconds: number; server: RedisServer }> {
  const dir = join(DIR, 'native');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await execFileP('cp', [rdb, join(dir, 'dump.rdb')]);
  const server = await startRedis({ dir });
  const logText = readFileSync(join(dir, 'redis.log'), 'utf8');
  const m = /DB loaded from disk: ([\d.]+) seconds/.exec(logText);
  if (!m) throw new Error('native load time not found in redis.log');
  return { seconds: Number(m[1]), server };
}

/** Decode-only seconds, each run in a fresh process (bench/decode-only.ts). */
async function decodeOnly(rdb: string, dumps: boolean, runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout } = await execFileP(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench/decode-only.ts'), rdb, dumps ? 'dumps' : 'data'],
      { cwd: ROOT },
    );
    out.push(JSON.parse(stdout.trim()).seconds);
  }
  return out;
}

async function restoreStream(rdb: string, out: string): Promise<number> {
  const parser = new RdbParser({ dumpable: () => true, dumpRdbVersion: 10, maxDumpBytes: 512 << 20 });
  const ws = createWriteStream(out);
  let n = 0;
  for await (const chunk of createReadStream(rdb, { highWaterMark: 1 << 20 })) {
    for (const e of parser.write(chunk as Buffer)) {
      if (e.kind !== 'key' || !e.dump) continue;
      n++;
      const cmd = encodeCommand(['RESTORE', e.key, String(e.expireAt), e.dump, 'REPLACE', 'ABSTTL']);
      if (!ws.write(cmd)) await new Promise<void>((r) => ws.once('drain', () => r()));
    }
  }
  parser.end();
  await new Promise<void>((r) => ws.end(r));
  return n;
}

async function digest(s: RedisServer): Promise<string> {
  return s.cli('DEBUG', 'DIGEST');
}

async function main() {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  log(`redis-server ${await redisVersion()}, ${SMALL} small keys${BIG ? ' + big keys' : ''}`);

  mkdirSync(join(DIR, 'source'), { recursive: true });
  const src = await startRedis({ dir: join(DIR, 'source') });
  const popCount = SMALL - 5 * Math.max(1, Math.floor(SMALL / 50));
  await src.cli('DEBUG', 'POPULATE', String(popCount), 'str', '64');
  const cmds = join(DIR, 'dataset.resp');
  await writeResp(cmds, mixedCommands);
  await pipeInto(src, cmds);
  await src.cli('SAVE');
  const rdb = join(src.dir, 'dump.rdb');
  const size = statSync(rdb).size;
  const keys = Number(await src.cli('DBSIZE'));
  await src.stop();
  log(`dataset: ${keys} keys, RDB ${(size / 1048576).toFixed(1)} MB`);

  const native = await nativeLoad(rdb);
  const want = await digest(native.server);
  log(`native load ${native.seconds}s`);

  const decRuns = await decodeOnly(rdb, true, DECODE_RUNS);
  const decDataRuns = await decodeOnly(rdb, false, 1);
  const dec = median(decRuns);
  log(`decode-only ${range(decRuns)} (dumps, ${DECODE_RUNS} runs), ${decDataRuns[0].toFixed(2)}s (data)`);

  const restoreFile = join(DIR, 'restore.resp');
  await restoreStream(rdb, restoreFile);
  const pipeRuns: number[] = [];
  const oursRuns: number[] = [];
  const wallRuns: number[] = [];
  let pipeOk = true;
  let oursOk = true;
  let peakRssMb = 0;
  // The CLI bundles its sources on its first start after a change (bin/dcs-migrate.js): not part of an import.
  await execFileP(process.execPath, [join(ROOT, 'bin/dcs-migrate.js'), 'help']);
  for (let i = 0; i < RUNS; i++) {
    const pipeTarget = await startRedis();
    pipeRuns.push(await pipeInto(pipeTarget, restoreFile));
    pipeOk &&= (await digest(pipeTarget)) === want;
    await pipeTarget.stop();

    const ours = await startRedis();
    const t0 = performance.now();
    const { stdout } = await execFileP(
      process.execPath,
      [
        join(ROOT, 'bin/dcs-migrate.js'),
        'import',
        rdb,
        '--target',
        `redis://127.0.0.1:${ours.port}`,
        '--json',
      ],
      { maxBuffer: 1 << 20 },
    );
    wallRuns.push((performance.now() - t0) / 1000);
    const summary = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    oursRuns.push(summary.seconds);
    peakRssMb = Math.max(peakRssMb, summary.peakRssMb);
    oursOk &&= (await digest(ours)) === want;
    await ours.stop();
    log(`run ${i + 1}: redis-cli --pipe ${pipeRuns[i].toFixed(2)}s, ours ${oursRuns[i].toFixed(2)}s`);
  }
  await native.server.stop();
  const pipeSeconds = median(pipeRuns);
  const oursSeconds = median(oursRuns);

  const mb = size / 1048576;
  const rows = [
    ['native RDB load (redis-server)', native.seconds, '-'],
    [
      'redis-cli --pipe (RESTORE stream)',
      pipeSeconds,
      `${pipeOk ? 'digest ok' : 'DIGEST MISMATCH'}, ${range(pipeRuns)}`,
    ],
    [
      'dcs-migrate import (in-process time)',
      oursSeconds,
      `${oursOk ? 'digest ok' : 'DIGEST MISMATCH'}, ${range(oursRuns)}`,
    ],
    ['dcs-migrate import (wall, incl. node start)', median(wallRuns), range(wallRuns)],
    ['decode only, dumps', dec, range(decRuns)],
    ['decode only, data level', decDataRuns[0], ''],
  ] as const;
  process.stdout.write(`\nDataset: ${keys.toLocaleString('en-US')} keys, RDB ${mb.toFixed(1)} MB\n\n`);
  process.stdout.write('| what | seconds | keys/s | MB/s | note |\n|---|---:|---:|---:|---|\n');
  for (const [what, s, note] of rows) {
    process.stdout.write(
      `| ${what} | ${s.toFixed(2)} | ${Math.round(keys / s).toLocaleString('en-US')} | ${(mb / s).toFixed(1)} | ${note} |\n`,
    );
  }
  process.stdout.write(
    `\nTimes are medians: import and --pipe of ${RUNS} runs each, decode-only of ${DECODE_RUNS}.\n` +
      `ours / redis-cli --pipe rate: ${(pipeSeconds / oursSeconds).toFixed(2)}x (goal >= 0.9)\n` +
      `ours / native load rate: ${(native.seconds / oursSeconds).toFixed(2)}x\n` +
      `decode-only: ${(mb / dec).toFixed(0)} MB/s (goal >= 200)\n` +
      `peak RSS of the import process: ${peakRssMb} MB (goal <= 256)\n`,
  );
  if (!pipeOk || !oursOk) process.exitCode = 1;
}

await main();
