/**
 * Token bucket for `bandwidth_limit_mb`: bytes read from the source take tokens; when the bucket is in debt the
 * reader pauses the socket until it has refilled, so TCP flow control slows the source down (no data is dropped).
 */
export class TokenBucket {
  readonly bytesPerSecond: number;
  readonly burst: number;
  private tokens: number;
  private last = performance.now();

  constructor(bytesPerSecond: number, burst?: number) {
    this.bytesPerSecond = bytesPerSecond;
    // A tenth of a second of traffic (at least one socket read) keeps the rate smooth without starving reads.
    this.burst = burst ?? Math.max(64 * 1024, bytesPerSecond / 10);
    this.tokens = this.burst;
  }

  /** Takes `n` bytes; returns how many ms the reader should wait before reading more (0 = go on). */
  take(n: number): number {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = now;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.bytesPerSecond);
  }
}

/** `bandwidth_limit_mb` (MB/s, MB = 2^20 bytes) → a bucket, or null when unlimited. */
export function bucketForMb(mb: number | null | undefined): TokenBucket | null {
  return mb && mb > 0 ? new TokenBucket(mb * 1024 * 1024) : null;
}
