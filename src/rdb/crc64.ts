/**
 * CRC-64/Jones as used by Redis for RDB files and DUMP payloads: reflected, polynomial 0xad93d23594c935a9,
 * init 0, no final xor (redis/src/crc64.c `crc64()`, sped up like crcspeed.c with slicing-by-8).
 *
 * The 64-bit state is kept in two unsigned 32-bit halves so the inner loop never touches BigInt; the 8 × 256
 * tables (each split into lo/hi halves) are built once at module load. Ranges of KERNEL_MIN bytes or more go
 * through the WebAssembly kernel (kernel.ts: native 64-bit slicing-by-16), copied into its memory in blocks.
 */
import { type Kernel, kernel } from './kernel.ts';

/** Bit-reversed 0xad93d23594c935a9 (the reflected form of the Jones polynomial), as two 32-bit halves. */
const POLY_LO = 0xac4bc9b5;
const POLY_HI = 0x95ac9329;

/** T[k][n] = CRC of byte n followed by k zero bytes; lo and hi halves in separate arrays. */
const TLO: Uint32Array[] = [];
const THI: Uint32Array[] = [];

(function build() {
  const lo0 = new Uint32Array(256);
  const hi0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const lsb = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (lsb) {
        lo = (lo ^ POLY_LO) >>> 0;
        hi = (hi ^ POLY_HI) >>> 0;
      }
    }
    lo0[n] = lo;
    hi0[n] = hi;
  }
  TLO.push(lo0);
  THI.push(hi0);
  for (let k = 1; k < 8; k++) {
    const plo = TLO[k - 1];
    const phi = THI[k - 1];
    const lo = new Uint32Array(256);
    const hi = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      const idx = plo[n] & 0xff;
      lo[n] = (((plo[n] >>> 8) | (phi[n] << 24)) ^ lo0[idx]) >>> 0;
      hi[n] = ((phi[n] >>> 8) ^ hi0[idx]) >>> 0;
    }
    TLO.push(lo);
    THI.push(hi);
  }
})();

const [L0, L1, L2, L3, L4, L5, L6, L7] = TLO;
const [H0, H1, H2, H3, H4, H5, H6, H7] = THI;

/** Below this many bytes the copy into the kernel's memory costs more than it saves. */
const KERNEL_MIN = 256;

/** Running CRC-64 state: feed bytes with `update`, read with `lo`/`hi` or `digest()`. */
export class Crc64 {
  lo = 0;
  hi = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    if (kernel !== null && end - start >= KERNEL_MIN) return this.updateKernel(buf, start, end);
    let lo = this.lo;
    let hi = this.hi;
    let i = start;
    const end8 = end - 7;
    while (i < end8) {
      const a = (lo ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24))) >>> 0;
      const b = (hi ^ (buf[i + 4] | (buf[i + 5] << 8) | (buf[i + 6] << 16) | (buf[i + 7] << 24))) >>> 0;
      lo =
        L7[a & 0xff] ^
        L6[(a >>> 8) & 0xff] ^
        L5[(a >>> 16) & 0xff] ^
        L4[a >>> 24] ^
        L3[b & 0xff] ^
        L2[(b >>> 8) & 0xff] ^
        L1[(b >>> 16) & 0xff] ^
        L0[b >>> 24];
      hi =
        H7[a & 0xff] ^
        H6[(a >>> 8) & 0xff] ^
        H5[(a >>> 16) & 0xff] ^
        H4[a >>> 24] ^
        H3[b & 0xff] ^
        H2[(b >>> 8) & 0xff] ^
        H1[(b >>> 16) & 0xff] ^
        H0[b >>> 24];
      i += 8;
    }
    while (i < end) {
      const idx = (lo ^ buf[i]) & 0xff;
      lo = ((lo >>> 8) | (hi << 24)) ^ L0[idx];
      hi = (hi >>> 8) ^ H0[idx];
      i++;
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    return this;
  }

  private updateKernel(buf: Uint8Array, start: number, end: number): this {
    const k = kernel as Kernel;
    for (let p = start; p < end; p += k.DATA_CAP) {
      const n = Math.min(k.DATA_CAP, end - p);
      k.mem.set(buf.subarray(p, p + n), k.DATA);
      this.updateAt(k.DATA, n);
    }
    return this;
  }

  /** Back to the empty state (CRC of no bytes). */
  reset(): this {
    this.lo = 0;
    this.hi = 0;
    return this;
  }

  /** Folds `len` bytes already in the kernel's memory at `p` (only when `kernel` is not null). */
  updateAt(p: number, len: number): this {
    const k = this.toKernel();
    k.update(p, len);
    return this.fromKernel(k);
  }

  /**
   * The state as if `n` zero bytes followed (only when `kernel` is not null; see wasm/kernel.ts `shift`):
   * crc(A‖B) is `shift(|B|)` of crc(A), XOR crc(B).
   */
  shift(n: number): this {
    const k = this.toKernel();
    k.shift(n);
    return this.fromKernel(k);
  }

  /** The state into the kernel's STATE register, for a kernel call that works on it. */
  private toKernel(): Kernel {
    const k = kernel as Kernel;
    const w = k.STATE >> 2;
    k.u32[w] = this.lo;
    k.u32[w + 1] = this.hi;
    return k;
  }

  private fromKernel(k: Kernel): this {
    const w = k.STATE >> 2;
    this.lo = k.u32[w];
    this.hi = k.u32[w + 1];
    return this;
  }

  /** Does the state equal the 8 little-endian bytes at `buf[off..off+8)`? */
  equalsLE(buf: Uint8Array, off: number): boolean {
    const lo = (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
    const hi = (buf[off + 4] | (buf[off + 5] << 8) | (buf[off + 6] << 16) | (buf[off + 7] << 24)) >>> 0;
    return lo === this.lo && hi === this.hi;
  }

  /** Write the state as 8 little-endian bytes. */
  writeLE(out: Uint8Array, off: number): void {
    const { lo, hi } = this;
    out[off] = lo & 0xff;
    out[off + 1] = (lo >>> 8) & 0xff;
    out[off + 2] = (lo >>> 16) & 0xff;
    out[off + 3] = lo >>> 24;
    out[off + 4] = hi & 0xff;
    out[off + 5] = (hi >>> 8) & 0xff;
    out[off + 6] = (hi >>> 16) & 0xff;
    out[off + 7] = hi >>> 24;
  }

  /** The state as a BigInt (for messages and tests only). */
  digest(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
}

/** CRC-64/Jones of `buf` (Redis `crc64(0, buf, len)`). */
export function crc64(buf: Uint8Array, start = 0, end = buf.length): bigint {
  return new Crc64().update(buf, start, end).digest();
}
