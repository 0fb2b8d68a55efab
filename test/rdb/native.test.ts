/**
 * Compare with Redis itself (STYLE habits 3 and 15): every fixture the local redis-server (7.0.15, RDB 10) loads
 * natively is loaded into a fresh server; each decoded key must match the server's type, value and PEXPIRETIME.
 * Then the DUMP payloads the decoder builds (dumpable: types ≤ 19, dumpRdbVersion 10) are RESTOREd into another
 * fresh server and its DEBUG DIGEST must equal the natively loaded one.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { FIXTURES_DIR, type MergedKey, manifest, mergeKeys, parseChunks } from '../helpers/rdb-fixtures.ts';
import { startRedis } from '../helpers/redis-server.ts';

const NOW = Date.now();

/** redis-check-rdb passes these but redis-server refuses them. */
const NATIVE_UNLOADABLE: Record<string, string> = {
  'redis-rdb-cli/rdt/12.rdb': 'tool-generated split with a duplicated key (server panics on load)',
};

const seen = new Set<string>();
/** Fixtures redis-server 7.0 loads: redis-check-rdb OK, RDB ≤ 10, no module data, no pre-GA functions. */
const NATIVE = manifest().filter((f) => {
  if (NATIVE_UNLOADABLE[f.path]) return false;
  const sha = (f as { sha256?: string }).sha256 ?? f.path;
  if (seen.has(sha)) return false; // byte-identical copies are tested once
  seen.add(sha);
  const scan = f.scan?.rdb as
    | { version?: number; types?: Record<string, number>; opcodes?: Record<string, number> }
    | undefined;
  if (f.redis_check_rdb !== 'OK' || !scan || (scan.version ?? 99) > 10 || !f.header?.startsWith('REDIS'))
    return false;
  const types = Object.keys(scan.types ?? {});
  const ops = Object.keys(scan.opcodes ?? {});
  if (types.some((t) => t.startsWith('MODULE'))) return false;
  if (ops.includes('MODULE_AUX') || ops.includes('FUNCTION_PRE_GA')) return false;
  return f.path.endsWith('.rdb');
});

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function serverValue(c: Redis, k: MergedKey): Promise<unknown> {
  const key = k.key;
  switch (k.type) {
    case 'string':
      return c.getBuffer(key);
    case 'list':
      return c.lrangeBuffer(key, 0, -1);
    case 'set':
      return (await c.smembersBuffer(key)).map((b) => b.toString('hex')).sort();
    case 'zset': {
      const r = await c.zrangeBuffer(key, 0, -1, 'WITHSCORES');
      const out: [string, number][] = [];
      for (let i = 0; i < r.length; i += 2) {
        const score = Number(r[i + 1].toString().replace(/^([-+]?)inf$/, '$1Infinity'));
        out.push([r[i].toString('hex'), score === 0 ? 0 : score]);
      }
      return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    }
    case 'hash': {
      const r = await c.hgetallBuffer(key);
      return Object.entries(r)
        .map(([f, v]) => [Buffer.from(f, 'binary').toString('hex'), v.toString('hex')])
        .sort();
    }
    case 'stream': {
      const r = (await c.callBuffer('XRANGE', key, '-', '+')) as [Buffer, Buffer[]][];
      return r.map(([id, fields]) => [id.toString(), fields.map((b) => b.toString('hex'))]);
    }
    default:
      return null;
  }
}

function decodedValue(k: MergedKey): unknown {
  switch (k.type) {
    case 'string':
      return k.string;
    case 'list':
      return k.list;
    case 'set':
      return k.set!.map((b) => b.toString('hex')).sort();
    case 'zset':
      return k
        .zset!.members.map(
          (m, i) => [m.toString('hex'), k.zset!.scores[i] === 0 ? 0 : k.zset!.scores[i]] as [string, number],
        )
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    case 'hash':
      return k.hash!.fields.map((f, i) => [f.toString('hex'), k.hash!.values[i].toString('hex')]).sort();
    case 'stream':
      return k.stream!.entries.map((e) => [`${e.id.ms}-${e.id.seq}`, e.fields.map((b) => b.toString('hex'))]);
    default:
      return null;
  }
}

describe('decoded keys equal a native redis-server load', { concurrency: 1 }, () => {
  for (const f of NATIVE) {
    test(f.path, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rdb-native-'));
      dirs.push(dir);
      copyFileSync(join(FIXTURES_DIR, f.path), join(dir, 'dump.rdb'));
      const native = await startRedis({ dir, args: ['--dbfilename', 'dump.rdb'] });
      const fresh = await startRedis();
      const nc = new Redis(native.port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 1 });
      const fc = new Redis(fresh.port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 1 });
      try {
        const input = await import('node:fs').then((fs) => fs.readFileSync(join(FIXTURES_DIR, f.path)));
        const keys = mergeKeys(parseChunks([input], { now: () => NOW }).entries).filter(
          (k) => k.expireAt === 0 || k.expireAt > NOW + 60_000,
        );
        // 1. Key by key against the native load.
        const perDb = new Map<number, number>();
        for (const k of keys) {
          perDb.set(k.db, (perDb.get(k.db) ?? 0) + 1);
          await nc.select(k.db);
          const type = await nc.type(k.key);
          assert.equal(type, k.type, `type of ${k.key.toString('latin1')}`);
          assert.deepEqual(await serverValue(nc, k), decodedValue(k), `value of ${k.key.toString('latin1')}`);
          const pexp = Number(await nc.call('PEXPIRETIME', k.key));
          assert.equal(pexp === -1 ? 0 : pexp, k.expireAt, `expiry of ${k.key.toString('latin1')}`);
        }
        for (const [db, n] of perDb) {
          await nc.select(db);
          assert.equal(await nc.dbsize(), n, `dbsize of db ${db}`);
        }
        // 2. DUMP payloads restored into a fresh server give the same DEBUG DIGEST.
        const dumped = mergeKeys(
          parseChunks([input], { now: () => NOW, dumpable: (t) => t <= 19, dumpRdbVersion: 10 }).entries,
        ).filter((k) => k.expireAt === 0 || k.expireAt > NOW + 60_000);
        assert.equal(dumped.length, keys.length);
        for (const k of dumped) {
          assert.ok(k.dump, `dump of ${k.key.toString('latin1')}`);
          await fc.select(k.db);
          await fc.call('RESTORE', k.key, String(k.expireAt), k.dump!, 'ABSTTL');
        }
        assert.equal(await fc.call('DEBUG', 'DIGEST'), await nc.call('DEBUG', 'DIGEST'));
      } finally {
        nc.disconnect();
        fc.disconnect();
        await native.stop();
        await fresh.stop();
      }
    });
  }
});
