/**
 * CommandSlab: the RESTORE encoder of the import fast path must produce exactly the bytes of the generic encoder
 * for every argument combination, consecutive commands must be consecutive bytes (the connection writes runs of
 * them without copying), and a big dump must come out as [head, dump, tail] with the dump itself, not a copy.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Argv, encodeCommand } from '../../src/target/index.ts';
import { CommandSlab, RESTORE_FREQ, RESTORE_IDLETIME, restoreKeyOf } from '../../src/target/resp.ts';

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
        const k = s.parts ? restoreKeyOf(s.parts[0], 0) : restoreKeyOf(s.buf, s.at);
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
