/**
 * Pull-style reading over an async chunk stream: peek a header, take exactly n bytes as chunks, skip, hand back
 * what was read too far. The container readers (tar, zip) and format detection sit on it; nothing is buffered
 * beyond what a caller asked to look at.
 */
import { SourceError } from './errors.ts';

export class ByteReader {
  private readonly it: AsyncIterator<Buffer>;
  private head: Buffer[] = [];
  private headLen = 0;
  private ended = false;
  /** Bytes handed out so far (consumed by read/take/skip). */
  position = 0;

  constructor(
    src: AsyncIterable<Buffer>,
    private readonly name: string,
  ) {
    this.it = src[Symbol.asyncIterator]();
  }

  /** Buffers until `n` bytes are available or the input ended; returns how many are available. */
  private async fill(n: number): Promise<number> {
    while (this.headLen < n && !this.ended) {
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        break;
      }
      if (r.value.length) {
        this.head.push(r.value);
        this.headLen += r.value.length;
      }
    }
    return this.headLen;
  }

  private joinHead(): Buffer {
    if (this.head.length > 1) this.head = [Buffer.concat(this.head, this.headLen)];
    return this.head[0] ?? Buffer.alloc(0);
  }

  /** Up to `n` bytes without consuming them (fewer only at the end of the input). */
  async peek(n: number): Promise<Buffer> {
    await this.fill(n);
    const h = this.joinHead();
    return h.subarray(0, Math.min(n, h.length));
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return (await this.fill(1)) === 0;
  }

  /** The next bytes (at most `max`), or null at the end. */
  async read(max = Number.MAX_SAFE_INTEGER): Promise<Buffer | null> {
    if ((await this.fill(1)) === 0) return null;
    let b = this.head[0];
    if (b.length > max) {
      this.head[0] = b.subarray(max);
      b = b.subarray(0, max);
    } else this.head.shift();
    this.headLen -= b.length;
    this.position += b.length;
    return b;
  }

  /** Exactly `n` bytes in one Buffer (for headers); a SourceError if the input ends first. */
  async readExact(n: number, what: string): Promise<Buffer> {
    if ((await this.fill(n)) < n) throw this.truncated(what);
    const h = this.joinHead();
    const out = h.subarray(0, n);
    this.head = h.length > n ? [h.subarray(n)] : [];
    this.headLen -= n;
    this.position += n;
    return out;
  }

  /** Exactly `n` bytes as they arrive (bodies of archive members). */
  async *take(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      const b = await this.read(Math.min(left, 1 << 20));
      if (!b) throw this.truncated(what);
      left -= b.length;
      yield b;
    }
  }

  async skip(n: number, what: string): Promise<void> {
    for await (const _ of this.take(n, what));
  }

  /** Puts bytes back in front (read too far by a consumer that only learns the end afterwards). */
  unshift(b: Buffer): void {
    if (!b.length) return;
    this.head.unshift(b);
    this.headLen += b.length;
    this.position -= b.length;
  }

  /** Everything left, as it arrives. */
  async *rest(): AsyncGenerator<Buffer> {
    for (;;) {
      const b = await this.read();
      if (!b) return;
      yield b;
    }
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }

  private truncated(what: string): SourceError {
    return new SourceError('SOURCE_ERR_ARCHIVE', `input ended inside ${what}`, {
      file: this.name,
      offset: this.position + this.headLen,
    });
  }
}
