/**
 * npm run bench:online — not a test. In one run on this machine:
 *   1. full sync: a native `replicaof` of a mixed dataset (source `repl-diskless-sync yes`, delay 0) vs our full
 *      sync of the same source into an empty redis-server (`migrateOnline` mode full, in-process); both targets are
 *      checked against the source with DEBUG DIGEST; the ratio ours / native is printed (goal ≤ 1.5×);
 *   2. apply lag: an incremental migration while a writer sends BENCH_RATE writes/s (default 20,000) to the source;
 *      every 10 ms one of them is a probe key, and the target's keyspace notification for it gives the time from
 *      sending to applied on the target. p50 / p99 / max over BENCH_LAG_SECONDS (default 10) (goal p99 ≤ 100 ms).
 *
 *   BENCH_KEYS=200000 (small string keys; plus BENCH_KEYS/20 lists, hashes, sets, zsets), BENCH_RATE=20000,
 *   BENCH_LAG_SECONDS=10, BENCH_SKIP_FULL=1 (lag only), BENCH_ACK_MS (ack/checkpoint interval of the link)
 */
import { Redis } from 'ioredis';
import { migrateOnline, type OnlineStats } from '../src/online/index.ts';
import { type RedisServer, redisVersion, startRedis } from '../test/helpers/redis-server.ts';

const env = (k: string, d: string) => process.env[k] ?? d;
const KEYS = Number(env('BENCH_KEYS', '200000'));
const RATE = Number(env('BENCH_RATE', '20000'));
const LAG_SECONDS = Number(env('BENCH_LAG_SECONDS', '10'));

function log(msg: string) {
  process.stderr.write(`[bench] ${msg}\n`);
}

const addr = (s: RedisServer) => `${s.host}:${s.port}`;

async function populate(src: RedisServer): Promise<void> {
  await src.cli('DEBUG', 'POPULATE', String(KEYS), 'str', '100');
  const r = new Redis({ host: src.host, port: src.port });
  const n = Math.floor(KEYS / 20);
  const now = Date.now();
  for (let i = 0; i < n; i += 500) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(n, i + 500); j++) {
      p.rpush(`list:${j}`, ...Array.from({ length: 20 }, (_, k) => `item-${j}-${k}`));
      p.hset(`hash:${j}`, ...Array.from({ length: 10 }, (_, k) => [`f${k}`, `value-${j}-${k}`]).flat());
      p.sadd(`set:${j}`, ...Array.from({ length: 10 }, (_, k) => String(j * 10 + k)));
      p.zadd(`zset:${j}`, ...Array.from({ length: 10 }, (_, k) => [String(k * 1.5), `m${k}`]).flat());
      p.set(`ttl:${j}`, `v${j}`, 'PXAT', now + 3_600_000 + j);
    }
    await p.exec();
  }
  r.disconnect();
}

async function digest(s: RedisServer): Promise<string> {
  return s.cli('DEBUG', 'DIGEST');
}

async function nativeFullSync(src: RedisServer): Promise<number> {
  const rep = await startRedis();
  try {
    const t0 = performance.now();
    await rep.cli('REPLICAOF', src.host, String(src.port));
    for (;;) {
      const info = await rep.cli('INFO', 'replication');
      if (/master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info)) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const secs = (performance.now() - t0) / 1000;
    if ((await digest(rep)) !== (await digest(src))) throw new Error('native replica digest differs');
    return secs;
  } finally {
    await rep.stop();
  }
}

async function ourFullSync(src: RedisServer): Promise<number> {
  const dst = await startRedis();
  try {
    const ac = new AbortController();
    const t0 = performance.now();
    await migrateOnline(
      {
        source: { addrs: addr(src) },
        target: { addrs: addr(dst) },
        mode: 'full',
        resumeMode: 'auto',
        bandwidthLimitMb: null,
        checkpoint: null,
        signal: ac.signal,
      },
      { log: async () => {}, checkpoint: async () => {}, phase: async () => {}, stats: () => {} },
    );
    const secs = (performance.now() - t0) / 1000;
    if ((await digest(dst)) !== (await digest(src))) throw new Error('our target digest differs');
    return secs;
  } finally {
    await dst.stop();
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function applyLag(
  src: RedisServer,
): Promise<{ p50: number; p99: number; max: number; probes: number; rate: number }> {
  const dst = await startRedis({ args: ['--notify-keyspace-events', 'K$'] });
  const ac = new AbortController();
  let last: OnlineStats | null = null;
  let incremental = false;
  const run = migrateOnline(
    {
      source: { addrs: addr(src) },
      target: { addrs: addr(dst) },
      mode: 'incremental',
      resumeMode: 'auto',
      bandwidthLimitMb: null,
      checkpoint: null,
      signal: ac.signal,
      ...(process.env.BENCH_ACK_MS && { link: { ackIntervalMs: Number(process.env.BENCH_ACK_MS) } }),
    },
    {
      log: async () => {},
      checkpoint: async () => {},
      phase: async (e) => {
        incremental = e === 'incremental';
      },
      stats: (s) => {
        last = s;
      },
    },
  );
  while (!incremental) await new Promise((r) => setTimeout(r, 50));
  const sub = new Redis({ host: dst.host, port: dst.port });
  const sentAt = new Map<number, number>();
  const lags: number[] = [];
  sub.on('pmessage', (_p, channel: string) => {
    const id = Number(channel.slice(channel.lastIndexOf(':') + 1));
    const t = sentAt.get(id);
    if (t !== undefined) {
      lags.push(performance.now() - t);
      sentAt.delete(id);
    }
  });
  await sub.psubscribe('__keyspace@0__:probe:*');
  const w = new Redis({ host: src.host, port: src.port });
  const perTick = Math.max(1, Math.round(RATE / 100));
  let sent = 0;
  let probe = 0;
  const t0 = performance.now();
  const end = t0 + LAG_SECONDS * 1000;
  let tick = 0;
  while (performance.now() < end) {
    const p = w.pipeline();
    for (let i = 0; i < perTick - 1; i++) p.set(`load:${(sent + i) % 100000}`, 'x'.repeat(32));
    const id = probe++;
    p.set(`probe:${id}`, '1');
    sentAt.set(id, performance.now());
    sent += perTick;
    await p.exec();
    tick++;
    const next = t0 + tick * 10;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const rate = sent / ((performance.now() - t0) / 1000);
  await new Promise((r) => setTimeout(r, 1000));
  ac.abort();
  await run;
  w.disconnect();
  sub.disconnect();
  await dst.stop();
  if (sentAt.size) log(`${sentAt.size} probes not seen on the target`);
  const sorted = lags.sort((a, b) => a - b);
  void last;
  return {
    p50: pct(sorted, 50),
    p99: pct(sorted, 99),
    max: sorted[sorted.length - 1],
    probes: sorted.length,
    rate,
  };
}

async function main() {
  const version = await redisVersion();
  const src = await startRedis({ args: ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'] });
  try {
    log(`populating ${KEYS} string keys and ${Math.floor(KEYS / 20) * 5} others`);
    await populate(src);
    const dbsize = Number(await src.cli('DBSIZE'));
    const native = process.env.BENCH_SKIP_FULL ? 1 : await nativeFullSync(src);
    log(`native replicaof full sync: ${native.toFixed(2)} s`);
    const ours = process.env.BENCH_SKIP_FULL ? 1 : await ourFullSync(src);
    log(`our full sync: ${ours.toFixed(2)} s`);
    const lag = await applyLag(src);
    process.stdout.write(
      `\nredis-server ${version}, ${dbsize} keys (BENCH_KEYS=${KEYS})\n\n` +
        '| what | seconds | keys/s | note |\n|---|---:|---:|---|\n' +
        `| native replicaof full sync | ${native.toFixed(2)} | ${Math.round(dbsize / native)} | digest ok |\n` +
        `| dcs-migrate full sync (in-process) | ${ours.toFixed(2)} | ${Math.round(dbsize / ours)} | digest ok |\n\n` +
        `Full sync ratio ours / native = ${(ours / native).toFixed(2)}× (goal ≤ 1.5×)\n` +
        `Apply lag at ${Math.round(lag.rate)} writes/s over ${LAG_SECONDS} s, ${lag.probes} probes: ` +
        `p50 ${lag.p50.toFixed(1)} ms, p99 ${lag.p99.toFixed(1)} ms, max ${lag.max.toFixed(1)} ms (goal p99 ≤ 100 ms)\n`,
    );
  } finally {
    await src.stop();
  }
}

await main();
