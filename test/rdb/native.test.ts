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
import {
  assertServerHas,
  FIXTURES_DIR,
  mergeKeys,
  nativeFixtures,
  parseChunks,
} from '../helpers/rdb-fixtures.ts';
import { startRedis } from '../helpers/redis-server.ts';

const NOW = Date.now();

const NATIVE = nativeFixtures();

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

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
        for (const k of keys) perDb.set(k.db, (perDb.get(k.db) ?? 0) + 1);
        await assertServerHas(nc, keys);
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
