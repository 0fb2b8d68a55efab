/**
 * Decoded value → write commands (the path when a dump cannot be RESTOREd, or none was produced), one key at a
 * time, piece by piece, in commands of about `chunkBytes` (RedisShake `types/*.go` `Rewrite`, but batched and with
 * absolute expiry).
 *
 * Every command carries a `kind` telling the writer how to resend it after a connection loss without applying it
 * twice (see writer.ts `recover`):
 * - `first`: DEL (collections) or SET (strings): resets the key, so everything from it can be resent as is;
 * - `idem`: applying it twice is harmless (SETRANGE at an explicit offset, SADD/ZADD/HSET, XSETID, XCLAIM …);
 * - `rpush`: RPUSH of `items` elements; resumed from LLEN;
 * - `xadd`: XADD with an explicit id; skipped when the stream's last id is already ≥ it;
 * - `xgroup-create`: resent after an `XGROUP DESTROY` of the same group.
 * Strings are written as SET + SETRANGE at explicit offsets rather than SET + APPEND, so a resent piece can never
 * duplicate bytes.
 */
import type { StreamId, StreamMeta, Value, ValueType } from '../entry.ts';
import { printableKey } from '../errors.ts';
import { TargetError } from './errors.ts';
import type { RespArg } from './resp.ts';

export type CommandKind = 'first' | 'idem' | 'rpush' | 'xadd' | 'xgroup-create';

export interface KeyCommand {
  argv: RespArg[];
  kind: CommandKind;
  /** Elements of an `rpush`. */
  items: number;
  /** Id of an `xadd`; group name of an `xgroup-create`. */
  id?: StreamId;
  group?: Buffer;
}

/** What the target understands (derived from its version by the writer). */
export interface RewriteFeatures {
  /** HSET with many pairs (4.0+); HMSET before. */
  hsetMulti: boolean;
  /** XSETID ENTRIESADDED/MAXDELETEDID, XGROUP CREATE … ENTRIESREAD (7.0+). */
  streamMeta: boolean;
  /** XGROUP CREATECONSUMER (6.2+). */
  createConsumer: boolean;
  /** HPEXPIREAT (7.4+). */
  hashFieldTtl: boolean;
}

/** Score text that Redis parses back to the same double (`String` is shortest round-trip; ±inf and -0 spelled out). */
export function formatScore(score: number): string {
  if (score === Number.POSITIVE_INFINITY) return 'inf';
  if (score === Number.NEGATIVE_INFINITY) return '-inf';
  if (Object.is(score, -0)) return '-0';
  return String(score);
}

export function formatId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

const ZERO_ID: StreamId = { ms: 0n, seq: 0n };
/** Ids per XCLAIM at most (about 30 bytes each). */
const CLAIM_IDS = 1000;

export function compareId(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

/** Rewrites one key; call begin(), piece() for each piece in order, then end(). */
export class KeyRewriter {
  private strOffset = 0;
  private started = false;
  private streamEntries = 0;

  constructor(
    private readonly key: Buffer,
    private readonly type: ValueType,
    private readonly features: RewriteFeatures,
    private readonly chunkBytes: number,
  ) {}

  /** Commands that reset the key before its pieces (DEL for collections; strings start with SET). */
  begin(): KeyCommand[] {
    if (this.type === 'string') return [];
    this.started = true;
    return [{ argv: ['DEL', this.key], kind: 'first', items: 0 }];
  }

  piece(v: Value): Iterable<KeyCommand> {
    if (v.type !== this.type) {
      throw new TargetError('TARGET_ERR_SEQUENCE', `piece of type ${v.type} for a ${this.type} key`, {
        key: printableKey(this.key),
      });
    }
    switch (v.type) {
      case 'string':
        return this.string(v.value);
      case 'list':
        return this.batched(v.items, 1, (args) => ['RPUSH', this.key, ...args], 'rpush');
      case 'set':
        return this.batched(v.members, 1, (args) => ['SADD', this.key, ...args], 'idem');
      case 'zset': {
        const flat: RespArg[] = new Array(v.members.length * 2);
        for (let i = 0; i < v.members.length; i++) {
          flat[2 * i] = formatScore(v.scores[i]);
          flat[2 * i + 1] = v.members[i];
        }
        return this.batched(flat, 2, (args) => ['ZADD', this.key, ...args], 'idem');
      }
      case 'hash':
        return this.hash(v.fields, v.values, v.expires);
      case 'stream':
        return this.stream(v);
      case 'module':
        throw new TargetError(
          'TARGET_ERR_UNSUPPORTED',
          `module value (${v.moduleId}) has no usable dump for this target and cannot be rewritten`,
          { key: printableKey(this.key) },
        );
    }
  }

  /** Expiry (absolute ms) after the value; nothing for persistent keys. */
  end(expireAt: number): KeyCommand[] {
    const out: KeyCommand[] = [];
    // A string that never got a piece still exists as an empty value.
    if (this.type === 'string' && !this.started) out.push(...this.string(Buffer.alloc(0)));
    if (expireAt > 0) out.push({ argv: ['PEXPIREAT', this.key, String(expireAt)], kind: 'idem', items: 0 });
    return out;
  }

  private string(value: Buffer): KeyCommand[] {
    const out: KeyCommand[] = [];
    let at = 0;
    if (!this.started) {
      this.started = true;
      const first = value.subarray(0, this.chunkBytes);
      out.push({ argv: ['SET', this.key, first], kind: 'first', items: 0 });
      this.strOffset = first.length;
      at = first.length;
    }
    while (at < value.length) {
      const part = value.subarray(at, at + this.chunkBytes);
      out.push({ argv: ['SETRANGE', this.key, String(this.strOffset), part], kind: 'idem', items: 0 });
      this.strOffset += part.length;
      at += part.length;
    }
    return out;
  }

  /** Splits `args` (groups of `per`) into commands of about chunkBytes. */
  private batched(
    args: RespArg[],
    per: number,
    make: (args: RespArg[]) => RespArg[],
    kind: CommandKind,
  ): KeyCommand[] {
    const out: KeyCommand[] = [];
    let from = 0;
    let bytes = 0;
    for (let i = 0; i < args.length; i += per) {
      for (let j = 0; j < per; j++) {
        const a = args[i + j];
        bytes += (typeof a === 'string' ? a.length : a.length) + 16;
      }
      if (bytes >= this.chunkBytes) {
        out.push({ argv: make(args.slice(from, i + per)), kind, items: (i + per - from) / per });
        from = i + per;
        bytes = 0;
      }
    }
    if (from < args.length)
      out.push({ argv: make(args.slice(from)), kind, items: (args.length - from) / per });
    return out;
  }

  private hash(fields: Buffer[], values: Buffer[], expires?: number[]): KeyCommand[] {
    const flat: RespArg[] = new Array(fields.length * 2);
    for (let i = 0; i < fields.length; i++) {
      flat[2 * i] = fields[i];
      flat[2 * i + 1] = values[i];
    }
    const out = this.features.hsetMulti
      ? this.batched(flat, 2, (args) => ['HSET', this.key, ...args], 'idem')
      : this.batched(flat, 2, (args) => ['HMSET', this.key, ...args], 'idem');
    if (expires?.some((e) => e > 0)) {
      if (!this.features.hashFieldTtl) {
        // Policy: fail rather than silently drop field TTLs (the fields would live forever on the target).
        throw new TargetError(
          'TARGET_ERR_UNSUPPORTED',
          'hash field TTLs need a target with HPEXPIREAT (Redis 7.4+ / Valkey 9+)',
          { key: printableKey(this.key) },
        );
      }
      const byTime = new Map<number, Buffer[]>();
      for (let i = 0; i < fields.length; i++) {
        const e = expires[i];
        if (e > 0) {
          const list = byTime.get(e);
          if (list) list.push(fields[i]);
          else byTime.set(e, [fields[i]]);
        }
      }
      for (const [at, fs] of byTime) {
        for (let i = 0; i < fs.length; i += 1000) {
          const part = fs.slice(i, i + 1000);
          out.push({
            argv: ['HPEXPIREAT', this.key, String(at), 'FIELDS', String(part.length), ...part],
            kind: 'idem',
            items: 0,
          });
        }
      }
    }
    return out;
  }

  /**
   * Commands made as the writer takes them (it encodes each at once): a stream's metadata can come to hundreds of
   * thousands of commands, which would otherwise all exist at the same time.
   */
  private *stream(v: Extract<Value, { type: 'stream' }>): Generator<KeyCommand> {
    for (const e of v.entries) {
      this.streamEntries++;
      yield { argv: ['XADD', this.key, formatId(e.id), ...e.fields], kind: 'xadd', items: 0, id: e.id };
    }
    if (v.meta) yield* this.streamMeta(v.meta);
  }

  private *streamMeta(meta: StreamMeta): Generator<KeyCommand> {
    const key = this.key;
    if (this.streamEntries === 0) {
      // An empty stream (all entries deleted, or created by XGROUP … MKSTREAM) still exists: create it with one
      // entry trimmed away at once (XADD … MAXLEN 0), then XSETID puts back the real last id.
      const id = compareId(meta.lastId, ZERO_ID) > 0 ? meta.lastId : { ms: 0n, seq: 1n };
      yield { argv: ['XADD', key, 'MAXLEN', '0', formatId(id), 'x', ''], kind: 'xadd', items: 0, id };
    }
    const setid: RespArg[] = ['XSETID', key, formatId(meta.lastId)];
    if (this.features.streamMeta) {
      if (meta.entriesAdded >= 0) setid.push('ENTRIESADDED', String(meta.entriesAdded));
      if (meta.maxDeletedId) setid.push('MAXDELETEDID', formatId(meta.maxDeletedId));
    }
    yield { argv: setid, kind: 'idem', items: 0 };
    for (const g of meta.groups) {
      const create: RespArg[] = ['XGROUP', 'CREATE', key, g.name, formatId(g.lastId)];
      if (this.features.streamMeta && g.entriesRead >= 0) create.push('ENTRIESREAD', String(g.entriesRead));
      yield { argv: create, kind: 'xgroup-create', items: 0, group: g.name };
      if (this.features.createConsumer) {
        for (const c of g.consumers) {
          yield { argv: ['XGROUP', 'CREATECONSUMER', key, g.name, c.name], kind: 'idem', items: 0 };
        }
      }
      // One XCLAIM per run of pending entries with the same owner, delivery time and count (those one read
      // delivered), up to CLAIM_IDS ids: a PEL of millions becomes thousands of commands, not millions.
      // batch: XCLAIM key group consumer 0 id…
      let batch: RespArg[] | null = null;
      let time = 0;
      let count = 0;
      for (const p of g.pending) {
        // A PEL entry always has an owner in a valid RDB; without one there is no consumer to claim it for.
        if (!p.consumer) continue;
        if (
          batch !== null &&
          (batch.length - 5 >= CLAIM_IDS ||
            p.deliveryTime !== time ||
            p.deliveryCount !== count ||
            !p.consumer.equals(batch[3] as Buffer))
        ) {
          yield claim(batch, time, count);
          batch = null;
        }
        if (batch === null) {
          batch = ['XCLAIM', key, g.name, p.consumer, '0'];
          time = p.deliveryTime;
          count = p.deliveryCount;
        }
        batch.push(formatId(p.id));
      }
      if (batch !== null) yield claim(batch, time, count);
    }
  }
}

/** XCLAIM `batch` (key, group, consumer, min-idle 0, ids) with the entries' delivery time and count, as they were. */
function claim(batch: RespArg[], time: number, count: number): KeyCommand {
  batch.push('TIME', String(time), 'RETRYCOUNT', String(count), 'FORCE', 'JUSTID');
  return { argv: batch, kind: 'idem', items: 0 };
}

/** Parses "ms-seq" from a reply. */
export function parseId(b: Buffer | string): StreamId | null {
  const s = typeof b === 'string' ? b : asciiOf(b);
  const m = /^(\d+)-(\d+)$/.exec(s);
  return m ? { ms: BigInt(m[1]), seq: BigInt(m[2]) } : null;
}

function asciiOf(b: Buffer): string {
  let s = '';
  for (let i = 0; i < b.length && i < 48; i++) s += String.fromCharCode(b[i]);
  return s;
}
