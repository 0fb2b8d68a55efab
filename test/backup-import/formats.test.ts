/**
 * Backup import through the API, RDB and AOF forms, against s3rver and real redis-server processes: the target is
 * compared key by key (type, value, TTL) with the Redis that wrote the files, or with a Redis that loaded them
 * natively where the files are not a whole dataset (truncated AOF, fixtures).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { assertSameData } from '../helpers/compare.ts';
import { fixture } from '../helpers/rdb-fixtures.ts';
import { startRedis } from '../helpers/redis-server.ts';
import {
  AofSuite,
  assertSucceeded,
  keyCount,
  logsOf,
  nameOf,
  populate,
  saveRdb,
  targetOf,
} from './support.ts';

const suite = new AofSuite();

describe('backup import: RDB', () => {
  test('an RDB written by redis-server into a password-protected target: every key, value and TTL equal', async () => {
    const src = await startRedis();
    suite.servers.push(src);
    await populate(src, 'r');
    const t = await startRedis({ password: 'Tgt-pass-1' });
    suite.servers.push(t);
    const { p, id } = await suite.importInto(targetOf(t), { 'backups/2026/dump.rdb': await saveRdb(src) });
    await assertSucceeded(suite.env, p, id, await keyCount(src));
    await assertSameData(src, t);
    const codes = (await logsOf(suite.env, p, id)).map((l) => l.log_code);
    for (const c of [
      'IMPORT_STARTED',
      'FILE_STARTED',
      'FILE_FINISHED',
      'IMPORT_FINISHED',
      'TASK_SUCCEEDED',
    ]) {
      assert.ok(codes.includes(c), `log ${c} missing: ${codes.join(', ')}`);
    }
  });

  test('format is read from content: a gzip named .rdb and an RDB named .aof', async () => {
    const src = await startRedis();
    suite.servers.push(src);
    await populate(src, 'g');
    const rdb = await saveRdb(src);
    const t = await suite.target();
    const { p, id } = await suite.importInto(targetOf(t), { 'dump.rdb': gzipSync(rdb) });
    await assertSucceeded(suite.env, p, id, await keyCount(src));
    await assertSameData(src, t);
    const t2 = await suite.target();
    const r2 = await suite.importInto(targetOf(t2), { 'appendonly.aof': rdb });
    await assertSucceeded(suite.env, r2.p, r2.id, await keyCount(src));
    await assertSameData(src, t2);
  });
});

describe('backup import: AOF', () => {
  test('multi-part AOF (RESP base, #TS annotations) as task files, listed out of order: manifest order wins', async () => {
    const base = nameOf(suite.plainFiles, /\.base\.aof$/);
    const incr = nameOf(suite.plainFiles, /\.incr\.aof$/);
    const manifest = nameOf(suite.plainFiles, /\.manifest$/);
    assert.ok(
      [...suite.plainFiles.values()].some((b) => b.includes('#TS:')),
      'the AOF files have no #TS: annotations',
    );
    const t = await suite.target();
    const files = {
      [`d/${incr}`]: suite.plainFiles.get(incr)!,
      [`d/${base}`]: suite.plainFiles.get(base)!,
      [`d/${manifest}`]: suite.plainFiles.get(manifest)!,
    };
    const { p, id } = await suite.importInto(targetOf(t), files);
    await assertSucceeded(suite.env, p, id, await keyCount(suite.plainSrc));
    await assertSameData(suite.plainSrc, t);
  });

  test('multi-part AOF with RDB preamble base: the task names only the manifest', async () => {
    const manifest = nameOf(suite.preFiles, /\.manifest$/);
    const files: Record<string, Buffer> = {};
    for (const [n, b] of suite.preFiles) files[`aof/${n}`] = b;
    const t = await suite.target();
    const { p, id } = await suite.importInto(targetOf(t), files, [`aof/${manifest}`]);
    await assertSucceeded(suite.env, p, id, await keyCount(suite.preSrc));
    await assertSameData(suite.preSrc, t);
  });

  test('single-file AOF with an RDB preamble (Redis < 7 layout)', async () => {
    const one = Buffer.concat([
      suite.preFiles.get(nameOf(suite.preFiles, /\.base\.rdb$/))!,
      suite.preFiles.get(nameOf(suite.preFiles, /\.incr\.aof$/))!,
    ]);
    const t = await suite.target();
    const { p, id } = await suite.importInto(targetOf(t), { 'appendonly.aof': one });
    await assertSucceeded(suite.env, p, id, await keyCount(suite.preSrc));
    await assertSameData(suite.preSrc, t);
  });

  test('an AOF cut inside its last command is applied up to the last complete command, with a WARN', async () => {
    const base = suite.plainFiles.get(nameOf(suite.plainFiles, /\.base\.aof$/))!;
    const incr = suite.plainFiles.get(nameOf(suite.plainFiles, /\.incr\.aof$/))!;
    const whole = Buffer.concat([base, incr]);
    const cut = whole.subarray(0, whole.length - 7);
    // Reference: redis-server loading the same truncated file (aof-load-truncated yes).
    const dir = mkdtempSync(join(tmpdir(), 'dcs-aof-ref-'));
    writeFileSync(join(dir, 'appendonly.aof'), cut);
    const ref = await startRedis({ dir, args: ['--appendonly', 'yes', '--aof-load-truncated', 'yes'] });
    suite.servers.push(ref);
    const t = await suite.target();
    const { p, id } = await suite.importInto(targetOf(t), { 'appendonly.aof': cut });
    await assertSucceeded(suite.env, p, id, await keyCount(ref));
    await assertSameData(ref, t);
    const warn = (await logsOf(suite.env, p, id)).find((l) => l.log_code === 'WARN_AOF_TRUNCATED');
    assert.ok(warn, 'no AOF_TRUNCATED warning');
    assert.match(
      warn.message,
      /appendonly\.aof: the file ends inside a command; applied up to the last complete command \(byte \d+\), \d+ bytes ignored/,
    );
  });

  for (const name of ['appendonly5.aof', 'appendonly7.aof', 'appendonly2.aof']) {
    test(`fixture redis-replicator/${name} equals a native load of it`, async () => {
      const aof = fixture(`redis-replicator/${name}`);
      const dir = mkdtempSync(join(tmpdir(), 'dcs-aof-ref-'));
      writeFileSync(join(dir, 'appendonly.aof'), aof);
      const ref = await startRedis({ dir, args: ['--appendonly', 'yes'] });
      suite.servers.push(ref);
      const t = await suite.target();
      const { p, id } = await suite.importInto(targetOf(t), { [name]: aof });
      await assertSucceeded(suite.env, p, id, await keyCount(ref));
      await assertSameData(ref, t);
    });
  }
});
