/**
 * Damaged files never harm the target. Small fixtures the local redis-server loads, each with seeded bit flips
 * (half of them with the file's checksum zeroed, i.e. disabled, so a flip meets the value checks rather than the CRC
 * at EOF), are imported with the real `dcs-migrate import` into one redis-server with the default
 * `sanitize-dump-payload no`, which restores a payload after checking little more than its header. Each import
 * exits 0 or 1 with a message (never a JavaScript exception), and afterwards the server reads every value it holds
 * (DEBUG DIGEST walks each element) and answers PING: no damaged value was restored into it.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { prng } from '../helpers/random-dataset.ts';
import { fixture, nativeFixtures, parseChunks } from '../helpers/rdb-fixtures.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';

const FLIPS = 2;

describe('damaged files into a real server', { concurrency: 1 }, () => {
  let tgt: RedisServer;
  before(async () => {
    tgt = await startRedis();
  });
  after(async () => {
    await tgt.stop();
  });

  test('every import ends cleanly and the server can read all it holds', async () => {
    const files = nativeFixtures().filter((f) => f.size <= 16 * 1024);
    assert.ok(files.length > 40, `${files.length} fixtures`);
    const rand = prng(0xda3a6e);
    const file = join(tgt.dir, 'damaged.rdb');
    let imports = 0;
    let refused = 0;
    for (const f of files) {
      const input = fixture(f.path);
      const crcEnd = input.length - parseChunks([input]).parser.trailing.length;
      for (let i = 0; i < FLIPS; i++) {
        const m = Buffer.from(input);
        if (i % 2 === 1 && (f.scan?.rdb?.version ?? 0) >= 5) m.fill(0, crcEnd - 8, crcEnd);
        const at = 9 + Math.floor(rand() * (crcEnd - 9 - 8));
        m[at] ^= 1 << Math.floor(rand() * 8);
        writeFileSync(file, m);
        await tgt.cli('FLUSHALL');
        const r = await runCli(['import', file, '--target', tgt.url, '--json'], { timeoutMs: 30_000 });
        const what = `${f.path} flip@${at}${i % 2 ? ' (checksum zeroed)' : ''}`;
        assert.ok(r.code === 0 || r.code === 1, `${what}: exit ${r.code}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /TypeError|RangeError|ReferenceError|\.[tj]s:\d+/, what);
        if (r.code === 1) {
          assert.match(r.stderr, /^dcs-migrate: \S/m, what);
          refused++;
        }
        assert.match(await tgt.cli('DEBUG', 'DIGEST'), /^[0-9a-f]{40}/, what);
        assert.equal(await tgt.cli('PING'), 'PONG', what);
        imports++;
      }
    }
    assert.ok(refused > imports / 4, `${refused} of ${imports} refused: the flips reach the checks`);
  });
});
