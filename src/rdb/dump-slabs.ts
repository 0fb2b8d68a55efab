/**
 * DUMP payloads are cut from 1 MiB slabs (one allocation per slab, not per key) and their CRC footers are computed
 * in batches: `end` queues a dump, `flush` copies the slab's used region into the kernel once, computes every
 * queued CRC in one call and copies the region back. Without WebAssembly, or for a dump too big for a slab, `end`
 * computes the CRC at once. The caller writes a dump's bytes straight into `buf` between `begin` and `end`.
 *
 * Slabs are reused. A fresh slab costs a page fault per 4 KiB on first write and adds to the external memory that
 * drives V8's full collections; over a snapshot that is most of the decoder's memory traffic. A run cut from a slab
 * holds it (`hold`, given to the consumer as the run's lease), the slab being written holds itself, and a slab
 * nothing holds any more goes back to a small process-wide pool. A dump handed out as a plain view (a KeyEntry's
 * `dump`, which has no lease) pins its slab: that slab is never reused, and the garbage collector frees it. So a
 * consumer that never releases gets what it always had, fresh memory, and reuse happens only under leases.
 */
import { Crc64 } from './crc64.ts';
import { type Kernel, kernel } from './kernel.ts';

const SLAB_BYTES = 1 << 20;
/** Largest piece cut from a slab; bigger ones get a buffer of their own. */
export const SLAB_MAX_PIECE = 64 * 1024;
/** Free slabs kept for reuse (process-wide; parsers running at once share them). */
const POOL_MAX = 32;

const pool: Buffer[] = [];
let slabsAllocated = 0;

/** Slabs allocated so far in this process (tests check that reuse happens). */
export function slabAllocations(): number {
  return slabsAllocated;
}

/** A slab and the holds on it; it returns to the pool when the last one is released. */
class Slab {
  /** The slabs' writer (while it cuts from it) plus one per run cut from it. */
  private holds = 1;
  /** A plain view of it was handed out: never reused. */
  pinned = false;

  constructor(readonly buf: Buffer) {}

  hold(): this {
    this.holds++;
    return this;
  }

  /** Drops one hold (a run's lease: `releaseRun` calls it at most once per run). */
  release(): void {
    if (--this.holds === 0 && !this.pinned && pool.length < POOL_MAX) pool.push(this.buf);
  }
}

function newSlab(): Slab {
  const reused = pool.pop();
  if (reused !== undefined) return new Slab(reused);
  slabsAllocated++;
  return new Slab(Buffer.allocUnsafeSlow(SLAB_BYTES));
}

export class DumpSlabs {
  /** Where the dump being built is written (the current slab, or a buffer of its own when big). */
  buf: Buffer = Buffer.alloc(0);
  private slab: Slab | null = null;
  private off = 0;
  /** Start in the slab of the first queued dump, -1 when none is queued. */
  private queuedFrom = -1;
  private jobs = 0;
  private readonly crc = new Crc64();

  /**
   * Room for a dump of `len` bytes (CRC field included) in `buf`; returns its offset there. Pieces start 8-aligned
   * unless `packed` (then they follow each other exactly, as the commands of a run must).
   */
  begin(len: number, packed = false): number {
    if (len > SLAB_MAX_PIECE) {
      this.buf = Buffer.allocUnsafeSlow(len);
      return 0;
    }
    const at = this.reserve(len);
    this.off += packed ? len : (len + 7) & ~7;
    return at;
  }

  /** The dump written at `buf[at, at+len)` as a view of its own (which pins a slab); its CRC as in `seal`. */
  end(at: number, len: number): Buffer {
    this.seal(at, len);
    return this.endSealed(at, len);
  }

  /** `end` when the caller wrote the CRC footer itself (a big dump's own buffer). */
  endSealed(at: number, len: number): Buffer {
    const b = this.buf;
    if (this.slab === null || b !== this.slab.buf)
      return at === 0 && len === b.length ? b : b.subarray(at, at + len);
    this.slab.pinned = true;
    return b.subarray(at, at + len);
  }

  /**
   * `end` without the view, for a dump inside a bigger piece (`begin` may be asked for more than the dump, which
   * then starts at any offset of the piece).
   */
  seal(at: number, len: number): void {
    const b = this.buf;
    const body = at + len - 8;
    if (kernel === null || this.slab === null || b !== this.slab.buf) {
      this.crc.reset().update(b, at, body).writeLE(b, body);
      return;
    }
    if (this.queuedFrom < 0) this.queuedFrom = at;
    const w = (kernel.JOBS >> 2) + this.jobs * 2;
    kernel.u32[w] = kernel.DATA + at - this.queuedFrom;
    kernel.u32[w + 1] = len - 8;
    if (++this.jobs === kernel.MAX_JOBS) this.flush();
  }

  /**
   * At least `min` bytes free at the returned offset of the current slab, `buf` (a new slab when it has less).
   * `begin` takes its piece from there; pieces made elsewhere (the kernel's lane) say with `commit` how many bytes
   * they used.
   */
  reserve(min: number): number {
    if (this.slab === null || this.off + min > SLAB_BYTES) {
      this.flush();
      this.slab?.release();
      this.slab = newSlab();
      this.off = 0;
    }
    this.buf = this.slab.buf;
    return this.off;
  }

  /** A hold on the current slab for a run cut from it: the run's lease (entry.ts `releaseRun`). */
  hold(): { release(): void } {
    return (this.slab as Slab).hold();
  }

  /** Bytes free after the offset `reserve` returned. */
  get room(): number {
    return this.slab === null ? 0 : SLAB_BYTES - this.off;
  }

  /** `n` finished bytes (CRCs included) were written at the offset `reserve` returned. */
  commit(n: number): void {
    this.off += n;
  }

  /** Complete every queued CRC. */
  flush(): void {
    if (this.jobs === 0) return;
    const k = kernel as Kernel;
    const from = this.queuedFrom;
    const region = (this.slab as Slab).buf.subarray(from, this.off);
    k.mem.set(region, k.DATA);
    k.seal(this.jobs);
    region.set(k.mem.subarray(k.DATA, k.DATA + region.length));
    this.jobs = 0;
    this.queuedFrom = -1;
  }
}
