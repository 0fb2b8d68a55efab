/**
 * A writer that keeps issuing mixed commands against a source while a migration runs: every data type, expiries
 * (long enough not to lapse during a comparison), MULTI/EXEC, deletes, two dbs (not on clusters). Deterministic
 * (seeded), so a failure can be replayed. `stop()` resolves once the last command was answered.
 */
import { Cluster, Redis } from 'ioredis';

export interface LoadOptions {
  host: string;
  port: number;
  password?: string;
  username?: string;
  /** Cluster source: seed nodes (db 0 only, one slot per transaction). */
  cluster?: { host: string; port: number }[];
  seed?: number;
  /** Key prefix (per test). */
  prefix?: string;
}

export interface Load {
  /** Commands answered so far. */
  readonly count: number;
  stop(): Promise<number>;
}

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

export function startLoad(o: LoadOptions): Load {
  const rand = rng(o.seed ?? 42);
  const pick = (n: number) => Math.floor(rand() * n);
  const p = o.prefix ?? 'load';
  const clients: (Redis | Cluster)[] = [];
  const mk = (db: number) =>
    o.cluster
      ? new Cluster(o.cluster, { redisOptions: { password: o.password, username: o.username } })
      : new Redis({ host: o.host, port: o.port, password: o.password, username: o.username, db });
  const main = mk(0);
  clients.push(main);
  const other = o.cluster ? null : mk(1);
  if (other) clients.push(other);
  let count = 0;
  let running = true;
  const hour = () => 3_600_000 + pick(3_600_000);
  // Keys of one transaction share a hash tag so they live in one slot on clusters.
  const key = (t: string) => `${p}:{${t}${pick(20)}}:${pick(50)}`;
  const bin = () => Buffer.from([pick(256), 0, 0xff, pick(256), 0x0d, 0x0a]);

  async function step(r: Redis | Cluster): Promise<void> {
    const k = key('s');
    switch (pick(16)) {
      case 0:
        await r.set(k, bin());
        break;
      case 1:
        await r.set(k, `v${pick(1000)}`, 'PX', hour());
        break;
      case 2:
        await r.incrby(key('n'), pick(100));
        break;
      case 3:
        await r.append(k, 'x');
        break;
      case 4:
        await r.rpush(key('l'), `a${pick(100)}`, bin());
        break;
      case 5:
        await r.lpop(key('l'));
        break;
      case 6:
        await r.sadd(key('S'), `m${pick(30)}`, `m${pick(30)}`);
        break;
      case 7:
        await r.srem(key('S'), `m${pick(30)}`);
        break;
      case 8:
        await r.zadd(key('z'), rand() * 100, `z${pick(40)}`);
        break;
      case 9:
        await r.zincrby(key('z'), 1.5, `z${pick(40)}`);
        break;
      case 10:
        await r.hset(key('h'), `f${pick(20)}`, bin());
        break;
      case 11:
        await r.hdel(key('h'), `f${pick(20)}`);
        break;
      case 12:
        await r.xadd(key('x'), 'MAXLEN', '100', '*', 'f', `v${pick(100)}`);
        break;
      case 13:
        await r.del(key(['s', 'l', 'S', 'z', 'h', 'n'][pick(6)]));
        break;
      case 14: {
        const t = `t${pick(10)}`;
        await r
          .multi()
          .set(`${p}:{${t}}:a`, `v${pick(1000)}`)
          .incr(`${p}:{${t}}:c`)
          .rpush(`${p}:{${t}}:l`, 'x')
          .pexpire(`${p}:{${t}}:a`, hour())
          .exec();
        break;
      }
      default:
        if (pick(2)) await r.pexpire(k, hour());
        else await r.persist(k);
    }
    count++;
  }

  async function loop(r: Redis | Cluster): Promise<void> {
    while (running) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) batch.push(step(r));
      await Promise.all(batch);
      await new Promise((res) => setImmediate(res));
    }
  }
  const loops = [loop(main), ...(other ? [loop(other)] : [])];
  return {
    get count() {
      return count;
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      for (const c of clients) c.disconnect();
      return count;
    },
  };
}
