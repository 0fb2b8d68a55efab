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

/** Unparsed bytes past which the tail is checked to be RESP, and how much of it is kept for that. */
const TAIL_CHECK_START = 64 * 1024;
const TAIL_KEEP = 1024 * 1024;

/** True when `b` can be the beginning of a RESP command (array of bulk strings) or of an annotation line. */
export function respPrefix(b: Buffer): boolean {
  if (b.length === 0 || b[0] === 0x23) return true;
  let i = 0;
  // Reads "<type><digits>\r\n" at i; returns the number, -1 if the input ends first, -2 if malformed.
  const header = (type: number): number => {
    if (i >= b.length) return -1;
    if (b[i] !== type) return -2;
    let n = 0;
    let j = i + 1;
    for (; j < b.length && b[j] !== 0x0d; j++) {
      const d = b[j] - 0x30;
      if (d < 0 || d > 9 || j - i > 12) return -2;
      n = n * 10 + d;
    }
    if (j >= b.length) return -1;
    if (j === i + 1) return -2;
    if (j + 1 >= b.length) return -1;
    if (b[j + 1] !== 0x0a) return -2;
    i = j + 2;
    return n;
  };
  const argc = header(0x2a);
  if (argc < 0) return argc === -1;
  for (let a = 0; a < argc; a++) {
    const len = header(0x24);
    if (len < 0) return len === -1;
    i += len;
    if (i >= b.length) return true;
    if (b[i] !== 0x0d) return false;
    if (i + 1 >= b.length) return true;
    if (b[i + 1] !== 0x0a) return false;
    i += 2;
  }
  return true;
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
  /** File offset after the last complete command (or annotation). */
  private boundary = 0;
  /** Chunks received since `boundary` (file offset of each), kept while they are within TAIL_KEEP of it. */
  private recent: { at: number; buf: Buffer }[] = [];
  private nextTailCheck = TAIL_CHECK_START;

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
    this.keep(chunk);
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
    let offset = this.respBase + this.resp.offset;
    let left = this.mode === 'resp' ? this.fed - offset : 0;
    if (left > 0) {
      this.checkTail(true);
      // Whole annotation lines at the very end (LF-only ones wait for a CR that never comes) are no truncation.
      const tail = this.tailBytes();
      let i = 0;
      while (i < tail.length && tail[i] === 0x23) {
        const nl = tail.indexOf(0x0a, i);
        if (nl < 0) break;
        i = nl + 1;
        this.annotations++;
      }
      offset += i;
      left -= i;
    }
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

  /** Remembers a RESP chunk (by reference) while it may hold the start of the unparsed tail. */
  private keep(chunk: Buffer): void {
    while (this.recent.length && this.recent[0].at + this.recent[0].buf.length <= this.boundary)
      this.recent.shift();
    const at = this.fed - chunk.length;
    const last = this.recent.length ? this.recent[this.recent.length - 1] : null;
    if (last && last.at + last.buf.length - this.boundary >= TAIL_KEEP) return;
    this.recent.push({ at, buf: chunk });
  }

  private begin(buf: Buffer): Entry[] {
    const isRdb = RDB_MAGIC.every((c, i) => buf[i] === c) || VALKEY_MAGIC.every((c, i) => buf[i] === c);
    if (isRdb) {
      this.mode = 'rdb';
      this.rdb = new RdbParser({ ...this.opts.rdb, file: this.opts.file });
      return this.feedRdb(buf);
    }
    this.mode = 'resp';
    this.keep(buf);
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
    this.boundary = this.respBase;
    this.keep(chunk);
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
      if (v === NEED_MORE) {
        this.checkTail();
        return;
      }
      const at = this.boundary;
      this.boundary = this.respBase + this.resp.offset;
      if (!Array.isArray(v) || v.length === 0) {
        throw this.corrupt('expected a command (an array of bulk strings)', undefined, at);
      }
      for (const a of v) {
        if (!Buffer.isBuffer(a)) throw this.corrupt('a command argument is not a bulk string', undefined, at);
      }
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
    this.boundary = this.respBase + this.resp.offset;
    this.annotations++;
    this.resp.push(rest.subarray(cut));
    return true;
  }

  private corrupt(why: string, cause?: unknown, offset = this.respBase + this.resp.offset): AofError {
    return new AofError(
      'AOF_ERR_CORRUPT',
      `not a valid AOF: ${why}`,
      { file: this.opts.file, offset },
      { cause },
    );
  }

  /**
   * Bytes received after the last complete command must be the start of one (or of an annotation line): a stream
   * that is not RESP (LF-only line endings, garbage) would otherwise wait for a CR forever and look "truncated".
   * Checked once the unparsed tail passes 64 KiB and each time it doubles, and at the end.
   */
  private checkTail(force = false): void {
    const len = this.fed - this.boundary;
    if (!force && len < this.nextTailCheck) return;
    this.nextTailCheck = Math.max(TAIL_CHECK_START, len * 2);
    if (!respPrefix(this.tailBytes())) throw this.corrupt('not a RESP command', undefined, this.boundary);
  }

  /** Up to TAIL_KEEP bytes from the last command boundary. */
  private tailBytes(): Buffer {
    while (this.recent.length && this.recent[0].at + this.recent[0].buf.length <= this.boundary)
      this.recent.shift();
    if (!this.recent.length) return Buffer.alloc(0);
    const first = this.recent[0];
    const parts = [first.buf.subarray(this.boundary - first.at), ...this.recent.slice(1).map((r) => r.buf)];
    return Buffer.concat(parts).subarray(0, TAIL_KEEP);
  }
}
