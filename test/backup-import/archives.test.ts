/**
 * Backup import through the API, archives (tar, tar.gz, zip), several files and a cluster target, against s3rver and real redis-server processes: the target is
 * compared key by key (type, value, TTL) with the Redis that wrote the files, or with a Redis that loaded them
 * natively where the files are not a whole dataset (truncated AOF, fixtures).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { assertSameData, dataOfAll } from '../helpers/compare.ts';
import { startCluster, startRedis } from '../helpers/redis-server.ts';
import { makeZip } from '../helpers/zip.ts';
import {
  AofSuite,
  aofDir,
  assertSucceeded,
  keyCount,
  logsOf,
  nameOf,
  populate,
  rewriteAof,
  targetOf,
} from './support.ts';

const suite = new AofSuite();

describe('backup import: archives and several files', () => {
  function stage(files: Map<string, Buffer>): string {
    const dir = mkdtempSync(join(tmpdir(), 'dcs-arc-'));
    mkdirSync(join(dir, 'appendonlydir'));
    for (const [n, b] of files) writeFileSync(join(dir, 'appendonlydir', n), b);
    return dir;
  }

  test('tar.gz of an appendonlydir whose files come before their manifest (read in two passes)', async () => {
    const dir = stage(suite.plainFiles);
    const names = [...suite.plainFiles.keys()].sort().reverse(); // manifest, incr, base
    const tgz = execFileSync('tar', ['-czf', '-', '-C', dir, ...names.map((n) => `appendonlydir/${n}`)], {
      maxBuffer: 1 << 30,
    });
    const t = await suite.target();
    const { p, id } = await suite.importInto(targetOf(t), { 'backup.tgz': tgz });
    await assertSucceeded(suite.env, p, id, await keyCount(suite.plainSrc));
    await assertSameData(suite.plainSrc, t);
    const codes = (await logsOf(suite.env, p, id)).map((l) => l.log_code);
    assert.ok(codes.includes('MANIFEST_READ'));
  });

  test('a set with two incr files, stored in reverse order in a tar: equals redis-server loading the same directory', async () => {
    const cmd = (...a: string[]) => `*${a.length}\r\n${a.map((x) => `$${x.length}\r\n${x}\r\n`).join('')}`;
    const files = new Map<string, Buffer>([
      ['appendonly.aof.5.base.rdb', suite.preFiles.get(nameOf(suite.preFiles, /\.base\.rdb$/))!],
      [
        'appendonly.aof.6.incr.aof',
        Buffer.from(cmd('SELECT', '0') + cmd('SET', 'k', 'v1') + cmd('RPUSH', 'l', 'a')),
      ],
      [
        'appendonly.aof.7.incr.aof',
        Buffer.from(
          cmd('SET', 'k', 'v2') + cmd('RPUSH', 'l', 'b') + cmd('SELECT', '3') + cmd('SET', 'k', 'v3'),
        ),
      ],
      [
        'appendonly.aof.manifest',
        Buffer.from(
          'file appendonly.aof.5.base.rdb seq 5 type b\nfile appendonly.aof.6.incr.aof seq 6 type i\nfile appendonly.aof.7.incr.aof seq 7 type i\n',
        ),
      ],
    ]);
    const dir = stage(files);
    const ref = await startRedis({ dir, args: ['--appendonly', 'yes'] });
    suite.servers.push(ref);
    assert.equal(await ref.cli('GET', 'k'), 'v2');
    const names = [...files.keys()]
      .sort()
      .reverse()
      .map((n) => `appendonlydir/${n}`);
    const tar = execFileSync('tar', ['-cf', '-', '-C', dir, ...names], { maxBuffer: 1 << 30 });
    const t = await suite.target();
    const { p, id } = await suite.importInto(targetOf(t), { 'set.tar': tar });
    await assertSucceeded(suite.env, p, id, await keyCount(ref));
    await assertSameData(ref, t);
    const passes = (await logsOf(suite.env, p, id)).filter((l) => l.log_code === 'ARCHIVE_REREAD').length;
    // Stream order manifest, incr 7, incr 6, base: base applies in pass 1, incr 6 in pass 2, incr 7 in pass 3.
    assert.equal(passes, 2);
  });

  test('zip with data descriptors (written to a pipe) holding the preamble multi-part set', async () => {
    // A writer on a pipe cannot seek back: every member gets a data descriptor (flag bit 3).
    const zip = makeZip(
      [...suite.preFiles].map(([n, b]) => [`appendonlydir/${n}`, b] as [string, Buffer]),
      { pipe: true },
    );
    assert.equal(zip.readUInt32LE(0), 0x04034b50);
    assert.ok(zip.readUInt16LE(6) & 0x8, 'the zip has no data descriptors: this test would not test them');
    const t = await suite.target();
    const { p, id } = await suite.importInto(targetOf(t), { 'backup.zip': zip });
    await assertSucceeded(suite.env, p, id, await keyCount(suite.preSrc));
    await assertSameData(suite.preSrc, t);
  });

  test('several files are applied in the order given (a later file overwrites an earlier one)', async () => {
    const base = suite.preFiles.get(nameOf(suite.preFiles, /\.base\.rdb$/))!;
    const incr = suite.preFiles.get(nameOf(suite.preFiles, /\.incr\.aof$/))!;
    const dir = mkdtempSync(join(tmpdir(), 'dcs-tar-'));
    writeFileSync(join(dir, 'part2.aof'), incr);
    const tar = execFileSync('tar', ['-cf', '-', '-C', dir, 'part2.aof'], { maxBuffer: 1 << 30 });
    const t = await suite.target();
    const { p, id } = await suite.importInto(targetOf(t), { 'one/part1.rdb': base, 'two/part2.tar': tar });
    await assertSucceeded(suite.env, p, id, await keyCount(suite.preSrc));
    await assertSameData(suite.preSrc, t);
    assert.equal(await t.cli('GET', 'a:str:3:'), 'overwritten-in-incr');
  });

  test('a cluster target: RDB and multi-part AOF spread over the masters by slot', async () => {
    const src = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    suite.servers.push(src);
    await populate(src, 'c', { cluster: true });
    await rewriteAof(src);
    await populate(src, 'd', { cluster: true });
    const files: Record<string, Buffer> = {};
    for (const [n, b] of aofDir(src.dir)) files[`aof/${n}`] = b;
    const cluster = await startCluster(3);
    try {
      const manifest = Object.keys(files).find((n) => n.endsWith('.manifest'))!;
      const { p, id } = await suite.importInto({ addrs: cluster.addrs }, files, [manifest]);
      await assertSucceeded(suite.env, p, id, await keyCount(src));
      await assertSameData(src, await dataOfAll(cluster.nodes));
    } finally {
      await cluster.stop();
    }
  });
});
