/**
 * Seeded random datasets written into a real redis-server with ordinary commands: every value type, every
 * encoding the server picks by size (int/embstr/raw strings, listpack/quicklist lists with plain nodes,
 * intset/listpack/hashtable sets, listpack/skiplist zsets with ±inf, listpack/hashtable hashes, streams with
 * deletions, groups, consumers and PEL), binary keys and values, many dbs, TTLs, and optional big keys
 * (200k+ elements per collection type, 8 MB strings). Same seed → same commands, so a failure is reproducible
 * with `SEED=<n>`.
 */
import { Redis } from 'ioredis';
import type { ServerLike } from './compare.ts';

/** mulberry32: small, fast, good enough to pick sizes and bytes. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: SEED from the environment to reproduce, else a fresh one (tests print it). */
export function runSeed(): number {
  const env = process.env.SEED;
  return env ? Number(env) : Math.floor(Math.random() * 2 ** 31);
}

export interface DatasetOptions {
  seed: number;
  /** Ordinary keys spread over the dbs (default 3000). */
  keys?: number;
  /** Dbs used, 0..dbs-1 (default 16). */
  dbs?: number;
  /** Add one key of `bigElements` elements per collection type and two strings of `bigStringBytes`. */
  big?: boolean;
  bigElements?: number;
  bigStringBytes?: number;
  /** Key prefix (e.g. a hash tag for cluster tests). */
  prefix?: string;
}

export interface DatasetSummary {
  seed: number;
  keys: number;
  /** Keys per db. */
  perDb: Map<number, number>;
}

class Gen {
  constructor(readonly rnd: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.rnd() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rnd() * xs.length)];
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = (this.rnd() * 256) | 0;
    return b;
  }
  /** Text, binary, or integer-looking bytes (the server encodes those differently). */
  value(maxLen: number): Buffer {
    switch (this.int(0, 3)) {
      case 0:
        return Buffer.from(String(this.int(-1e9, 1e9)));
      case 1:
        return this.bytes(this.int(0, maxLen));
      default:
        return Buffer.from('v'.repeat(this.int(0, maxLen)) + this.int(0, 1e6));
    }
  }
  /** Distinct members: a counter keeps them unique, random bytes around it make them binary. */
  members(n: number, maxLen: number, ints = false): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      if (ints) out.push(Buffer.from(String(i * this.int(1, 3) + (i % 2 ? -i : 0) * 7919)));
      else out.push(Buffer.concat([this.bytes(this.int(0, maxLen)), Buffer.from(`#${i}`)]));
    }
    return ints ? [...new Map(out.map((b) => [b.toString(), b])).values()] : out;
  }
  score(): string {
    const r = this.rnd();
    if (r < 0.03) return '+inf';
    if (r < 0.06) return '-inf';
    if (r < 0.4) return String(this.int(-1000, 1000));
    return String((this.rnd() - 0.5) * 10 ** this.int(-5, 12));
  }
}

const SIZE_CLASSES = [1, 3, 20, 127, 128, 129, 600] as const;

/** Writes the dataset; returns what it wrote. */
export async function writeDataset(server: ServerLike, opts: DatasetOptions): Promise<DatasetSummary> {
  const g = new Gen(prng(opts.seed));
  const dbs = opts.dbs ?? 16;
  const total = opts.keys ?? 3000;
  const prefix = Buffer.from(opts.prefix ?? '');
  const r = new Redis({ host: server.host, port: server.port, password: server.password, lazyConnect: true });
  await r.connect();
  const perDb = new Map<number, number>();
  const future = () => Date.now() + g.int(3_600_000, 30 * 86_400_000);
  try {
    for (let db = 0; db < dbs; db++) {
      const n = Math.floor(total / dbs) + (db < total % dbs ? 1 : 0);
      await r.select(db);
      let p = r.pipeline();
      for (let i = 0; i < n; i++) {
        const key = Buffer.concat([prefix, g.bytes(g.int(0, 12)), Buffer.from(`:${db}:${i}`)]);
        const size = g.pick(SIZE_CLASSES);
        switch (g.int(0, 6)) {
          case 0:
          case 1: {
            const kind = g.int(0, 3);
            const v =
              kind === 0
                ? Buffer.from(String(g.int(-(2 ** 40), 2 ** 40)))
                : kind === 1
                  ? g.bytes(g.int(0, 40))
                  : kind === 2
                    ? g.bytes(g.int(41, 5000))
                    : Buffer.from('abc'.repeat(g.int(100, 3000))); // compressible: LZF in the RDB
            p.set(key, v);
            break;
          }
          case 2: {
            const els = Array.from({ length: size }, () => g.value(g.rnd() < 0.02 ? 9000 : 60)); // >8 KB: plain nodes
            p.rpush(key, ...els);
            break;
          }
          case 3:
            p.sadd(key, ...g.members(size, 30, g.rnd() < 0.4));
            break;
          case 4: {
            const ms = g.members(size, 30);
            p.zadd(key, ...ms.flatMap((m) => [g.score(), m]));
            break;
          }
          case 5: {
            const fs = g.members(size, 20);
            p.hset(key, ...fs.flatMap((f) => [f, g.value(g.rnd() < 0.05 ? 200 : 40)]));
            break;
          }
          case 6:
            writeStream(p, g, key, size);
            break;
        }
        if (g.rnd() < 0.3) p.pexpireat(key, future());
        if (p.length >= 200) {
          await p.exec();
          p = r.pipeline();
        }
      }
      await p.exec();
      perDb.set(db, n);
    }
    let keys = total;
    if (opts.big) {
      await r.select(0);
      const n = opts.bigElements ?? 200_000;
      const bytes = opts.bigStringBytes ?? 8 * 1024 * 1024;
      const name = (s: string) => Buffer.concat([prefix, Buffer.from(`big:${s}`)]);
      for (let from = 0; from < n; from += 5000) {
        const idx = Array.from({ length: Math.min(5000, n - from) }, (_, i) => from + i);
        const p = r.pipeline();
        p.rpush(name('list'), ...idx.map((i) => Buffer.concat([g.bytes(g.int(0, 8)), Buffer.from(`l${i}`)])));
        p.sadd(name('set'), ...idx.map((i) => Buffer.from(`s${i}`)));
        p.zadd(name('zset'), ...idx.flatMap((i) => [g.score(), Buffer.from(`z${i}`)]));
        p.hset(name('hash'), ...idx.flatMap((i) => [Buffer.from(`f${i}`), g.value(20)]));
        await p.exec();
      }
      await r.pexpireat(name('zset'), future());
      await r.set(name('string'), g.bytes(bytes));
      await r.set(name('string-ttl'), Buffer.alloc(bytes, 'x'), 'PXAT', future());
      keys += 6;
      perDb.set(0, (perDb.get(0) ?? 0) + 6);
    }
    return { seed: opts.seed, keys, perDb };
  } finally {
    r.disconnect();
  }
}

function writeStream(p: ReturnType<Redis['pipeline']>, g: Gen, key: Buffer, size: number): void {
  let ms = g.int(1, 1e12);
  const ids: string[] = [];
  for (let i = 0; i < size; i++) {
    ms += g.int(0, 3);
    const id = `${ms}-${i}`;
    ids.push(id);
    const fields = Array.from({ length: g.int(1, 4) }, (_, j) => [Buffer.from(`f${j}`), g.value(30)]).flat();
    p.xadd(key, id, ...fields);
  }
  if (size > 2 && g.rnd() < 0.5) p.xdel(key, g.pick(ids));
  if (g.rnd() < 0.5) {
    p.xgroup('CREATE', key, 'g1', '0');
    p.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', g.int(1, size), 'STREAMS', key, '>');
    p.xreadgroup('GROUP', 'g1', 'bob', 'COUNT', 1, 'STREAMS', key, '>');
    if (g.rnd() < 0.5) p.xgroup('CREATE', key, 'g2', '$');
    if (g.rnd() < 0.3) p.call('XGROUP', 'CREATECONSUMER', key, 'g1', 'idle');
  }
}
