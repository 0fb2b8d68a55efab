/**
 * Streaming AOF reader (redis `aof.c` loadSingleAppendOnlyFile): an optional RDB preamble handed to the RDB
 * decoder, then RESP commands (arrays of bulk strings) parsed with the one RESP parser (target/resp.ts), `#…`
 * annotation lines (`#TS:<unix>` since 7.0) skipped. Commands become CommandEntry in the db the last SELECT chose
 * (db 0 at the start of each file, as Redis loads each file with a fresh client). MULTI/EXEC are passed on for the
 * writer to keep atomic; a transaction left open at the end is discarded, as Redis does.
 *
 * A file that ends inside a command is applied up to its last complete command when `allowTruncated` is set
 * (Redis's `aof-load-truncated yes`, which applies to the last file only); otherwise it is an error.
 */
import type { CommandEntry, Entry } from '../entry.ts';
import { RdbParser, type RdbParserOptions } from '../rdb/index.ts';
import { NEED_MORE, RespParser, RespProtocolError, type RespValue } from '../target/index.ts';
import { AofError } from './errors.ts';

export interface AofParserOptions {
  /** Name for error messages. */
  file?: string;
  /** Options for the RDB preamble's decoder. */
  rdb?: RdbParserOptions;
  /**
   * The input was taken for an RDB file: bytes after the RDB that do not start like RESP are ignored (and counted)
   * instead of being corrupt, as redis-server ignores them when loading an RDB.
   */
  rdbFile?: boolean;
}

export interface AofStatus {
  /** Input bytes consumed by complete commands (and the preamble). */
  bytes: number;
  /** Keys of the RDB preamble. */
  keys: number;
  commands: number;
  /** `#` annotation lines skipped. */
  annotations: number;
  expiredSkipped: number;
  preamble: boolean;
}

export interface AofEnd {
  entries: Entry[];
  /** Set when the file ended inside a command: bytes ignored after the last complete command at `offset`. */
  truncated: { offset: number; bytes: number } | null;
  /** Commands of a MULTI never closed by EXEC, discarded. */
  openTransaction: number;
  /** Bytes after an RDB file's end that are no command stream (only with `rdbFile`), ignored. */
  ignoredTail: number;
}

const RDB_MAGIC = [0x52, 0x45, 0x44, 0x49, 0x53]; // REDIS
const VALKEY_MAGIC = [0x56, 0x41, 0x4c, 0x4b, 0x45, 0x59]; // VALKEY

/** argv[0] equals `word` (lowercase ASCII) ignoring case. */
function isWord(b: Buffer, word: string): boolean {
  if (b.length !== word.length) return false;
  for (let i = 0; i < b.length; i++) if ((b[i] | 0x20) !== word.charCodeAt(i)) return false;
  return true;
}

function decimal(b: Buffer): number {
  if (b.length === 0 || b.length > 9) return -1;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    const d = b[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

export class AofParser {
  private mode: 'start' | 'rdb' | 'after-rdb' | 'resp' | 'ignore' = 'start';
  private ignored = 0;
  private head: Buffer[] = [];
  private headLen = 0;
  private rdb: RdbParser | null = null;
  private readonly resp = new RespParser();
  /** File offset where the RESP parser's input starts, plus annotation bytes taken out of it. */
  private respBase = 0;
  private db = 0;
  /** Commands since an open MULTI (-1 = none open). */
  private txLen = -1;
  private commands = 0;
  private annotations = 0;
  /** Input bytes received. */
  private fed = 0;

  constructor(private readonly opts: AofParserOptions = {}) {}

  status(): AofStatus {
    const r = this.rdb?.status();
    return {
      bytes: this.mode === 'resp' ? this.respBase + this.resp.offset : (r?.bytes ?? 0),
      keys: r?.keys ?? 0,
      commands: this.commands,
      annotations: this.annotations,
      expiredSkipped: r?.expiredSkipped ?? 0,
      preamble: this.rdb !== null,
    };
  }

  /** Feed bytes; returns the entries they completed. */
  write(chunk: Buffer): Entry[] {
    if (chunk.length === 0) return [];
    this.fed += chunk.length;
    if (this.mode === 'start') {
      this.head.push(chunk);
      this.headLen += chunk.length;
      if (this.headLen < VALKEY_MAGIC.length) return [];
      const buf = Buffer.concat(this.head, this.headLen);
      this.head = [];
      return this.begin(buf);
    }
    if (this.mode === 'rdb') return this.feedRdb(chunk);
    if (this.mode === 'ignore') {
      this.ignored += chunk.length;
      return [];
    }
    if (this.mode === 'after-rdb') return this.tail(chunk);
    this.resp.push(chunk);
    const out: Entry[] = [];
    this.drain(out);
    return out;
  }

  end(allowTruncated: boolean): AofEnd {
    const out: Entry[] = [];
    if (this.mode === 'start') {
      const buf = Buffer.concat(this.head, this.headLen);
      this.head = [];
      if (buf.length) out.push(...this.begin(buf));
    }
    if (this.mode === 'rdb') {
      // Throws RDB_ERR_TRUNCATED: the preamble did not end.
      out.push(...this.rdb!.end());
    }
    let truncated: AofEnd['truncated'] = null;
    const offset = this.respBase + this.resp.offset;
    const left = this.mode === 'resp' ? this.fed - offset - this.ignored : 0;
    if (left > 0) {
      if (!allowTruncated) {
        throw new AofError(
          'AOF_ERR_TRUNCATED',
          `the file ends inside a command (${left} bytes after the last complete one)`,
          {
            file: this.opts.file,
            offset,
          },
        );
      }
      truncated = { offset, bytes: left };
    }
    let openTransaction = 0;
    if (this.txLen >= 0) {
      openTransaction = this.txLen;
      // Tell the writer to drop what it collected since MULTI.
      out.push({ kind: 'command', db: this.db, argv: [Buffer.from('DISCARD')] });
      this.txLen = -1;
    }
    return { entries: out, truncated, openTransaction, ignoredTail: this.ignored };
  }

  private begin(buf: Buffer): Entry[] {
    const isRdb = RDB_MAGIC.every((c, i) => buf[i] === c) || VALKEY_MAGIC.every((c, i) => buf[i] === c);
    if (isRdb) {
      this.mode = 'rdb';
      this.rdb = new RdbParser({ ...this.opts.rdb, file: this.opts.file });
      return this.feedRdb(buf);
    }
    this.mode = 'resp';
    this.resp.push(buf);
    const out: Entry[] = [];
    this.drain(out);
    return out;
  }

  private feedRdb(chunk: Buffer): Entry[] {
    const rdb = this.rdb!;
    const out = rdb.write(chunk);
    if (rdb.finished) {
      this.mode = 'after-rdb';
      this.respBase = rdb.status().bytes;
      const rest = rdb.trailing;
      if (rest.length) out.push(...this.tail(rest));
    }
    return out;
  }

  /** First bytes after the RDB part: the AOF's command stream, or (for an RDB file) stray bytes. */
  private tail(chunk: Buffer): Entry[] {
    const c = chunk[0];
    if (this.opts.rdbFile && c !== 0x2a && c !== 0x23) {
      this.mode = 'ignore';
      this.ignored += chunk.length;
      return [];
    }
    this.mode = 'resp';
    this.resp.push(chunk);
    const out: Entry[] = [];
    this.drain(out);
    return out;
  }

  private drain(out: Entry[]): void {
    for (;;) {
      let v: RespValue | typeof NEED_MORE;
      try {
        v = this.resp.next();
      } catch (err) {
        if (err instanceof RespProtocolError && this.skipAnnotation()) continue;
        throw this.corrupt(err instanceof RespProtocolError ? err.message : 'unreadable command', err);
      }
      if (v === NEED_MORE) return;
      if (!Array.isArray(v) || v.length === 0)
        throw this.corrupt('expected a command (an array of bulk strings)');
      for (const a of v)
        if (!Buffer.isBuffer(a)) throw this.corrupt('a command argument is not a bulk string');
      const argv = v as Buffer[];
      this.commands++;
      const name = argv[0];
      if (isWord(name, 'select')) {
        const db = argv.length === 2 ? decimal(argv[1]) : -1;
        if (db < 0) throw this.corrupt('SELECT with an invalid db index');
        this.db = db;
        continue;
      }
      if (isWord(name, 'multi')) this.txLen = 0;
      else if (isWord(name, 'exec') || isWord(name, 'discard')) this.txLen = -1;
      else if (this.txLen >= 0) this.txLen++;
      const e: CommandEntry = { kind: 'command', db: this.db, argv };
      out.push(e);
    }
  }

  /**
   * The RESP parser stopped at a byte that starts no reply. Between commands, a `#` starts an annotation line
   * (up to LF): take it out and go on. Anything else is corruption (returns false).
   */
  private skipAnnotation(): boolean {
    let rest: Buffer;
    try {
      rest = this.resp.takeRest();
    } catch {
      return false; // inside a command
    }
    if (rest[0] !== 0x23) {
      this.resp.push(rest);
      return false;
    }
    const nl = rest.indexOf(0x0a);
    // The parser only stops here once a whole line is buffered, so the LF is present.
    const cut = nl < 0 ? rest.length : nl + 1;
    this.respBase += cut;
    this.annotations++;
    this.resp.push(rest.subarray(cut));
    return true;
  }

  private corrupt(why: string, cause?: unknown): AofError {
    return new AofError(
      'AOF_ERR_CORRUPT',
      `not a valid AOF: ${why}`,
      {
        file: this.opts.file,
        offset: this.respBase + this.resp.offset,
      },
      { cause },
    );
  }
}
