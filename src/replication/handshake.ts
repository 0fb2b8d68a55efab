/**
 * The replica side of the handshake (redis `replication.c` syncWithMaster): AUTH (password, or ACL user and
 * password), `REPLCONF listening-port`, `REPLCONF capa eof capa psync2`, then `PSYNC <replid> <offset>` to continue
 * or `PSYNC ? -1` for a full resync. Ends right after the PSYNC reply line; what follows (the RDB transfer or the
 * command stream) is left in the reader.
 */
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { encodeCommand, NEED_MORE, RespError, RespParser, type RespValue } from '../target/index.ts';
import { ReplicationError } from './errors.ts';
import { ABORTED, SocketReader, TIMEOUT } from './socket-reader.ts';
import type { TokenBucket } from './throttle.ts';

export interface SourceOptions {
  host: string;
  port: number;
  /** ACL user; when absent and `password` holds `user:pass`, that form is tried after the plain password fails. */
  username?: string;
  password?: string;
  connectTimeoutMs?: number;
  /** Managed services may rename PSYNC; the name to send instead. */
  psyncCommand?: string;
  /** TLS (as the target writer takes it): true = system CAs, or options such as `{ ca }`. */
  tls?: boolean | tls.ConnectionOptions;
}

export interface HandshakeOptions {
  bucket: TokenBucket | null;
  signal?: AbortSignal;
  highWaterBytes?: number;
  /** Timeout of each handshake reply. */
  replyTimeoutMs?: number;
}

export type PsyncReply =
  /** `replid` is null when the source answered like SYNC (no id, no offset: the stream cannot be resumed). */
  | { kind: 'full'; replid: string | null; offset: number }
  /** `replid` is the master's new replication id after a failover, null when unchanged. */
  | { kind: 'continue'; replid: string | null };

export interface MasterLink {
  reader: SocketReader;
  reply: PsyncReply;
  node: string;
  /** Local port of the link (what the source lists in INFO replication). */
  localPort: number;
}

export const HANDSHAKE_DEFAULTS = {
  connectTimeoutMs: 10_000,
  replyTimeoutMs: 30_000,
  highWaterBytes: 8 * 1024 * 1024,
} as const;

/** Node's codes for a certificate the client cannot verify (a configuration problem, not a network one). */
export const CERT_ERROR = /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO_(GET|VERIFY)/;

function openSocket(o: SourceOptions, timeoutMs: number, node: string): Promise<Socket> {
  const { host, port } = o;
  return new Promise((resolve, reject) => {
    const s = o.tls
      ? tls.connect({
          host,
          port,
          // SNI carries names only (RFC 6066); an IP is still checked against the certificate's IP SANs.
          ...(net.isIP(host) ? {} : { servername: host }),
          ...(o.tls === true ? {} : o.tls),
        })
      : net.connect({ host, port });
    s.setNoDelay(true);
    const t = setTimeout(() => {
      s.destroy();
      reject(new ReplicationError('REPL_ERR_CONNECT', `no connection within ${timeoutMs} ms`, { node }));
    }, timeoutMs);
    s.once(o.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(t);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err: Error & { code?: string }) => {
      clearTimeout(t);
      // A certificate the client cannot verify is a configuration problem, not a network one: say which.
      const cert = o.tls && CERT_ERROR.test(err.code ?? '');
      reject(
        new ReplicationError(
          'REPL_ERR_CONNECT',
          cert
            ? `TLS: the source's certificate is not trusted: ${err.message} (give the CA that signed it)`
            : `cannot connect${o.tls ? ' (TLS)' : ''}: ${err.message}`,
          { node },
          { cause: err },
        ),
      );
    });
  });
}

/** Sends commands and reads their replies during the handshake (plain request/response). */
class Requester {
  private readonly parser = new RespParser();
  constructor(
    private readonly reader: SocketReader,
    private readonly node: string,
    private readonly timeoutMs: number,
  ) {}

  /** Bytes of a reply that is not RESP (an old-style SYNC answer: the RDB transfer itself). */
  private raw: Buffer | null = null;

  /**
   * Sends a command and reads its reply. With `syncAnswer`, a reply starting with `$` is the RDB transfer of a plain
   * SYNC (what a stock Redis does for a renamed PSYNC): SYNC_ANSWER is returned and the bytes are kept for `rest()`.
   */
  async call(argv: (string | Buffer)[], syncAnswer = false): Promise<RespValue | typeof SYNC_ANSWER> {
    this.reader.write(encodeCommand(argv));
    for (;;) {
      let v: RespValue | typeof NEED_MORE;
      try {
        v = this.parser.next();
      } catch (err) {
        throw new ReplicationError(
          'REPL_ERR_PROTOCOL',
          `unexpected reply to ${argv[0]}: ${(err as { message?: string }).message ?? err}`,
          { node: this.node },
        );
      }
      if (v !== NEED_MORE) return v;
      const c = await this.reader.read(this.timeoutMs);
      if (c === ABORTED)
        throw new ReplicationError('REPL_ERR_LOST', 'stopped during the handshake', { node: this.node });
      if (c === TIMEOUT) {
        throw new ReplicationError('REPL_ERR_LOST', `no reply to ${argv[0]} within ${this.timeoutMs} ms`, {
          node: this.node,
        });
      }
      if (c === null) {
        throw new ReplicationError('REPL_ERR_LOST', `the source closed the connection after ${argv[0]}`, {
          node: this.node,
        });
      }
      // While a master prepares a full sync it sends newlines as keepalives, even before the PSYNC reply.
      let i = 0;
      if (this.parser.buffered === 0) while (i < c.length && c[i] === 0x0a) i++;
      if (syncAnswer && this.parser.buffered === 0 && i < c.length && c[i] === 0x24) {
        this.raw = c.subarray(i);
        return SYNC_ANSWER;
      }
      this.parser.push(i ? c.subarray(i) : c);
    }
  }

  /** Bytes read past the last reply, handed back to the reader. */
  rest(): Buffer {
    return this.raw ?? this.parser.takeRest();
  }
}

function replyText(v: RespValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof RespError) return v.message;
  if (Buffer.isBuffer(v)) return v.toString('latin1'); // text-ok: protocol reply, not user data
  return String(v);
}

const SYNC_ANSWER: unique symbol = Symbol('SYNC_ANSWER');

const AUTH_CODES = new Set(['WRONGPASS', 'NOAUTH', 'ERR']);

async function authenticate(req: Requester, o: SourceOptions, node: string): Promise<void> {
  if (!o.password && !o.username) return;
  const attempts: string[][] = [];
  if (o.username) attempts.push([o.username, o.password ?? '']);
  else {
    attempts.push([o.password ?? '']);
    const i = (o.password ?? '').indexOf(':');
    if (i > 0) attempts.push([(o.password as string).slice(0, i), (o.password as string).slice(i + 1)]);
  }
  let last: RespValue = null;
  let unneeded = false;
  for (const args of attempts) {
    last = (await req.call(['AUTH', ...args])) as RespValue;
    if (!(last instanceof RespError)) return;
    // The default user has no password: Redis says so. Try the ACL form if there is one, else carry on as redis-cli.
    if (last.message.includes('without any password configured')) unneeded = true;
    else if (!AUTH_CODES.has(last.code)) break;
  }
  if (unneeded) return;
  throw new ReplicationError('REPL_ERR_AUTH', `authentication refused: ${replyText(last)}`, { node });
}

/** Reply of PSYNC → what happens next; errors mapped to retriable (busy) or fatal (refused). */
function psyncReply(v: RespValue, node: string, cmd: string): PsyncReply {
  if (v instanceof RespError) {
    const busy = ['LOADING', 'NOMASTERLINK', 'MASTERDOWN', 'BUSY', 'TRYAGAIN'];
    if (busy.includes(v.code)) {
      throw new ReplicationError('REPL_ERR_BUSY', `the source cannot serve a replica now: ${v.message}`, {
        node,
      });
    }
    if (v.code === 'NOAUTH' || v.code === 'WRONGPASS') {
      throw new ReplicationError('REPL_ERR_AUTH', `authentication required: ${v.message}`, { node });
    }
    throw new ReplicationError('REPL_ERR_SYNC_REFUSED', `the source refused ${cmd}: ${v.message}`, { node });
  }
  const text = replyText(v);
  const parts = text.split(' ');
  if (
    parts[0] === 'FULLRESYNC' &&
    parts.length >= 3 &&
    /^[0-9a-f]{40}$/i.test(parts[1]) &&
    /^\d+$/.test(parts[2])
  ) {
    return { kind: 'full', replid: parts[1], offset: Number(parts[2]) };
  }
  if (parts[0] === 'CONTINUE')
    return { kind: 'continue', replid: parts[1] && parts[1].length === 40 ? parts[1] : null };
  throw new ReplicationError('REPL_ERR_PROTOCOL', `unexpected reply to ${cmd}: ${text.slice(0, 200)}`, {
    node,
  });
}

/**
 * Connects and performs the handshake. `resume` = the replication id and the offset of the last byte applied:
 * the source is asked for the stream from the next byte (`PSYNC <replid> <offset+1>`).
 */
export async function openMasterLink(
  o: SourceOptions,
  resume: { replid: string; offset: number } | null,
  h: HandshakeOptions,
): Promise<MasterLink> {
  const node = `${o.host}:${o.port}`;
  const socket = await openSocket(o, o.connectTimeoutMs ?? HANDSHAKE_DEFAULTS.connectTimeoutMs, node);
  socket.setKeepAlive(true, 10_000);
  const reader = new SocketReader(socket, {
    highWaterBytes: h.highWaterBytes ?? HANDSHAKE_DEFAULTS.highWaterBytes,
    bucket: h.bucket,
    node,
    signal: h.signal,
  });
  try {
    const req = new Requester(reader, node, h.replyTimeoutMs ?? HANDSHAKE_DEFAULTS.replyTimeoutMs);
    await authenticate(req, o, node);
    const localPort = socket.localPort ?? 0;
    const lp = (await req.call(['REPLCONF', 'listening-port', String(localPort)])) as RespValue;
    if (lp instanceof RespError) {
      if (lp.code === 'NOAUTH')
        throw new ReplicationError('REPL_ERR_AUTH', `authentication required: ${lp.message}`, { node });
      throw new ReplicationError('REPL_ERR_SYNC_REFUSED', `the source refused REPLCONF: ${lp.message}`, {
        node,
      });
    }
    // Old masters answer an error to capabilities they do not know; the transfer then simply uses `$<len>`.
    await req.call(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
    const cmd = o.psyncCommand || 'PSYNC';
    const args = resume ? [resume.replid, String(resume.offset + 1)] : ['?', '-1'];
    const answer = await req.call([cmd, ...args], true);
    const reply: PsyncReply =
      answer === SYNC_ANSWER ? { kind: 'full', replid: null, offset: 0 } : psyncReply(answer, node, cmd);
    reader.unshift(req.rest());
    return { reader, reply, node, localPort };
  } catch (err) {
    reader.close();
    throw err;
  }
}
