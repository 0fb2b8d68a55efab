/**
 * Pull-style reading of the replication socket: the consumer awaits the next chunk (with a timeout, so it can
 * send acks while the source is idle, and an abort signal, so a stop is prompt). The socket is paused while more
 * than `highWaterBytes` are queued (the consumer is waiting on the target) and while the bandwidth bucket is in
 * debt, so backpressure reaches the source through TCP.
 */
import type { Socket } from 'node:net';
import { ReplicationError } from './errors.ts';
import type { TokenBucket } from './throttle.ts';

export const TIMEOUT: unique symbol = Symbol('TIMEOUT');
export const ABORTED: unique symbol = Symbol('ABORTED');

export interface SocketReaderOptions {
  highWaterBytes: number;
  bucket: TokenBucket | null;
  /** Name of the source for errors (host:port). */
  node: string;
  signal?: AbortSignal;
}

export class SocketReader {
  /** Bytes received from the socket so far (before any unshift). */
  received = 0;
  private readonly chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: ReplicationError | null = null;
  private waiter: (() => void) | null = null;
  private throttledUntil = 0;
  private throttleTimer: NodeJS.Timeout | null = null;
  private paused = false;
  private readonly onAbort = () => this.wake();

  constructor(
    private readonly socket: Socket,
    private readonly opts: SocketReaderOptions,
  ) {
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (err) => {
      this.failure ??= new ReplicationError(
        'REPL_ERR_LOST',
        `connection to the source failed: ${err.message}`,
        { node: opts.node },
        { cause: err },
      );
      this.wake();
    });
    opts.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /**
   * The next chunk; `null` once the source closed the connection, TIMEOUT when nothing arrived within
   * `timeoutMs`, ABORTED once the signal fired. Throws REPL_ERR_LOST on a socket error.
   */
  async read(timeoutMs?: number): Promise<Buffer | null | typeof TIMEOUT | typeof ABORTED> {
    for (;;) {
      if (this.opts.signal?.aborted) return ABORTED;
      const c = this.chunks.shift();
      if (c) {
        this.queued -= c.length;
        this.flow();
        return c;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      const timedOut = await new Promise<boolean>((resolve) => {
        const t = timeoutMs === undefined ? null : setTimeout(() => resolve(true), timeoutMs);
        this.waiter = () => {
          if (t) clearTimeout(t);
          resolve(false);
        };
      });
      this.waiter = null;
      if (timedOut) return TIMEOUT;
    }
  }

  /** Puts bytes back in front (what a parser read past its part of the stream). */
  unshift(buf: Buffer): void {
    if (buf.length === 0) return;
    this.chunks.unshift(buf);
    this.queued += buf.length;
  }

  write(buf: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(buf);
  }

  close(): void {
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    if (this.throttleTimer) clearTimeout(this.throttleTimer);
    this.socket.destroy();
    this.wake();
  }

  private onData(c: Buffer): void {
    this.received += c.length;
    this.chunks.push(c);
    this.queued += c.length;
    const wait = this.opts.bucket?.take(c.length) ?? 0;
    if (wait > 0) {
      this.throttledUntil = performance.now() + wait;
      if (this.throttleTimer) clearTimeout(this.throttleTimer);
      this.throttleTimer = setTimeout(() => {
        this.throttleTimer = null;
        this.throttledUntil = 0;
        this.flow();
      }, wait);
    }
    this.flow();
    this.wake();
  }

  private flow(): void {
    const hold = this.queued >= this.opts.highWaterBytes || this.throttledUntil > performance.now();
    if (hold && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!hold && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private wake(): void {
    this.waiter?.();
  }
}
