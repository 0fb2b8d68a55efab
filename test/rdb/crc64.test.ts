/**
 * CRC-64/Jones: the WebAssembly kernel (ranges ≥ 256 bytes, copied in 1 MiB blocks) and the batched DUMP footers
 * must give exactly the bit-by-bit definition, at every length around the loop and block boundaries and for any
 * split of the input into updates; the kernel's `shift` must combine two CRCs into the CRC of the concatenation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Crc64, crc64 } from '../../src/rdb/crc64.ts';
import { DumpSlabs } from '../../src/rdb/dump-slabs.ts';

/** Bit-by-bit reflected CRC-64 with polynomial 0xad93d23594c935a9, init 0, no final xor. */
function reference(buf: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n; // the polynomial bit-reversed
  let c = 0n;
  for (const b of buf) {
    c ^= BigInt(b);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
  }
  return c;
}

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe('crc64', () => {
  test('equals the bit-by-bit definition around the kernel threshold and loop boundaries', () => {
    // 16 = the kernel's slicing step.
    for (const n of [0, 1, 7, 8, 9, 15, 16, 17, 255, 256, 257, 263, 264, 1000, 4099]) {
      const b = bytes(n, n + 1);
      assert.equal(crc64(b), reference(b), `length ${n}`);
    }
  });

  test('any split into updates gives the same value, across 1 MiB kernel blocks', () => {
    const b = bytes((1 << 20) * 2 + 77, 42);
    const whole = crc64(b);
    // The reference on 2 MiB is slow; check the whole against a JS-only fold (updates below the kernel threshold).
    const small = new Crc64();
    for (let p = 0; p < b.length; p += 200) small.update(b, p, Math.min(b.length, p + 200));
    assert.equal(small.digest(), whole);
    for (const cut of [1, 255, 256, 1 << 20, (1 << 20) + 1, b.length - 3]) {
      const c = new Crc64().update(b, 0, cut).update(b, cut, b.length);
      assert.equal(c.digest(), whole, `cut at ${cut}`);
    }
  });

  test('shift(n) of crc(A), XOR crc(B), is crc(A then B) for |B| = n (the linearity big dumps rely on)', () => {
    for (const [na, nb] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [5, 3],
      [17, 1000],
      [300, 65_536],
      [3, 1_048_583],
    ]) {
      const a = bytes(na, na + 3);
      const b = bytes(nb, nb + 5);
      const c = new Crc64().update(a).shift(nb);
      const cb = new Crc64().update(b);
      c.lo = (c.lo ^ cb.lo) >>> 0;
      c.hi = (c.hi ^ cb.hi) >>> 0;
      assert.equal(c.digest(), crc64(Buffer.concat([a, b])), `|A| ${na}, |B| ${nb}`);
    }
  });

  test('DumpSlabs fills each footer with the CRC of the bytes before it (batched, big and across slabs)', () => {
    const slabs = new DumpSlabs();
    const made: Buffer[] = [];
    const lens = [11, 12, 90, 300, 4096, 70_000, 20, 65_536, 131_072];
    // Every short length: the kernel's tail steps of 8, 4, 2 and 1 bytes in each combination.
    for (let n = 9; n <= 48; n++) lens.push(n);
    // Enough dumps to fill more than one 1 MiB slab.
    for (let i = 0; i < 40; i++) lens.push(30_000 + i);
    for (const [i, len] of lens.entries()) {
      const at = slabs.begin(len);
      const body = bytes(len - 8, i);
      body.copy(slabs.buf, at);
      made.push(slabs.end(at, len));
    }
    slabs.flush();
    for (const [i, d] of made.entries()) {
      const body = d.subarray(0, d.length - 8);
      assert.equal(d.readBigUInt64LE(d.length - 8), crc64(body), `dump ${i} of ${d.length} bytes`);
      assert.ok(body.equals(bytes(lens[i] - 8, i)), `dump ${i} body intact`);
    }
  });
});
