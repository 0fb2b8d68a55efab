/**
 * A consumer group's PEL as the stream decoder holds it: the RDB lists the group's pending entries (id, delivery
 * time, delivery count) before its consumers, whose own PELs name the owner of each, so the whole PEL is kept until
 * the key ends. PELs of millions are what consumers that never XACK leave behind; kept here in typed arrays (36
 * bytes an entry, against about 160 as objects), and made into StreamPendingEntry objects only as they are read.
 * Redis saves a PEL in id order (a rax walk), so an owner's entry is found by binary search; a map is built only
 * for a file that lists it out of order.
 */
import type { StreamPendingEntry } from '../../entry.ts';

export class PendingList implements Iterable<StreamPendingEntry> {
  length = 0;
  private ms = new BigUint64Array(8);
  private seq = new BigUint64Array(8);
  private time = new Float64Array(8);
  private count = new Float64Array(8);
  /** Index in `owners`, -1 while no consumer has claimed the entry. */
  private owner = new Int32Array(8);
  private readonly owners: Buffer[] = [];
  private index: Map<bigint, number> | null = null;

  /** False when the id is in the list already. */
  add(ms: bigint, seq: bigint, deliveryTime: number, deliveryCount: number): boolean {
    const n = this.length;
    if (this.index === null && n > 0 && !after(ms, seq, this.ms[n - 1], this.seq[n - 1])) {
      this.index = new Map();
      for (let i = 0; i < n; i++) this.index.set((this.ms[i] << 64n) | this.seq[i], i);
    }
    if (this.index !== null) {
      const k = (ms << 64n) | seq;
      if (this.index.has(k)) return false;
      this.index.set(k, n);
    }
    if (n === this.ms.length) this.grow();
    this.ms[n] = ms;
    this.seq[n] = seq;
    this.time[n] = deliveryTime;
    this.count[n] = deliveryCount;
    this.owner[n] = -1;
    this.length = n + 1;
    return true;
  }

  /** A consumer whose PEL follows; its number for `own`. */
  consumer(name: Buffer): number {
    return this.owners.push(name) - 1;
  }

  /** Gives the entry with this id to consumer `c`: 'missing' when there is none, 'owned' when it has an owner. */
  own(ms: bigint, seq: bigint, c: number): 'ok' | 'missing' | 'owned' {
    const i = this.find(ms, seq);
    if (i < 0) return 'missing';
    if (this.owner[i] >= 0) return 'owned';
    this.owner[i] = c;
    return 'ok';
  }

  *[Symbol.iterator](): Iterator<StreamPendingEntry> {
    for (let i = 0; i < this.length; i++) {
      const o = this.owner[i];
      yield {
        id: { ms: this.ms[i], seq: this.seq[i] },
        deliveryTime: this.time[i],
        deliveryCount: this.count[i],
        consumer: o >= 0 ? this.owners[o] : null,
      };
    }
  }

  private find(ms: bigint, seq: bigint): number {
    if (this.index !== null) return this.index.get((ms << 64n) | seq) ?? -1;
    let lo = 0;
    let hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.ms[mid];
      const s = this.seq[mid];
      if (m === ms && s === seq) return mid;
      if (after(ms, seq, m, s)) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  private grow(): void {
    const cap = this.ms.length * 2;
    this.ms = grown(this.ms, cap);
    this.seq = grown(this.seq, cap);
    this.time = grown(this.time, cap);
    this.count = grown(this.count, cap);
    this.owner = grown(this.owner, cap);
  }
}

/** A copy of `a` with room for `cap` elements. */
function grown<T extends BigUint64Array | Float64Array | Int32Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a as never);
  return b;
}

/** Id (ms, seq) comes after (ms2, seq2). */
const after = (ms: bigint, seq: bigint, ms2: bigint, seq2: bigint) => ms > ms2 || (ms === ms2 && seq > seq2);
