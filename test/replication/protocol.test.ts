/**
 * The replica client's decoders fed chunk by chunk (STYLE habit 4, test/helpers/feed-chunked.ts): the command
 * stream (offsets counted in raw bytes as Redis does, SELECT, dropped PING/REPLCONF/sentinel hello, GETACK, resume
 * points outside MULTI/EXEC) and the RDB transfer framing (keepalive newlines, `$<len>`, `$EOF:<mark>`), each giving
 * the same result for every chunking. Inline payloads are annotated with the commands they encode.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import type { CommandEntry } from '../../src/entry.ts';
import { CommandStream, RdbTransfer, SocketReader, TokenBucket } from '../../src/replication/index.ts';
import { encodeCommand } from '../../src/target/index.ts';
import { chunkings } from '../helpers/feed-chunked.ts';

const cmd = (...a: string[]) => encodeCommand(a);
const texts = (es: CommandEntry[]) => es.map((e) => `${e.db}:${e.argv.map((b) => b.toString()).join(' ')}`);

describe('CommandStream', () => {
  const parts = [
    cmd('SELECT', '2'),
    cmd('SET', 'a', '1'),
    cmd('PING'),
    cmd('MULTI'),
    cmd('INCR', 'n'),
    cmd('RPUSH', 'l', 'x'),
    cmd('EXEC'),
    cmd('PUBLISH', '__sentinel__:hello', 'x'),
    cmd('REPLCONF', 'GETACK', '*'),
    cmd('PUBLISH', 'chan', 'msg'),
    cmd('SELECT', '0'),
    cmd('DEL', 'a'),
  ];
  const input = Buffer.concat(parts);
  const START = 1000;

  for (const c of chunkings(input, { everySplit: true })) {
    test(`decodes, filters and counts offsets (${c.name})`, () => {
      const s = new CommandStream({ offset: START, db: 0 }, 'test');
      const out: CommandEntry[] = [];
      let getack = false;
      const safePoints: number[] = [];
      for (const chunk of c.chunks) {
        s.push(Buffer.from(chunk));
        getack = s.drain(out) || getack;
        safePoints.push(s.safe.offset);
      }
      assert.deepEqual(texts(out), [
        '2:SET a 1',
        '2:MULTI',
        '2:INCR n',
        '2:RPUSH l x',
        '2:EXEC',
        '2:PUBLISH chan msg',
        '0:DEL a',
      ]);
      assert.equal(getack, true);
      assert.equal(s.offset, START + input.length, 'every byte counted, dropped commands included');
      assert.deepEqual(s.safe, { offset: START + input.length, db: 0 });
      assert.deepEqual(s.counters, { commands: 12, forwarded: 7, dropped: 3 });
      // A resume point never falls inside MULTI … EXEC.
      const multiStart = START + parts.slice(0, 3).reduce((n, p) => n + p.length, 0);
      const execEnd = multiStart + parts.slice(3, 7).reduce((n, p) => n + p.length, 0);
      for (const p of safePoints)
        assert.ok(p <= multiStart || p >= execEnd, `resume point ${p} inside MULTI/EXEC`);
    });
  }

  test('a stream that is not commands is a typed protocol error with the offset', () => {
    const s = new CommandStream({ offset: 5, db: 0 }, 'n:1');
    s.push(Buffer.from(':12\r\n'));
    assert.throws(() => s.drain([]), { code: 'REPL_ERR_PROTOCOL', message: /offset=10/ });
    const t = new CommandStream({ offset: 0, db: 0 }, 'n:1');
    t.push(Buffer.from('*1\r\n$3\r\nabc\r\nxx\r\n'));
    assert.throws(() => t.drain([]), { code: 'REPL_ERR_PROTOCOL' });
  });
});

async function readTransfer(
  chunks: Buffer[],
): Promise<{ payload: Buffer; rest: Buffer; total: number | null; diskless: boolean }> {
  const sock = new PassThrough();
  const reader = new SocketReader(sock as never, { highWaterBytes: 1 << 20, bucket: null, node: 't' });
  for (const c of chunks) sock.write(Buffer.from(c));
  sock.end();
  const t = await RdbTransfer.open(reader, { node: 't', idleTimeoutMs: 1000 });
  assert.ok(t);
  const got: Buffer[] = [];
  for await (const c of t) got.push(c);
  await t.finish();
  const rest: Buffer[] = [];
  for (;;) {
    const c = await reader.read(50);
    if (!Buffer.isBuffer(c)) break;
    rest.push(c);
  }
  return {
    payload: Buffer.concat(got),
    rest: Buffer.concat(rest),
    total: t.totalBytes,
    diskless: t.diskless,
  };
}

describe('RdbTransfer', () => {
  const rdb = Buffer.from('REDIS0011\xfa\x00payload-bytes\xff12345678', 'latin1');
  const stream = cmd('SET', 'k', 'v');
  const mark = Buffer.from('0123456789abcdef0123456789abcdef01234567');

  for (const c of chunkings(
    Buffer.concat([Buffer.from('\n\n$'), Buffer.from(`${rdb.length}\r\n`), rdb, stream]),
  )) {
    test(`$<len> transfer after keepalive newlines (${c.name})`, async () => {
      const r = await readTransfer(c.chunks);
      assert.equal(r.diskless, false);
      assert.equal(r.total, rdb.length);
      assert.deepEqual(r.payload, rdb);
      assert.deepEqual(r.rest, stream, 'the command stream after the payload stays in the reader');
    });
  }

  for (const c of chunkings(Buffer.concat([Buffer.from('\n$EOF:'), mark, Buffer.from('\r\n'), rdb, mark]))) {
    test(`$EOF:<mark> diskless transfer (${c.name})`, async () => {
      const r = await readTransfer(c.chunks);
      assert.equal(r.diskless, true);
      assert.equal(r.total, null);
      assert.deepEqual(r.payload, rdb);
    });
  }

  test('a connection closed mid-transfer is REPL_ERR_LOST', async () => {
    await assert.rejects(readTransfer([Buffer.from(`$100\r\n`), rdb]), { code: 'REPL_ERR_LOST' });
  });
});

test('TokenBucket: within the burst no wait; past it, the wait matches the rate', () => {
  const b = new TokenBucket(1024 * 1024, 64 * 1024);
  assert.equal(b.take(64 * 1024), 0);
  const wait = b.take(512 * 1024);
  // 512 KiB of debt at 1 MiB/s is 500 ms, less what refilled between the two calls — at most the 64 KiB burst.
  assert.ok(wait >= 437 && wait <= 500, String(wait));
});
