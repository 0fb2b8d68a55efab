/**
 * Corruption inside a ziplist, listpack or intset that its header does not show (a wrong entry count, a
 * back-length or prevlen that does not match, members out of order) fails with a typed error naming the key in
 * every mode of the parser: decoded values, DUMP payloads per key, and dump runs (the WebAssembly lane and the
 * JavaScript path after it). A target restores such a payload as it is (Redis checks no more than the header
 * unless sanitize-dump-payload is on) and can crash when the value is read later, so a dump must be checked as
 * deeply as a decoded value. The files carry a zero checksum (disabled), so only these checks can catch it.
 * Also: a big list (beyond the lane) with one corrupt node among many, a stream entry whose listpack is sound but
 * whose stream structure is not, and the real CLI against a real server.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { RdbError, type RdbParserOptions } from '../../src/rdb/index.ts';
import { runCli } from '../helpers/cli.ts';
import { parseChunks } from '../helpers/rdb-fixtures.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';

const b = (s: string) => Buffer.from(s, 'latin1');

/** One key `k` of RDB type `type` whose value is the string `blob`, in an RDB of `version`, checksum 0. */
function rdbOf(type: number, blob: Buffer, version = 10): Buffer {
  return Buffer.concat([
    b(`REDIS00${version}`),
    Buffer.from([0xfe, 0x00, type, 0x01, 0x6b]),
    lengthOf(blob.length),
    blob,
    Buffer.from([0xff]),
    Buffer.alloc(8),
  ]);
}

function lengthOf(n: number): Buffer {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const out = Buffer.alloc(5);
  out[0] = 0x80;
  out.writeUInt32BE(n, 1);
  return out;
}

/** A ziplist of short strings; `count` overrides the header's entry count. */
function ziplist(items: string[], count = items.length): Buffer {
  const entries: Buffer[] = [];
  let prev = 0;
  for (const it of items) {
    const e = Buffer.concat([Buffer.from([prev, it.length]), b(it)]);
    entries.push(e);
    prev = e.length;
  }
  const body = Buffer.concat(entries);
  const head = Buffer.alloc(10);
  head.writeUInt32LE(10 + body.length + 1, 0);
  head.writeUInt32LE(items.length ? 10 + body.length - prev : 10, 4);
  head.writeUInt16LE(count, 8);
  return Buffer.concat([head, body, Buffer.from([0xff])]);
}

/** A listpack of short strings; `count` overrides the header's element count, `backlen` the first back-length. */
function listpack(items: string[], opts: { count?: number; backlen?: number } = {}): Buffer {
  const entries = items.map((it, i) => {
    const back = i === 0 && opts.backlen !== undefined ? opts.backlen : 1 + it.length;
    return Buffer.concat([Buffer.from([0x80 | it.length]), b(it), Buffer.from([back])]);
  });
  const body = Buffer.concat(entries);
  const head = Buffer.alloc(6);
  head.writeUInt32LE(6 + body.length + 1, 0);
  head.writeUInt16LE(opts.count ?? items.length, 4);
  return Buffer.concat([head, body, Buffer.from([0xff])]);
}

function intset16(members: number[]): Buffer {
  const out = Buffer.alloc(8 + 2 * members.length);
  out.writeUInt32LE(2, 0);
  out.writeUInt32LE(members.length, 4);
  members.forEach((m, i) => {
    out.writeInt16LE(m, 8 + 2 * i);
  });
  return out;
}

/** Quicklist 2 value: `nodes` packed listpacks (container 2). */
function quicklist2(nodes: Buffer[]): Buffer {
  return Buffer.concat([
    lengthOf(nodes.length),
    ...nodes.flatMap((n) => [Buffer.from([2]), lengthOf(n.length), n]),
  ]);
}

/** Like rdbOf, for a value that is not one string (quicklists: a node count, then nodes). */
function rdbOfValue(type: number, value: Buffer, version = 10): Buffer {
  return Buffer.concat([
    b(`REDIS00${version}`),
    Buffer.from([0xfe, 0x00, type, 0x01, 0x6b]),
    value,
    Buffer.from([0xff]),
    Buffer.alloc(8),
  ]);
}

const MODES: [string, RdbParserOptions][] = [
  ['decoded values', {}],
  ['DUMP per key', { dumpable: () => true }],
  ['dump runs (lane)', { dumpable: () => true, dumpRuns: true, dumpRdbVersion: 11 }],
];

function assertRejected(rdb: Buffer, code: string, what: string): void {
  for (const [mode, opts] of MODES) {
    assert.throws(
      () => parseChunks([rdb], opts),
      (e: unknown) => {
        assert.ok(e instanceof RdbError, `${what}, ${mode}: ${String(e)}`);
        assert.equal(e.code, code, `${what}, ${mode}: ${e.message}`);
        assert.equal(e.where.key, 'k', `${what}, ${mode}: names the key`);
        return true;
      },
      `${what}, ${mode}: accepted`,
    );
  }
}

describe('corruption inside a value is caught in every mode', () => {
  test('the well-formed values parse (the builders are right)', () => {
    const good: [number, Buffer, number?][] = [
      [10, ziplist(['a', 'b', 'c'])],
      [12, ziplist(['m', '1', 'n', '2'])],
      [13, ziplist(['f', 'v'])],
      [16, listpack(['f', 'v', 'g', 'w'])],
      [17, listpack(['m', '1', 'n', '2'])],
      [20, listpack(['a', 'b']), 11],
      [11, intset16([1, 5, 9])],
    ];
    for (const [type, blob, version] of good) {
      for (const [mode, opts] of MODES) {
        const { entries } = parseChunks([rdbOf(type, blob, version)], opts);
        assert.equal(
          entries.filter((e) => e.kind === 'key' || e.kind === 'dumps').length,
          1,
          `${type} ${mode}`,
        );
      }
    }
    const ql = rdbOfValue(18, quicklist2([listpack(['a', 'b']), listpack(['c'])]));
    for (const [, opts] of MODES) assert.ok(parseChunks([ql], opts).entries.length >= 1);
  });

  test('ziplists: entry count, prevlen', () => {
    assertRejected(rdbOf(10, ziplist(['a', 'b', 'c'], 2)), 'RDB_ERR_ZIPLIST', 'list ziplist count');
    assertRejected(rdbOf(12, ziplist(['m', '1', 'n', '2'], 6)), 'RDB_ERR_ZIPLIST', 'zset ziplist count');
    const zl = ziplist(['f', 'v', 'g', 'w']);
    zl[10 + 3] = 9; // the second entry's prevlen
    assertRejected(rdbOf(13, zl), 'RDB_ERR_ZIPLIST', 'hash ziplist prevlen');
  });

  test('listpacks: element count, back-length', () => {
    assertRejected(rdbOf(16, listpack(['f', 'v'], { count: 4 })), 'RDB_ERR_LISTPACK', 'hash listpack count');
    assertRejected(
      rdbOf(17, listpack(['m', '1'], { backlen: 7 })),
      'RDB_ERR_LISTPACK',
      'zset listpack backlen',
    );
    assertRejected(
      rdbOf(20, listpack(['a', 'b'], { count: 3 }), 11),
      'RDB_ERR_LISTPACK',
      'set listpack count',
    );
    const second = listpack(['c', 'd'], { backlen: 5 });
    assertRejected(
      rdbOfValue(18, quicklist2([listpack(['a', 'b']), second])),
      'RDB_ERR_LISTPACK',
      'quicklist second node',
    );
  });

  test('pairs: a zset or hash with an odd number of elements', () => {
    assertRejected(rdbOf(17, listpack(['m', '1', 'n'])), 'RDB_ERR_LISTPACK', 'zset listpack odd');
    assertRejected(rdbOf(12, ziplist(['m', '1', 'n'])), 'RDB_ERR_ZIPLIST', 'zset ziplist odd');
    assertRejected(rdbOf(16, listpack(['f', 'v', 'g'])), 'RDB_ERR_LISTPACK', 'hash listpack odd');
  });

  test('intsets: members out of order or repeated', () => {
    assertRejected(rdbOf(11, intset16([5, 1, 9])), 'RDB_ERR_INTSET', 'intset order');
    assertRejected(rdbOf(11, intset16([1, 5, 5])), 'RDB_ERR_INTSET', 'intset repeat');
  });

  test('a big list beyond the lane, one corrupt node among many', () => {
    // 60 nodes of 50 elements of 30 bytes: about 96 KB, beyond the lane (64 KiB): the JavaScript path takes it.
    const nodes = Array.from({ length: 60 }, (_, n) =>
      listpack(Array.from({ length: 50 }, (_, i) => `element-${n}-${i}`.padEnd(30, '.'))),
    );
    const good = rdbOfValue(18, quicklist2(nodes));
    assert.ok(good.length > 64 * 1024);
    for (const [, opts] of MODES) assert.ok(parseChunks([good], opts).entries.length >= 1);
    nodes[30] = listpack(
      Array.from({ length: 50 }, (_, i) => `element-30-${i}`.padEnd(30, '.')),
      { count: 49 },
    );
    assertRejected(rdbOfValue(18, quicklist2(nodes)), 'RDB_ERR_LISTPACK', 'node 31 of 60');
  });
});

describe('files saved by redis-server, then damaged inside a value', () => {
  const servers: RedisServer[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  test('a stream node whose entry has a wrong lp-count: rejected in every mode', async () => {
    // A well-formed listpack whose stream structure is wrong: only the stream walk can see it.
    const src = await startRedis({ args: ['--rdbcompression', 'no'] });
    servers.push(src);
    await src.cli('XADD', 'k', '1-1', 'f', 'vvvvvv');
    await src.cli('SAVE');
    const rdb = readFileSync(join(src.dir, 'dump.rdb'));
    const at = rdb.indexOf(b('\x86vvvvvv\x07\x04\x01\xff'));
    assert.ok(at > 0, 'the entry is in the file');
    for (const [, opts] of MODES) assert.equal(parseChunks([rdb], opts).parser.status().keys, 1);
    rdb[at + 8] = 0x05; // lp-count 4 → 5
    rdb.fill(0, rdb.length - 8);
    assertRejected(rdb, 'RDB_ERR_STREAM', 'stream lp-count');
  });

  test('a zset listpack with a bad back-length: exit 1 naming the key, nothing restored, server up', async () => {
    // Written by redis-server itself, then one back-length changed; the checksum is zeroed (disabled).
    const src = await startRedis({ args: ['--rdbcompression', 'no'] });
    servers.push(src);
    await src.cli('SET', 'before', 'x');
    await src.cli('ZADD', 'zbad', '1', 'aaaa', '2', 'bbbb', '3', 'cccc');
    await src.cli('SAVE');
    const rdb = readFileSync(join(src.dir, 'dump.rdb'));
    const at = rdb.indexOf(b('\x84aaaa\x05'));
    assert.ok(at > 0, 'the member is in the file');
    rdb[at + 5] = 0x07;
    rdb.fill(0, rdb.length - 8);
    const file = join(src.dir, 'corrupt.rdb');
    writeFileSync(file, rdb);

    const tgt = await startRedis();
    servers.push(tgt);
    const r = await runCli(['import', file, '--target', tgt.url]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /listpack integrity check failed: back-length mismatch .*key=zbad/);
    assert.equal(await tgt.cli('EXISTS', 'zbad'), '0');
    assert.equal(await tgt.cli('PING'), 'PONG');
  });
});
