/**
 * One socket to one target node (the only socket layer; STYLE habit 9).
 *
 * - Ops queued in the same tick are encoded into one Buffer and written with one `socket.write` (habit 7); while
 *   the socket is not drained, further ops wait and join the next batch.
 * - Replies are matched in order against a FIFO of in-flight ops (habit 8); an op completes when the reply of its
 *   last command arrives. `SELECT` (when the op's db differs from the connection's) and `ASKING` are injected here,
 *   so a resent op always carries what it needs.
 * - On an unexpected close, every op not yet completed (in flight or queued) is handed back to the owner in order
 *   through `onLost`; the owner decides what to resend after `reconnect()`. A command counts as written only when
 *   its reply has arrived.
 * In-flight byte/count bounds are kept by the owner (`writer.ts`), across all connections.
 */
import net from 'node:net';
import tls from 'node:tls';
import { TargetError } from './errors.ts';
import {
  type Argv,
  commandSize,
  NEED_MORE,
  RespError,
  RespParser,
  type RespValue,
  writeCommand,
} from './resp.ts';

export interface ConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  tls?: boolean | tls.ConnectionOptions;
  connectTimeoutMs: number;
  /** A connection with commands in flight and no byte received for this long is considered lost. */
  commandTimeoutMs: number;
}

/** A group of commands sent back to back (one command, or MULTI … EXEC). */
/**
 * Spans of pre-encoded bytes shorter than this are copied into the batch's buffer rather than written as views of
 * their own (a view and an iovec cost more than copying a few KiB).
 */
const SPAN_MIN = 4096;

export interface Op {
  cmds: Argv[];
  /** Sum of commandSize(cmds). */
  bytes: number;
  /**
   * When `cmds` were encoded up front, their RESP bytes are `wire[wireAt, wireAt + bytes)` (then `cmds` only names
   * the command(s) and gives their count): written as they are, and without a copy when consecutive ops' bytes
   * are consecutive in the same buffer.
   */
  wire: Buffer | null;
  wireAt: number;
  /** Instead of `wire`: the RESP bytes as consecutive pieces, written by reference (big payloads). */
  parts: Buffer[] | null;
  /** Db the op must run in; -1 when any db will do. */
  db: number;
  /** Prefix the op with ASKING (cluster ASK redirect). */
  asking: boolean;
  /**
   * Called with one reply per command once the last one arrived. Returning 'lost' makes the connection treat this
   * op and every later one as unacknowledged (socket dropped, ops handed to onLost). The array is only valid during
   * the call (single replies come in a reused array).
   */
  done(replies: RespValue[], conn: NodeConnection): undefined | 'lost';
}

interface InFlight {
  op: Op;
  /** Replies of injected SELECT/ASKING still to skip. */
  skip: number;
  injectedError: RespError | null;
  /** Replies so far of a multi-command op (null until its first reply). */
  replies: RespValue[] | null;
}

/** Carries the reply of a single-command op to `done` without an array per reply. */
const ONE: RespValue[] = [null];

const SELECT = Buffer.from('SELECT');
const ASKING = Buffer.from('ASKING');
/**
 * A batch is written as soon as it reaches this size, without waiting for the end of the tick: the target starts
 * on it while the producer goes on decoding (waiting for the tick end left the target idle while we produced).
 */
const BATCH_MAX_BYTES = 256 * 1024;

export interface ConnectionStats {
  writes: number;
  commands: number;
  bytes: number;
  reconnects: number;
}

export class NodeConnection {
  readonly addr: string;
  readonly stats: ConnectionStats = { writes: 0, commands: 0, bytes: 0, reconnects: 0 };
  /** Called once per unexpected loss with the unacknowledged ops in send order. */
  onLost: (conn: NodeConnection, ops: Op[], cause: Error) => void = () => {};
  private socket: net.Socket | null = null;
  private parser = new RespParser();
  private queue: Op[] = [];
  private queuedBytes = 0;
  /** Ops sent and not answered: the op itself in the common case (one command, nothing injected), else a record. */
  private inflight: (Op | InFlight | null)[] = [];
  private head = 0;
  private db = 0;
  private scheduled = false;
  private draining = false;
  private up = false;
  private closing = false;
  /** Rejects the handshake's pending calls when the socket closes during it. */
  private handshakeAbort: ((err: Error) => void) | null = null;

  constructor(private readonly opts: ConnectionOptions) {
    this.addr = `${opts.host}:${opts.port}`;
  }

  /** Connects and authenticates; rejects with TargetError (TARGET_ERR_CONNECT / _AUTH / _NOPERM). */
  static async open(opts: ConnectionOptions): Promise<NodeConnection> {
    const c = new NodeConnection(opts);
    await c.connect();
    return c;
  }

  get connected(): boolean {
    return this.up;
  }

  /** Ops sent or queued and not yet answered. */
  get pending(): number {
    return this.inflight.length - this.head + this.queue.length;
  }

  /** Queues an op; it is written with the other ops of this tick in one batch. */
  send(op: Op): void {
    this.queue.push(op);
    this.queuedBytes += op.bytes;
    if (!this.up || this.draining) return;
    if (this.queuedBytes >= BATCH_MAX_BYTES) this.flush();
    else if (!this.scheduled) {
      // setImmediate rather than a microtask: every op produced before the writer waits for I/O joins the batch.
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** One control command; resolves with its reply (an error reply resolves as a RespError value). */
  call(argv: Argv, db = -1): Promise<RespValue> {
    return new Promise((resolve) => {
      this.send({
        cmds: [argv],
        bytes: commandSize(argv),
        wire: null,
        wireAt: 0,
        parts: null,
        db,
        asking: false,
        done: (replies) => {
          resolve(replies[0]);
          return undefined;
        },
      });
    });
  }

  /** Re-establishes a lost connection (same handshake as open). Queued ops are written once it is up. */
  async reconnect(): Promise<void> {
    this.stats.reconnects++;
    await this.connect();
  }

  /** Drops the socket as if the network failed (ops come back through onLost). */
  reset(cause: Error): void {
    this.socket?.destroy(cause);
  }

  async close(): Promise<void> {
    this.closing = true;
    const s = this.socket;
    this.socket = null;
    this.up = false;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
      setTimeout(() => s.destroy(), 1000).unref();
    });
  }

  private async connect(): Promise<void> {
    const { host, port, connectTimeoutMs } = this.opts;
    const where = { node: this.addr };
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = this.opts.tls
        ? tls.connect({
            host,
            port,
            // SNI carries names only (RFC 6066); an IP is still checked against the certificate's IP SANs.
            ...(net.isIP(host) ? {} : { servername: host }),
            ...(this.opts.tls === true ? {} : this.opts.tls),
          })
        : net.connect({ host, port });
      const timer = setTimeout(
        () =>
          s.destroy(new TargetError('TARGET_ERR_CONNECT', `connect timeout after ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(
          new TargetError('TARGET_ERR_CONNECT', `cannot connect to target: ${err.message}`, where, {
            cause: err,
          }),
        );
      };
      s.once('error', fail);
      s.once(this.opts.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.off('error', fail);
        resolve(s);
      });
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    this.socket = socket;
    this.parser = new RespParser();
    this.db = 0;
    this.closing = false;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.draining = false;
      if (this.queue.length) this.flush();
    });
    socket.setTimeout(this.opts.commandTimeoutMs, () => {
      if (this.inflight.length > this.head)
        socket.destroy(
          new TargetError('TARGET_ERR_CONNECT', `no reply within ${this.opts.commandTimeoutMs} ms`),
        );
    });
    let lastError: Error | null = null;
    socket.on('error', (err) => {
      lastError = err;
    });
    socket.once('close', () => this.onClose(socket, lastError));

    // Handshake: written directly, ahead of any queued op.
    this.up = true;
    const held = this.queue;
    const heldBytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    const aborted = new Promise<never>((_, reject) => {
      this.handshakeAbort = reject;
    });
    aborted.catch(() => {});
    const call = (argv: Argv) => Promise.race([this.call(argv), aborted]);
    try {
      if (this.opts.password !== undefined || this.opts.username !== undefined) {
        const argv = this.opts.username
          ? ['AUTH', this.opts.username, this.opts.password ?? '']
          : ['AUTH', this.opts.password ?? ''];
        const r = await call(argv);
        if (r instanceof RespError) throw authError(r, where);
      }
      for (let attempt = 0; ; attempt++) {
        const r = await call(['PING']);
        if (!(r instanceof RespError)) break;
        if (r.code === 'NOAUTH' || r.code === 'WRONGPASS' || r.code === 'NOPERM') throw authError(r, where);
        // LOADING / MASTERDOWN …: the node is not ready to take writes yet.
        if (attempt * 100 > this.opts.connectTimeoutMs * 10) {
          throw new TargetError('TARGET_ERR_CONNECT', `target not ready: ${r.message}`, where);
        }
        await new Promise((res) => setTimeout(res, Math.min(100 * 2 ** attempt, 1000)));
      }
    } catch (err) {
      this.handshakeAbort = null;
      this.queue = held;
      this.queuedBytes = heldBytes;
      this.up = false;
      this.socket = null;
      socket.destroy();
      if (err instanceof TargetError) throw err;
      throw new TargetError('TARGET_ERR_CONNECT', `connection lost during handshake: ${String(err)}`, where, {
        cause: err,
      });
    }
    this.handshakeAbort = null;
    this.queue = held.concat(this.queue);
    this.queuedBytes += heldBytes;
    if (this.queue.length) this.flush();
  }

  private onClose(socket: net.Socket, err: Error | null): void {
    if (socket !== this.socket) return;
    if (this.handshakeAbort) {
      // The handshake's own calls are in flight; connect() reports the failure and keeps the queued ops.
      this.handshakeAbort(err ?? new TargetError('TARGET_ERR_CONNECT', 'connection closed during handshake'));
      this.handshakeAbort = null;
      this.inflight = [];
      this.head = 0;
      this.up = false;
      return;
    }
    const wasUp = this.up;
    this.up = false;
    this.draining = false;
    this.scheduled = false;
    const lost: Op[] = [];
    for (let i = this.head; i < this.inflight.length; i++) lost.push(opOf(this.inflight[i] as Op | InFlight));
    lost.push(...this.queue);
    this.inflight = [];
    this.head = 0;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.closing && lost.length === 0) return;
    if (wasUp || lost.length)
      this.onLost(
        this,
        lost,
        err ?? new TargetError('TARGET_ERR_CONNECT', 'connection closed by the target'),
      );
  }

  private flush(): void {
    this.scheduled = false;
    const socket = this.socket;
    if (!socket || !this.up || this.draining || this.queue.length === 0) return;
    const ops = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    // Pre-encoded ops whose bytes are consecutive in one buffer form a span, written as a view of those bytes: a
    // run of RESTOREs or MSETs goes out without a copy, and leaves no garbage behind. The rest (injected
    // SELECT/ASKING, argv ops, spans under SPAN_MIN) is copied into one allocation; `parts` are written by
    // reference. The size pass makes the same choices as the write pass.
    let size = 0;
    let copyBytes = 0;
    let db = this.db;
    let commands = 0;
    let spans = 0;
    let others = 0;
    let spanBuf: Buffer | null = null;
    let spanAt = 0;
    let spanEnd = 0;
    for (const op of ops) {
      let skip = 0;
      if (op.db >= 0 && op.db !== db) {
        const n = commandSize([SELECT, String(op.db)]);
        copyBytes += n;
        size += n;
        db = op.db;
        skip++;
      }
      if (op.asking) {
        const n = commandSize([ASKING]);
        copyBytes += n;
        size += n;
        skip++;
      }
      size += op.bytes;
      commands += op.cmds.length + skip;
      if (skip === 0 && op.cmds.length === 1) this.inflight.push(op);
      else this.inflight.push({ op, skip, injectedError: null, replies: null });
      if (skip === 0 && op.wire !== null && op.wire === spanBuf && op.wireAt === spanEnd) {
        spanEnd += op.bytes;
        continue;
      }
      if (spanBuf !== null && spanEnd - spanAt < SPAN_MIN) copyBytes += spanEnd - spanAt;
      spanBuf = null;
      if (skip === 0 && op.wire !== null) {
        spanBuf = op.wire;
        spanAt = op.wireAt;
        spanEnd = spanAt + op.bytes;
        spans++;
        continue;
      }
      others++;
      if (op.parts === null) copyBytes += op.bytes;
    }
    this.stats.writes++;
    this.stats.commands += commands;
    this.stats.bytes += size;
    if (spans === 1 && others === 0 && spanBuf !== null) {
      // The whole batch is one span (the common case), whatever its size.
      if (!socket.write(spanBuf.subarray(spanAt, spanEnd))) this.draining = true;
      return;
    }
    if (spanBuf !== null && spanEnd - spanAt < SPAN_MIN) copyBytes += spanEnd - spanAt;
    const buf = Buffer.allocUnsafe(copyBytes);
    const out: Buffer[] = [];
    let from = 0;
    let off = 0;
    db = this.db;
    spanBuf = null;
    const endSpan = (): void => {
      if (spanBuf === null) return;
      if (spanEnd - spanAt < SPAN_MIN) off += spanBuf.copy(buf, off, spanAt, spanEnd);
      else {
        if (off > from) out.push(buf.subarray(from, off));
        out.push(spanBuf.subarray(spanAt, spanEnd));
        from = off;
      }
      spanBuf = null;
    };
    for (const op of ops) {
      const injected = (op.db >= 0 && op.db !== db) || op.asking;
      if (!injected && op.wire !== null && op.wire === spanBuf && op.wireAt === spanEnd) {
        spanEnd += op.bytes;
        continue;
      }
      endSpan();
      if (op.db >= 0 && op.db !== db) {
        off = writeCommand(buf, off, [SELECT, String(op.db)]);
        db = op.db;
      }
      if (op.asking) off = writeCommand(buf, off, [ASKING]);
      if (op.wire !== null) {
        if (injected) off += op.wire.copy(buf, off, op.wireAt, op.wireAt + op.bytes);
        else {
          spanBuf = op.wire;
          spanAt = op.wireAt;
          spanEnd = spanAt + op.bytes;
        }
      } else if (op.parts !== null) {
        if (off > from) out.push(buf.subarray(from, off));
        for (const p of op.parts) out.push(p);
        from = off;
      } else for (const c of op.cmds) off = writeCommand(buf, off, c);
    }
    endSpan();
    if (off > from) out.push(buf.subarray(from, off));
    this.db = db;
    if (out.length === 1) {
      if (!socket.write(out[0])) this.draining = true;
      return;
    }
    socket.cork();
    let ok = true;
    for (const b of out) ok = socket.write(b);
    socket.uncork();
    if (!ok) this.draining = true;
  }

  /** Drops answered entries from the front once they are the larger part. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.inflight.length) {
      this.inflight = this.inflight.slice(this.head);
      this.head = 0;
    }
  }

  private onData(chunk: Buffer): void {
    const p = this.parser;
    p.push(chunk);
    for (;;) {
      let reply: RespValue | typeof NEED_MORE;
      try {
        reply = p.next();
      } catch (err) {
        this.socket?.destroy(err as Error);
        return;
      }
      if (reply === NEED_MORE) break;
      const item = this.inflight[this.head];
      if (!item) {
        this.socket?.destroy(new TargetError('TARGET_ERR_REPLY', 'reply without a command'));
        return;
      }
      if (!isRecord(item)) {
        // One command, nothing injected: its reply completes it. The slot is cleared at once: answered ops must not
        // stay reachable (with their Buffers) until the array is next compacted.
        this.inflight[this.head++] = null;
        this.compact();
        ONE[0] = reply;
        if (item.done(ONE, this) === 'lost') {
          this.head--;
          this.inflight[this.head] = item;
          this.socket?.destroy(new TargetError('TARGET_ERR_CONNECT', 'reset after a retriable error'));
          return;
        }
        continue;
      }
      const rec = item;
      if (rec.skip > 0) {
        rec.skip--;
        if (reply instanceof RespError && !rec.injectedError) rec.injectedError = reply;
        continue;
      }
      let replies: RespValue[];
      const n = rec.op.cmds.length;
      if (n === 1) {
        ONE[0] = reply;
        replies = ONE;
      } else {
        if (rec.replies === null) rec.replies = [];
        rec.replies.push(reply);
        if (rec.replies.length < n) continue;
        replies = rec.replies;
      }
      this.inflight[this.head++] = null;
      this.compact();
      if (rec.injectedError) replies = replies.map(() => rec.injectedError as RespError);
      if (rec.injectedError) this.db = -1; // unknown after a failed SELECT: force SELECT next time
      if (rec.op.done(replies, this) === 'lost') {
        // Put the op back in front so it is handed over with the rest, then drop the socket.
        this.head--;
        this.inflight[this.head] = { op: rec.op, skip: 0, injectedError: null, replies: null };
        this.socket?.destroy(new TargetError('TARGET_ERR_CONNECT', 'reset after a retriable error'));
        return;
      }
    }
  }
}

function isRecord(x: Op | InFlight): x is InFlight {
  return (x as InFlight).op !== undefined;
}

function opOf(x: Op | InFlight): Op {
  return isRecord(x) ? x.op : x;
}

function authError(r: RespError, where: { node: string }): TargetError {
  const code = r.code === 'NOPERM' ? 'TARGET_ERR_NOPERM' : 'TARGET_ERR_AUTH';
  return new TargetError(code, `target refused authentication: ${r.message}`, { ...where, reply: r.code });
}
