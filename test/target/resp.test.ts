import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  commandSize,
  encodeCommand,
  encodeCommands,
  NEED_MORE,
  RespError,
  RespParser,
  type RespValue,
} from '../../src/target/resp.ts';
import { chunkings } from '../helpers/feed-chunked.ts';

function parseAll(chunks: Buffer[]): { values: RespValue[]; offsets: number[] } {
  const p = new RespParser();
  const values: RespValue[] = [];
  const offsets: number[] = [];
  for (const c of chunks) {
    p.push(c);
    for (;;) {
      const v = p.next();
      if (v === NEED_MORE) break;
      values.push(v);
      offsets.push(p.offset);
    }
  }
  assert.equal(p.buffered, 0, 'all input consumed');
  return { values, offsets };
}

describe('resp encoder', () => {
  it('encodes one command exactly', () => {
    const buf = encodeCommand(['SET', Buffer.from('k\r\n\x00'), Buffer.alloc(0)]);
    assert.equal(buf.toString('latin1'), '*3\r\n$3\r\nSET\r\n$4\r\nk\r\n\x00\r\n$0\r\n\r\n');
  });

  it('sizes match the encoding, multi-digit lengths', () => {
    const big = Buffer.alloc(12345, 0x61);
    const cmds = [['RPUSH', 'l', big, '1'], ['PING'], Array.from({ length: 11 }, (_, i) => String(i))];
    const buf = encodeCommands(cmds);
    assert.equal(
      buf.length,
      cmds.reduce((n, c) => n + commandSize(c), 0),
    );
    assert.ok(
      buf.subarray(0, 40).toString('latin1').startsWith('*4\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$12345\r\naaa'),
    );
    assert.ok(buf.toString('latin1').includes('*1\r\n$4\r\nPING\r\n*11\r\n$1\r\n0\r\n'));
    assert.ok(buf.toString('latin1').endsWith('$2\r\n10\r\n'));
  });

  it('utf8 string args are measured in bytes', () => {
    assert.equal(encodeCommand(['é']).toString('utf8'), '*1\r\n$2\r\né\r\n');
  });
});

describe('resp parser', () => {
  // Replies: +OK, -ERR, :integer, :-1, $bulk with CRLF inside, $-1, *-1, *0, nested arrays, empty bulk.
  const input = Buffer.from(
    '+OK\r\n-MOVED 3999 127.0.0.1:6381\r\n:1000\r\n:-1\r\n$5\r\na\r\nbc\r\n$-1\r\n*-1\r\n*0\r\n' +
      '*3\r\n$3\r\nfoo\r\n*2\r\n:1\r\n*1\r\n+x\r\n$0\r\n\r\n',
    'latin1',
  );
  const expected: RespValue[] = [
    'OK',
    new RespError('MOVED 3999 127.0.0.1:6381'),
    1000,
    -1,
    Buffer.from('a\r\nbc'),
    null,
    null,
    [],
    [Buffer.from('foo'), [1, ['x']], Buffer.alloc(0)],
  ];

  for (const { name, chunks } of chunkings(input)) {
    it(`parses every reply type (${name})`, () => {
      const { values, offsets } = parseAll(chunks);
      assert.deepEqual(values, expected);
      assert.equal(offsets[offsets.length - 1], input.length);
      assert.equal(offsets[0], 5);
    });
  }

  it('error code is the first word', () => {
    const { values } = parseAll([Buffer.from('-BUSYKEY Target key name already exists.\r\n')]);
    assert.equal((values[0] as RespError).code, 'BUSYKEY');
  });

  it('parses a command stream of bulk arrays with offsets (AOF/replication use)', () => {
    const cmds = [
      ['SET', 'k', 'v'],
      ['RPUSH', 'l', Buffer.from([0, 255, 13, 10])],
      ['DEL', 'a', 'b', 'c'],
    ];
    const buf = encodeCommands(cmds);
    for (const { name, chunks } of chunkings(buf)) {
      const { values, offsets } = parseAll(chunks);
      assert.deepEqual(
        values,
        cmds.map((c) => c.map((a) => (typeof a === 'string' ? Buffer.from(a) : a))),
        name,
      );
      assert.deepEqual(offsets, [
        commandSize(cmds[0]),
        commandSize(cmds[0]) + commandSize(cmds[1]),
        buf.length,
      ]);
    }
  });

  it('handles a big array of bulks in small chunks without re-copying', () => {
    const n = 200_000;
    const argv = ['RPUSH', 'big', ...Array.from({ length: n }, (_, i) => `item-${i}`)];
    const buf = encodeCommand(argv);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += 1000) chunks.push(buf.subarray(i, i + 1000));
    const t = Date.now();
    const { values } = parseAll(chunks);
    const v = values[0] as Buffer[];
    assert.equal(v.length, n + 2);
    assert.equal(v[n + 1].toString(), `item-${n - 1}`);
    assert.ok(Date.now() - t < 2000, 'linear time');
  });

  it('a big bulk split in many chunks is joined once', () => {
    const payload = Buffer.alloc(8 * 1024 * 1024, 0x62);
    const buf = Buffer.concat([Buffer.from(`$${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < buf.length; i += 16 * 1024) chunks.push(buf.subarray(i, i + 16 * 1024));
    const t = Date.now();
    const { values } = parseAll(chunks);
    assert.ok(payload.equals(values[0] as Buffer));
    assert.ok(Date.now() - t < 2000, 'linear time');
  });

  it('takeRest hands over the bytes after the last reply', () => {
    const p = new RespParser();
    p.push(Buffer.from('+FULLRESYNC abc 0\r\n$3\r\nRDB'));
    assert.equal(p.next(), 'FULLRESYNC abc 0');
    assert.equal(p.takeRest().toString(), '$3\r\nRDB');
  });

  it('rejects garbage', () => {
    const p = new RespParser();
    p.push(Buffer.from('?what\r\n'));
    assert.throws(() => p.next());
  });
});
