/**
 * The live command stream after the RDB (redis `replicationFeedSlaves` output): RESP arrays of bulk strings.
 * Decodes them into CommandEntry values in order and keeps the replication offset exactly as Redis counts it — raw
 * bytes of every complete command, including the ones not forwarded:
 *
 * - `SELECT n` sets the db of the following entries (not forwarded: the entry's db says where it applies);
 * - `PING`, `REPLCONF …` and sentinel `PUBLISH __sentinel__:hello …` are dropped; `REPLCONF GETACK` is reported so
 *   the caller answers with an ACK;
 * - `MULTI … EXEC` pass through as entries (the writer keeps them as one group); a resume point is only taken
 *   outside a transaction, so a reconnect never splits one.
 */
import type { CommandEntry } from '../entry.ts';
import { NEED_MORE, RespParser, type RespValue } from '../target/index.ts';
import { ReplicationError } from './errors.ts';

/** A place in the stream where a new connection can continue: offset of the last byte consumed, and the db then. */
export interface StreamPoint {
  offset: number;
  db: number;
}

/** Lowercase ASCII word equality without allocating (the command name is protocol text). */
function isWord(b: Buffer, word: string): boolean {
  if (b.length !== word.length) return false;
  for (let i = 0; i < b.length; i++) {
    let c = b[i];
    if (c >= 65 && c <= 90) c += 32;
    if (c !== word.charCodeAt(i)) return false;
  }
  return true;
}

const SENTINEL_HELLO = Buffer.from('__sentinel__:hello');

function parseDb(b: Buffer, node: string): number {
  let n = 0;
  if (b.length === 0 || b.length > 6)
    throw new ReplicationError('REPL_ERR_PROTOCOL', 'bad SELECT argument', { node });
  for (const c of b) {
    if (c < 0x30 || c > 0x39)
      throw new ReplicationError('REPL_ERR_PROTOCOL', 'bad SELECT argument', { node });
    n = n * 10 + (c - 0x30);
  }
  return n;
}

export interface StreamCounters {
  /** Commands decoded (forwarded or not). */
  commands: number;
  /** Commands handed on as entries. */
  forwarded: number;
  /** PING / REPLCONF / sentinel hello dropped. */
  dropped: number;
}

export class CommandStream {
  /** Offset after the last complete command decoded. */
  offset: number;
  db: number;
  /** Last point outside MULTI … EXEC. */
  safe: StreamPoint;
  readonly counters: StreamCounters = { commands: 0, forwarded: 0, dropped: 0 };
  private inMulti = false;
  private readonly parser = new RespParser();
  private readonly base: number;

  constructor(
    start: StreamPoint,
    private readonly node: string,
  ) {
    this.base = start.offset;
    this.offset = start.offset;
    this.db = start.db;
    this.safe = { ...start };
  }

  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }

  /** Inside a source transaction (a resume point would split it). */
  get inTransaction(): boolean {
    return this.inMulti;
  }

  /**
   * Decodes every complete command buffered, appending forwarded ones to `out`. Returns true when a
   * `REPLCONF GETACK` was among them.
   */
  drain(out: CommandEntry[]): boolean {
    let getack = false;
    for (;;) {
      let v: RespValue | typeof NEED_MORE;
      try {
        v = this.parser.next();
      } catch (err) {
        throw new ReplicationError(
          'REPL_ERR_PROTOCOL',
          `malformed command stream: ${(err as { message?: string }).message ?? err}`,
          { node: this.node, offset: this.offset },
        );
      }
      if (v === NEED_MORE) return getack;
      this.offset = this.base + this.parser.offset;
      this.counters.commands++;
      if (!Array.isArray(v) || v.length === 0 || !v.every((a) => Buffer.isBuffer(a))) {
        throw new ReplicationError(
          'REPL_ERR_PROTOCOL',
          'the command stream holds something other than a command',
          {
            node: this.node,
            offset: this.offset,
          },
        );
      }
      const argv = v as Buffer[];
      const name = argv[0];
      if (isWord(name, 'ping')) this.counters.dropped++;
      else if (isWord(name, 'replconf')) {
        this.counters.dropped++;
        if (argv.length > 1 && isWord(argv[1], 'getack')) getack = true;
      } else if (isWord(name, 'select') && argv.length === 2) {
        this.db = parseDb(argv[1], this.node);
      } else if (isWord(name, 'publish') && argv.length === 3 && argv[1].equals(SENTINEL_HELLO)) {
        this.counters.dropped++;
      } else {
        if (isWord(name, 'multi')) this.inMulti = true;
        else if (isWord(name, 'exec') || isWord(name, 'discard')) this.inMulti = false;
        out.push({ kind: 'command', db: this.db, argv });
        this.counters.forwarded++;
      }
      if (!this.inMulti) {
        this.safe = { offset: this.offset, db: this.db };
      }
    }
  }
}
