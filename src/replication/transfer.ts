/**
 * The RDB transfer after `+FULLRESYNC` (redis `readSyncBulkPayload`): newlines the master sends as keepalives while
 * it prepares the snapshot, then either `$<len>\r\n` and exactly len bytes (disk-based), or `$EOF:<40-byte mark>\r\n`
 * and bytes up to the mark (diskless). The payload is handed on as it arrives — an async iterable of chunks for the
 * RDB decoder — and none of it is part of the replication offset.
 */
import { ReplicationError } from './errors.ts';
import { ABORTED, type SocketReader, TIMEOUT } from './socket-reader.ts';

const MARK_LEN = 40;
const EMPTY: Buffer = Buffer.alloc(0);

export interface TransferOptions {
  node: string;
  /** Longest silence accepted (the master sends a newline every second while it prepares the RDB). */
  idleTimeoutMs: number;
}

export class RdbTransfer implements AsyncIterable<Buffer> {
  /** Payload size for `$<len>` transfers, null for diskless ones (size unknown until the mark). */
  readonly totalBytes: number | null;
  readonly diskless: boolean;
  /** Payload bytes handed on so far. */
  delivered = 0;
  private remaining: number;
  private readonly mark: Buffer | null;
  /** Diskless: the last bytes seen, held back because they may be the mark. */
  private tail: Buffer = EMPTY;
  private done = false;

  private constructor(
    private readonly reader: SocketReader,
    private readonly o: TransferOptions,
    total: number | null,
    mark: Buffer | null,
  ) {
    this.totalBytes = total;
    this.remaining = total ?? 0;
    this.mark = mark;
    this.diskless = mark !== null;
  }

  /** Reads the transfer header (after any keepalive newlines). Resolves null when aborted meanwhile. */
  static async open(reader: SocketReader, o: TransferOptions): Promise<RdbTransfer | null> {
    let line: Buffer = EMPTY;
    for (;;) {
      const c = await readOrThrow(reader, o, 'waiting for the RDB transfer to start');
      if (c === ABORTED) return null;
      let buf = line.length ? Buffer.concat([line, c]) : c;
      let i = 0;
      while (i < buf.length && buf[i] === 0x0a) i++;
      buf = buf.subarray(i);
      if (buf.length === 0) {
        line = EMPTY;
        continue;
      }
      if (buf[0] !== 0x24) {
        throw new ReplicationError(
          'REPL_ERR_PROTOCOL',
          `expected the RDB transfer header ('$'), got byte ${buf[0]}`,
          {
            node: o.node,
          },
        );
      }
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        if (buf.length > 1024)
          throw new ReplicationError('REPL_ERR_PROTOCOL', 'RDB transfer header too long', { node: o.node });
        line = buf;
        continue;
      }
      const end = nl > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      const header = buf.subarray(1, end);
      reader.unshift(buf.subarray(nl + 1));
      if (header.length === 4 + MARK_LEN && header.subarray(0, 4).equals(Buffer.from('EOF:'))) {
        return new RdbTransfer(reader, o, null, Buffer.from(header.subarray(4)));
      }
      let n = 0;
      for (const b of header) {
        if (b < 0x30 || b > 0x39) {
          throw new ReplicationError('REPL_ERR_PROTOCOL', 'bad RDB transfer length', { node: o.node });
        }
        n = n * 10 + (b - 0x30);
      }
      if (header.length === 0)
        throw new ReplicationError('REPL_ERR_PROTOCOL', 'empty RDB transfer length', { node: o.node });
      return new RdbTransfer(reader, o, n, null);
    }
  }

  /** True once the whole payload (and the diskless end mark) was read. */
  get complete(): boolean {
    return this.done;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return {
      next: async () => {
        const v = await this.nextChunk();
        return v === null ? { done: true, value: undefined } : { done: false, value: v };
      },
      // The consumer may stop once the decoder saw the RDB end; `finish()` consumes what is left of the transfer.
      return: async () => ({ done: true, value: undefined }),
    };
  }

  /**
   * Next payload chunk; null at the end. When aborted an empty chunk is returned first (the consumer checks its
   * signal before feeding it), then null.
   */
  async nextChunk(): Promise<Buffer | null> {
    while (!this.done) {
      const c = await readOrThrow(this.reader, this.o, 'receiving the RDB');
      if (c === ABORTED) return EMPTY;
      const out = this.mark ? this.diskless_(c) : this.sized(c);
      if (out.length) {
        this.delivered += out.length;
        return out;
      }
    }
    return null;
  }

  /** Reads the rest of the transfer after the decoder saw the RDB's end (nothing but the end mark may remain). */
  async finish(): Promise<void> {
    for (;;) {
      const c = await this.nextChunk();
      if (c === null) return;
      if (c.length) {
        throw new ReplicationError(
          'REPL_ERR_PROTOCOL',
          `${c.length} bytes after the end of the RDB in the transfer`,
          {
            node: this.o.node,
          },
        );
      }
      return; // aborted
    }
  }

  private sized(c: Buffer): Buffer {
    if (c.length >= this.remaining) {
      this.reader.unshift(c.subarray(this.remaining));
      const out = c.subarray(0, this.remaining);
      this.remaining = 0;
      this.done = true;
      return out;
    }
    this.remaining -= c.length;
    return c;
  }

  /** Diskless: hand on everything but the last 40 bytes; the transfer ends when they are the mark. */
  private diskless_(c: Buffer): Buffer {
    const mark = this.mark as Buffer;
    if (c.length >= MARK_LEN) {
      const last = c.subarray(c.length - MARK_LEN);
      const prev = this.tail;
      if (last.equals(mark)) {
        this.done = true;
        this.tail = EMPTY;
        const body = c.subarray(0, c.length - MARK_LEN);
        return prev.length ? Buffer.concat([prev, body]) : body;
      }
      this.tail = Buffer.from(last);
      const body = c.subarray(0, c.length - MARK_LEN);
      return prev.length ? Buffer.concat([prev, body]) : body;
    }
    const all = Buffer.concat([this.tail, c]);
    if (all.length >= MARK_LEN && all.subarray(all.length - MARK_LEN).equals(mark)) {
      this.done = true;
      this.tail = EMPTY;
      return all.subarray(0, all.length - MARK_LEN);
    }
    const keep = Math.min(MARK_LEN, all.length);
    this.tail = all.subarray(all.length - keep);
    return all.subarray(0, all.length - keep);
  }
}

async function readOrThrow(
  reader: SocketReader,
  o: TransferOptions,
  what: string,
): Promise<Buffer | typeof ABORTED> {
  const c = await reader.read(o.idleTimeoutMs);
  if (c === TIMEOUT) {
    throw new ReplicationError(
      'REPL_ERR_LOST',
      `no data from the source for ${o.idleTimeoutMs} ms while ${what}`,
      {
        node: o.node,
      },
    );
  }
  if (c === null)
    throw new ReplicationError('REPL_ERR_LOST', `the source closed the connection while ${what}`, {
      node: o.node,
    });
  return c;
}
