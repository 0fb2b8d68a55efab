/**
 * AofParser (src/aof/parser.ts) on real AOFs from the fixture corpus and on small inline streams: the same
 * entries in every chunking (STYLE habit 4), command and annotation counts as MANIFEST.md states them, RDB
 * preambles, truncated tails, open transactions and corruption with its offset.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AofError, AofParser } from '../../src/aof/index.ts';
import type { Entry } from '../../src/entry.ts';
import { chunkings } from '../helpers/feed-chunked.ts';
import { fixture, serialize } from '../helpers/rdb-fixtures.ts';

function parse(chunks: Iterable<Buffer>, allowTruncated = true, rdbFile = false) {
  const p = new AofParser({ file: 't.aof', rdbFile });
  const entries: Entry[] = [];
  for (const c of chunks) for (const e of p.write(c)) entries.push(e);
  const end = p.end(allowTruncated);
  entries.push(...end.entries);
  return { entries, end, status: p.status() };
}

const cmd = (...a: string[]) =>
  `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')}`;
const argvOf = (es: Entry[]) =>
  es.map((e) => (e.kind === 'command' ? `${e.db}:${e.argv.join(' ')}` : e.kind));

describe('AofParser on fixtures', () => {
  for (const name of ['appendonly1.aof', 'appendonly5.aof', 'appendonly7.aof', 'appendonly-with-ts.aof']) {
    test(`redis-replicator/${name}: identical entries in every chunking`, () => {
      const input = fixture(`redis-replicator/${name}`);
      const whole = serialize(parse([input]).entries);
      for (const c of chunkings(input)) assert.equal(serialize(parse(c.chunks).entries), whole, c.name);
    });
  }

  test('appendonly-with-ts.aof: 65 commands and 54 #TS annotations (MANIFEST.md)', () => {
    const r = parse([fixture('redis-replicator/appendonly-with-ts.aof')]);
    assert.equal(r.status.commands, 65);
    assert.equal(r.status.annotations, 54);
    assert.equal(r.end.truncated, null);
  });

  test('appendonly2.aof: 88121 commands (SELECT counted, not emitted)', () => {
    const input = fixture('redis-replicator/appendonly2.aof');
    const r = parse([input]);
    assert.equal(r.status.commands, 88121);
    assert.equal(r.status.bytes, input.length);
    const selects = r.entries.filter((e) => e.kind === 'command' && /^select$/i.test(e.argv[0].toString()));
    assert.equal(selects.length, 0);
  });

  test('valkey/rdb-preamble.aof: the preamble keys, then the RESP tail in every chunking', () => {
    const input = fixture('valkey/rdb-preamble.aof');
    const r = parse([input]);
    assert.equal(r.status.preamble, true);
    assert.deepEqual(
      r.entries.map((e) => e.kind),
      ['key', 'key', 'command'],
    );
    const whole = serialize(r.entries);
    for (const c of chunkings(input)) assert.equal(serialize(parse(c.chunks).entries), whole, c.name);
  });

  test('redisshake incr file with LF-only line endings is corrupt, at offset 0', () => {
    const input = fixture('redisshake/appendonlydir/appendonly.aof.2.incr.aof');
    assert.throws(
      () => parse([input]),
      (e: unknown) => e instanceof AofError && e.code === 'AOF_ERR_CORRUPT' && e.where.offset === 0,
    );
  });
});

describe('AofParser on inline streams', () => {
  const stream = [
    cmd('SET', 'a', '1'),
    cmd('SELECT', '2'),
    '#TS:1700000000\n',
    cmd('INCR', 'n'),
    cmd('MULTI'),
    cmd('SET', 'b', '2'),
    cmd('EXEC'),
  ].join('');

  test('SELECT moves later commands; LF-only and CRLF annotations are skipped', () => {
    const withCrlf = stream.replace('#TS:1700000000\n', '#TS:1700000000\r\n');
    for (const s of [stream, withCrlf]) {
      const r = parse([Buffer.from(s)]);
      assert.deepEqual(argvOf(r.entries), ['0:SET a 1', '2:INCR n', '2:MULTI', '2:SET b 2', '2:EXEC']);
      assert.equal(r.status.annotations, 1);
    }
  });

  test('cut at every byte: applied up to the last complete command, the rest reported', () => {
    const input = Buffer.from(stream);
    const ends: number[] = [];
    for (const c of [
      cmd('SET', 'a', '1'),
      cmd('SELECT', '2'),
      '#TS:1700000000\n',
      cmd('INCR', 'n'),
      cmd('MULTI'),
      cmd('SET', 'b', '2'),
      cmd('EXEC'),
    ]) {
      ends.push((ends.at(-1) ?? 0) + Buffer.byteLength(c));
    }
    for (let at = 1; at < input.length; at++) {
      const cut = input.subarray(0, at);
      const r = parse([cut]);
      // The longest prefix of whole commands (an annotation counts once its line ended).
      const complete = Math.max(0, ...ends.filter((e) => e <= at));
      if (complete === at) assert.equal(r.end.truncated, null, `at ${at}`);
      else assert.deepEqual(r.end.truncated, { offset: complete, bytes: at - complete }, `at ${at}`);
      const whole = parse([input.subarray(0, complete)]);
      assert.equal(serialize(r.entries), serialize(whole.entries), `at ${at}`);
      if (complete !== at) {
        assert.throws(
          () => parse([cut], false),
          (e: unknown) =>
            e instanceof AofError && e.code === 'AOF_ERR_TRUNCATED' && e.where.offset === complete,
        );
      }
    }
  });

  test('a MULTI left open at the end is discarded (DISCARD entry) and counted', () => {
    const r = parse([
      Buffer.from(cmd('SET', 'a', '1') + cmd('MULTI') + cmd('SET', 'b', '2') + cmd('INCR', 'c')),
    ]);
    assert.deepEqual(argvOf(r.entries), ['0:SET a 1', '0:MULTI', '0:SET b 2', '0:INCR c', '0:DISCARD']);
    assert.equal(r.end.openTransaction, 2);
  });

  test('corruption in the middle names the offset of the bad command', () => {
    const good = cmd('SET', 'a', '1');
    const input = Buffer.from(`${good}${good}*2\r\n$3\r\nGET\r\n:1\r\n${good}`);
    assert.throws(
      () => parse([input]),
      (e: unknown) =>
        e instanceof AofError &&
        e.code === 'AOF_ERR_CORRUPT' &&
        e.where.offset === 2 * good.length &&
        e.where.file === 't.aof',
    );
  });

  test('an RDB file with stray bytes after its end: ignored and counted, not a command stream', () => {
    const rdb = fixture('redis-rdb-tools/redis_40_with_module.rdb');
    const r = parse([rdb], true, true);
    assert.equal(r.end.ignoredTail, 40);
    assert.equal(r.status.commands, 0);
    assert.ok(r.status.keys > 0);
  });
});
