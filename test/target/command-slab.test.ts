/**
 * CommandSlab: the RESTORE encoder of the import fast path must produce exactly the bytes of the generic encoder
 * for every argument combination, consecutive commands must be consecutive bytes (the connection writes runs of
 * them without copying), and a big dump must come out as [head, dump, tail] with the dump itself, not a copy.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Argv, encodeCommand } from '../../src/target/index.ts';
import {
  CommandSlab,
  commandKeyOf,
  MsetBuilder,
  msetPairSize,
  RESTORE_FREQ,
  RESTORE_IDLETIME,
} from '../../src/target/resp.ts';

function bytesOf(s: CommandSlab, size: number): Buffer {
  if (s.parts) return Buffer.concat(s.parts);
  return Buffer.from(s.buf.subarray(s.at, s.at + size));
}

describe('CommandSlab', () => {
  const key = Buffer.from('k\r\n\x00ey');
  const cases: [number, boolean, 'FREQ' | 'IDLETIME' | null, number][] = [
    [0, false, null, -1],
    [1_700_000_000_123, true, null, -1],
    [9, true, 'FREQ', 0],
    [0, false, 'IDLETIME', 123456],
    [12, true, 'IDLETIME', 9],
  ];
  for (const dumpLen of [0, 11, 100, 70_000]) {
    test(`RESTORE equals the generic encoding (dump of ${dumpLen} bytes)`, () => {
      const dump = Buffer.alloc(dumpLen);
      for (let i = 0; i < dumpLen; i++) dump[i] = (i * 7) & 0xff;
      const s = new CommandSlab();
      for (const [ttl, abs, opt, val] of cases) {
        const argv: (string | Buffer)[] = ['RESTORE', key, String(ttl), dump, 'REPLACE'];
        if (abs) argv.push('ABSTTL');
        if (opt) argv.push(opt, String(val));
        const optBytes = opt === 'FREQ' ? RESTORE_FREQ : opt === 'IDLETIME' ? RESTORE_IDLETIME : null;
        const size = s.restore(key, ttl, dump, abs, optBytes, val);
        const want = encodeCommand(argv as Argv);
        assert.equal(size, want.length);
        assert.ok(bytesOf(s, size).equals(want), `ttl=${ttl} abs=${abs} ${opt ?? ''}`);
        const k = s.parts ? commandKeyOf(s.parts[0], 0) : commandKeyOf(s.buf, s.at);
        assert.ok(k?.equals(key), 'the key is read back from the encoded command');
        if (dumpLen > 65_536) {
          assert.ok(s.parts, 'a big dump is written by reference');
          assert.equal(s.parts?.[1], dump);
        } else assert.equal(s.parts, null);
      }
    });
  }

  test('consecutive commands are consecutive bytes of one slab', () => {
    const s = new CommandSlab();
    const dump = Buffer.alloc(50, 1);
    let prevEnd = -1;
    let prevBuf: Buffer | null = null;
    let runs = 0;
    for (let i = 0; i < 50_000; i++) {
      const size = i % 2 ? s.restore(key, i, dump, true, null, -1) : s.encode(['SET', key, String(i)]);
      if (s.buf === prevBuf) assert.equal(s.at, prevEnd);
      else runs++;
      prevBuf = s.buf;
      prevEnd = s.at + size;
    }
    // 50k commands of ~100 bytes fill a few 1 MiB slabs.
    assert.ok(runs >= 2 && runs <= 8, `slabs used: ${runs}`);
  });
});

describe('MsetBuilder', () => {
  test('each MSET equals the generic encoding, for 1 to 5-digit argument counts and cut at slab ends', () => {
    const m = new MsetBuilder();
    const slabs = new Set<Buffer>();
    let argv: Buffer[] = [];
    let closed = 0;
    const close = () => {
      const pairs = m.bytes;
      const hold = m.close();
      const want = encodeCommand(['MSET', ...argv]);
      assert.equal(m.size, want.length);
      assert.ok(want.length > pairs);
      assert.ok(m.buf.subarray(m.at, m.at + m.size).equals(want), `${argv.length / 2} pairs`);
      assert.ok(commandKeyOf(m.buf, m.at)?.equals(argv[0]), 'the first key is read back');
      assert.equal(m.count, 0);
      slabs.add(m.buf);
      hold.done();
      argv = [];
      closed++;
    };
    let n = 0;
    for (const count of [1, 4, 5, 49, 50, 4_999, 5_000, 6_000]) {
      for (let i = 0; i < count; i++) {
        const key = Buffer.from(`key\r\n${n}`);
        const value = Buffer.alloc((n * 13) % 100, n & 0xff);
        n++;
        const size = msetPairSize(key.length, value.length);
        // A slab that cannot take the next pair ends the MSET there (as the writer does).
        if (!m.fits(size)) {
          close();
          assert.ok(m.fits(size), 'an empty MSET always fits, in a new slab');
        }
        const at = m.pair(key, 0, key.length, value.length);
        value.copy(m.slabBuf, at);
        argv.push(key, value);
      }
      close();
    }
    assert.ok(closed > 8, 'an MSET was cut at a slab end');
    assert.equal(slabs.size, 1, 'each MSET was acknowledged at once: the one slab is reused');
  });

  test('a discarded MSET leaves nothing behind: the next one is whole and takes its place', () => {
    const m = new MsetBuilder();
    const add = (k: string, v: string) => {
      m.fits(msetPairSize(k.length, v.length));
      m.slabBuf.write(v, m.pair(Buffer.from(k), 0, k.length, v.length), 'latin1');
    };
    add('a', 'first');
    add('b', 'second');
    m.discard();
    assert.equal(m.count, 0);
    add('c', 'third');
    m.close();
    assert.ok(m.buf.subarray(m.at, m.at + m.size).equals(encodeCommand(['MSET', 'c', 'third'])));
    // From the slab's start: the room left for the longest header (20 bytes), then its one pair.
    assert.equal(m.at + m.size, 20 + msetPairSize(1, 5), 'it took the place of the discarded one');
  });

  test('a full slab is reused only once every MSET in it was acknowledged', () => {
    const m = new MsetBuilder();
    const value = Buffer.alloc(60_000, 'v');
    const key = Buffer.from('k');
    const size = msetPairSize(1, value.length);
    const held: { done(): void }[] = [];
    const first = (): Buffer => {
      m.fits(size);
      value.copy(m.slabBuf, m.pair(key, 0, 1, value.length));
      held.push(m.close());
      return m.buf;
    };
    const a = first();
    while (first() === a);
    // The first slab is full and its commands are in flight: a new one is taken.
    const b = m.buf;
    assert.notEqual(b, a);
    for (const h of held.splice(0)) h.done();
    while (first() === b);
    assert.equal(m.buf, a, 'the acknowledged slab comes back');
  });
});
