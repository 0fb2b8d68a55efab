/**
 * Every fixture through the CLI's import command (in process: same argument parsing, pipeline and writer as the
 * executable, without a process start per file):
 * - each fixture the local redis-server loads natively: imported once through RESTORE and once as plain commands
 *   (`--no-restore`) into a fresh db, the target must equal the natively loaded server key by key (type, value,
 *   exact expiry, stream groups/PEL) and by DEBUG DIGEST;
 * - each newer-format fixture (RDB 11–13, VALKEY080) the local server cannot load: imported through the command
 *   path, every decoded key must be on the target with its type, value and expiry — or, where the file holds
 *   something a Redis 7.0 target cannot store (hash field TTLs, module values), the import must fail naming it.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { importCommand } from '../../src/cli/import.ts';
import { assertSameData, dataOf } from '../helpers/compare.ts';
import {
  assertServerHas,
  FIXTURES_DIR,
  fixture,
  KNOWN_BAD,
  manifest,
  mergeKeys,
  nativeFixtures,
  parseChunks,
} from '../helpers/rdb-fixtures.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';

/** Runs `dcs-migrate import … --json` in process; returns the exit code and the parsed summary or the error. */
async function cliImport(args: string[]): Promise<{ summary: Record<string, number>; error?: Error }> {
  let text = '';
  try {
    const code = await importCommand([...args, '--json'], { write: (s: string) => (text += s) });
    assert.equal(code, 0);
    return { summary: JSON.parse(text) };
  } catch (error) {
    return { summary: {}, error: error as Error };
  }
}

/**
 * Source values only RESTORE can reproduce (the command path leaves out just that key in its comparison; the
 * RESTORE path still compares it).
 */
const COMMAND_PATH_QUIRKS: Record<string, { key: string; why: string }> = {
  'hdt3213-rdb/stream_listpacks_1.rdb': {
    key: 'trim',
    why: 'the file stores length 120 for a stream of 118 entries; Redis trusts the field, no command can set XLEN',
  },
  'redis-replicator/listpack-bug.rdb': { key: 'trim', why: 'the same stream as above' },
  'redis-replicator/dump-stream.rdb': { key: 'trim', why: 'length 130 stored for 128 entries' },
};

async function totalKeys(c: Redis): Promise<number> {
  let n = 0;
  for (const m of (await c.info('keyspace')).matchAll(/keys=(\d+)/g)) n += Number(m[1]);
  return n;
}

const dirs: string[] = [];
let target: RedisServer;
let tc: Redis;
before(async () => {
  target = await startRedis();
  tc = new Redis(target.port, '127.0.0.1');
});
after(async () => {
  tc.disconnect();
  await target.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('CLI import equals a native load (RESTORE and command paths)', { concurrency: 1 }, () => {
  for (const f of nativeFixtures()) {
    test(f.path, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cli-native-'));
      dirs.push(dir);
      copyFileSync(join(FIXTURES_DIR, f.path), join(dir, 'dump.rdb'));
      const native = await startRedis({ dir, args: ['--dbfilename', 'dump.rdb'] });
      try {
        const nativeDigest = await native.cli('DEBUG', 'DIGEST');
        for (const extra of [[], ['--no-restore']]) {
          await tc.flushall();
          await tc.call('FUNCTION', 'FLUSH');
          const { summary, error } = await cliImport([
            join(FIXTURES_DIR, f.path),
            '--target',
            target.url,
            ...extra,
          ]);
          assert.ifError(error);
          const [want, got] = [await dataOf(native), await dataOf(target)];
          const quirk = extra.length ? COMMAND_PATH_QUIRKS[f.path] : undefined;
          if (quirk) for (const snap of [want, got]) snap.get(0)?.delete(quirk.key);
          await assertSameData(want, got, { ignoreZeroSign: extra.length > 0 });
          assert.equal(summary.keys, await totalKeys(tc), 'keys reported = keys on the target');
          if (extra.length === 0) assert.equal(await target.cli('DEBUG', 'DIGEST'), nativeDigest);
        }
      } finally {
        await native.stop();
      }
    });
  }
});

/** Newer than the local server: RDB 11+ or Valkey, decodable (not a deliberately bad file), REDIS/VALKEY header. */
const NEWER = manifest().filter((f) => {
  const v = (f.scan?.rdb as { version?: number } | undefined)?.version;
  return v !== undefined && v > 10 && !KNOWN_BAD[f.path] && /^(REDIS|VALKEY)/.test(f.header ?? '');
});

describe('CLI import of newer-format files into a Redis 7.0 target (command path)', {
  concurrency: 1,
}, () => {
  for (const f of NEWER) {
    test(f.path, async () => {
      const now = Date.now();
      const keys = mergeKeys(
        parseChunks([fixture(f.path)], { now: () => now, skipExpired: true }).entries,
      ).filter((k) => k.expireAt === 0 || k.expireAt > now + 60_000);
      await tc.flushall();
      await tc.call('FUNCTION', 'FLUSH');
      const { summary, error } = await cliImport([join(FIXTURES_DIR, f.path), '--target', target.url]);
      const unstorable = keys.find((k) => k.type === 'module' || k.hash?.expires?.some((e) => e > now));
      if (unstorable) {
        assert.ok(error, `import of ${f.path} must fail: ${unstorable.type} key cannot be stored on 7.0`);
        assert.match(error.message, /hash field TTLs need|module/i);
        return;
      }
      assert.ifError(error);
      assert.equal(summary.keys, keys.length);
      await assertServerHas(tc, keys);
    });
  }
});
