/**
 * The target writer: entries in, acknowledged writes out (DESIGN.md "target/").
 *
 * - A key with a usable dump → `RESTORE key ttl dump [REPLACE] [ABSTTL] [IDLETIME|FREQ]`; otherwise its decoded
 *   value is rewritten to commands (rewrite.ts), piece by piece for big keys (KeyEntry(more) + ChunkEntry…).
 * - Commands from AOF/replication streams are sent in MULTI/EXEC batches (per slot on a cluster), at most one
 *   such batch in flight per node.
 * - In-flight ops are bounded by bytes and count across all nodes (STYLE habit 8); `write()` waits for a reply or
 *   a finished recovery when the bounds are reached, never polls.
 * - Every op stays in memory until its reply arrives. On a lost connection (or a retriable error reply, which is
 *   handled the same way) the node is reconnected and the unacknowledged ops are resent in order, adjusted so that
 *   nothing is applied twice (see `recover`).
 */

import type tls from 'node:tls';
import {
  type ChunkEntry,
  type CommandEntry,
  type DumpRunEntry,
  type Entry,
  type KeyEntry,
  RUN_CMD_AT,
  RUN_CMD_LEN,
  RUN_DUMP_AT,
  RUN_DUMP_LEN,
  RUN_FREQ,
  RUN_IDLE,
  RUN_KEY_AT,
  RUN_KEY_LEN,
  RUN_STRIDE,
  type RunLayout,
  releaseRun,
  runKeyEntry,
  type Statusable,
  type StreamId,
  type ValueType,
} from '../entry.ts';
import { printableKey } from '../errors.ts';
import { decodeDump, RdbError, stringDumpLength, stringDumpOf, writeStringDump } from '../rdb/index.ts';
import type { NodeConnection, Op } from './connection.ts';
import { NodeConnection as Connection } from './connection.ts';
import { TargetError, type TargetErrorCode } from './errors.ts';
import { infoField, keyspaceTotal } from './info.ts';
import {
  type Argv,
  CommandSlab,
  commandAfter,
  commandKeyOf,
  commandSize,
  encodeCommands,
  MsetBuilder,
  msetPairSize,
  msetPairsOf,
  optionValue,
  RESTORE_RUN_LAYOUT,
  RespError,
  type RespValue,
  restoreOption,
} from './resp.ts';
import { type CommandKind, compareId, KeyRewriter, parseId, type RewriteFeatures } from './rewrite.ts';
import {
  type KeySpec,
  keySlot,
  lowerWord,
  parseCommandTable,
  parseRedirect,
  SlotRouter,
} from './slot-router.ts';

export interface TargetOptions {
  /** host:port[,host:port…] (cluster: any/all masters). */
  addrs: string;
  /** Default: auto-detect via INFO cluster. */
  cluster?: boolean;
  username?: string;
  password?: string;
  tls?: boolean | tls.ConnectionOptions;
  /** Source db → target db; identity by default. Cluster targets take db 0 only. */
  dbMap?: Map<number, number>;
  /** What to do when a key already exists on the target. */
  onConflict?: 'overwrite' | 'skip' | 'fail';
  /**
   * Bytes of commands sent and not yet answered (default 16 MiB; one bigger command still goes alone). Small keys
   * import as fast with 16 as with 32; big values keep that much more memory alive.
   */
  maxInflightBytes?: number;
  maxInflightCommands?: number;
  /** Decoded values are written as commands of about this size (and command-stream batches are cut at it). */
  bigValueChunkBytes?: number;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** Reconnect attempts / retries of one op on retriable errors before the writer fails. */
  maxRetries?: number;
}

export const TARGET_DEFAULTS = {
  onConflict: 'overwrite',
  maxInflightBytes: 16 * 1024 * 1024,
  maxInflightCommands: 20_000,
  bigValueChunkBytes: 1024 * 1024,
  connectTimeoutMs: 10_000,
  commandTimeoutMs: 60_000,
  maxRetries: 10,
} as const satisfies Partial<TargetOptions>;

export interface TargetCapabilities {
  version: string;
  rdbVersion: number;
  cluster: boolean;
  restoreAbsTtl: boolean;
  functions: boolean;
  hashFieldTtl: boolean;
  /**
   * The target runs RESTORE at all: false when an ACL denies it or rename-command removed it, and every key is
   * then written as plain commands.
   */
  restore: boolean;
  /** Can RESTORE a dump whose type byte is rdbType from a redis|valkey file. */
  dumpable(rdbType: number, flavor: 'redis' | 'valkey'): boolean;
}

/** What the CLI and task logs say when `capabilities.restore` is false (sentence case after a prefix). */
export const NO_RESTORE_NOTE =
  'the target refuses RESTORE (ACL or rename-command): every key is written as plain commands, which is slower.';

export interface WriterStatus {
  /** Keys fully acknowledged. */
  keys: number;
  /** Keys left alone because they existed (onConflict=skip). */
  keysSkipped: number;
  /** Keys not written because their expiry had passed. */
  keysExpired?: number;
  /** Commands sent (including SELECT/ASKING/MULTI/EXEC and resends). */
  commands: number;
  bytes: number;
  /** Commands acknowledged. */
  acked: number;
  /** Socket writes (one per batch). */
  writes: number;
  inflightBytes: number;
  inflightCommands: number;
  maxInflightBytesSeen: number;
  maxInflightCommandsSeen: number;
  /** Ops resent after a retriable error or a lost connection, and redirects followed. */
  retries: number;
  reconnects: number;
}

/** Progress of one key across its ops. */
interface Unit {
  key: Buffer;
  /** Source db (to match chunks). */
  srcDb: number;
  db: number;
  slot: number;
  type: ValueType;
  rewriter: KeyRewriter | null;
  /** More pieces expected (or end commands not yet dispatched). */
  open: boolean;
  /** Ops dispatched and not yet acknowledged. */
  pending: number;
  firstAcked: boolean;
  /** Elements acknowledged through RPUSH. */
  listAcked: number;
  /** Chunks of this key are dropped (skipped, expired, restored from a dump). */
  ignoreChunks: boolean;
  skipped: boolean;
  counted: boolean;
  /** Absolute expiry applied after the last piece. */
  expireAt: number;
}

type OpKind = CommandKind | 'restore' | 'mset' | 'tx' | 'broadcast' | 'control';

interface WOp extends Op {
  /** Slot to route by; -1 when `node` is fixed. */
  slot: number;
  /** Key of a unit-less op (a plain RESTORE), for error messages: read back from its encoded bytes. */
  key(): Buffer | null;
  node: string | null;
  unit: Unit | null;
  kind: OpKind;
  items: number;
  id?: StreamId;
  group?: Buffer;
  attempts: number;
  /** Of an op of several RESTOREs: the index of the one answered with the error. */
  failedCmd: number;
  /** Sent again after a loss: a BUSYKEY on a non-REPLACE RESTORE is then our own first attempt. */
  resent: boolean;
  /** Policy for BUSYKEY on a RESTORE without REPLACE. */
  busy: 'skip' | 'fail' | null;
  /** Budget reserved and not yet released. */
  reserved: boolean;
  /** Node holding this op's command-stream transaction slot (see txBusy). */
  txAddr: string | null;
  /** Label for errors (command name); empty = derive from argv. */
  label: string;
  /** Control requests resolve their caller with the reply. */
  onReply: ((reply: RespValue) => void) | null;
  /** The memory this op sends from in place (a run's bytes, an MSET slab): told when the op is acknowledged. */
  hold: { done(): void } | null;
}

/**
 * A run whose commands go to the target from its own bytes: its memory is released (entry.ts `releaseRun`, so the
 * decoder reuses it) once writeRun is done with it and every op sending from it was acknowledged. Ops lost with a
 * connection are resent from the same bytes, so an op counts until its reply; a writer that fails keeps the rest.
 */
class RunHold {
  private pending = 1;

  constructor(private readonly entry: DumpRunEntry) {}

  add(): this {
    this.pending++;
    return this;
  }

  done(): void {
    if (--this.pending === 0) releaseRun(this.entry);
  }
}

type ReplyHandler = (op: WOp, replies: RespValue[], conn: NodeConnection) => undefined | 'lost';

/** Ops are instances of one class: a single object shape, and `done` needs no closure per op. */
class WriterOp implements WOp {
  db: number;
  asking = false;
  wire: Buffer | null = null;
  wireAt = 0;
  parts: Buffer[] | null = null;
  /** Of an op of several RESTOREs: the one whose reply was the error (names the key in messages). */
  failedCmd = 0;
  /**
   * A RESTORE of the fast path does not hold its key (which would pin the decoder's input buffer while in flight);
   * error messages read it back from the encoded command.
   */
  key(): Buffer | null {
    if (this.unit !== null || (this.kind !== 'restore' && this.kind !== 'mset')) return null;
    if (this.parts !== null) return commandKeyOf(this.parts[0], 0);
    if (this.wire === null) return null;
    const at = this.failedCmd > 0 ? commandAfter(this.wire, this.wireAt, this.failedCmd) : this.wireAt;
    return commandKeyOf(this.wire, at);
  }
  node: string | null;
  unit: Unit | null = null;
  items = 0;
  id: StreamId | undefined = undefined;
  group: Buffer | undefined = undefined;
  attempts = 0;
  resent = false;
  busy: 'skip' | 'fail' | null = null;
  reserved = false;
  txAddr: string | null = null;
  label = '';
  onReply: ((reply: RespValue) => void) | null = null;
  hold: { done(): void } | null = null;

  constructor(
    private readonly handler: ReplyHandler,
    readonly cmds: Argv[],
    readonly bytes: number,
    db: number,
    readonly slot: number,
    node: string | null,
    public kind: OpKind,
  ) {
    this.db = db;
    this.node = node;
  }

  done(replies: RespValue[], conn: NodeConnection): undefined | 'lost' {
    return this.handler(this, replies, conn);
  }
}

function isWOp(op: Op): op is WOp {
  return op instanceof WriterOp;
}

interface Gate {
  open(): boolean;
}

/** Marks "not handled by restoreFast". */
const NOT_FAST = Symbol('NOT_FAST');
/** `cmds` of a pre-encoded RESTORE op: names the command and counts one reply (its bytes are in `wire`). */
const RESTORE_ARGV: Argv = ['RESTORE'];
const RESTORE_CMDS: Argv[] = [RESTORE_ARGV];
/** `cmds` entry of a pre-encoded SET (the MSET fallback where RESTORE is refused too). */
const SET_ARGV: Argv = ['SET'];
/** `cmds` of a pre-encoded MSET op (one reply for all its keys). */
const MSET_CMDS: Argv[] = [['MSET']];
/**
 * RESTOREs of a run go out as ops of up to this many bytes: one op (and one reply record) for hundreds of keys,
 * small enough that several are in flight and the target always has the next one queued.
 */
const RUN_OP_BYTES = 64 * 1024;

const RETRIABLE = new Set(['LOADING', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'BUSY']);
/** Keyless commands of a stream that must reach every master of a cluster. */
const BROADCAST = new Set(['flushall', 'flushdb', 'script', 'function']);
/** Multi-key commands that may be split per slot (each key independent). */
const SPLIT_STEP1 = new Set(['del', 'unlink', 'exists', 'touch']);

/** redis_version → RDB version (redis `rdb.h` RDB_VERSION over the releases). */
export function rdbVersionOf(version: number[], valkey: boolean): number {
  const v = (maj: number, min: number) => version[0] > maj || (version[0] === maj && version[1] >= min);
  if (valkey) return v(9, 0) ? 80 : 11;
  if (v(8, 6)) return 13;
  if (v(7, 4)) return 12;
  if (v(7, 2)) return 11;
  if (v(7, 0)) return 10;
  if (v(5, 0)) return 9;
  if (v(4, 0)) return 8;
  if (v(3, 2)) return 7;
  return 6;
}

/** First RDB version that knows each RDB_TYPE_* (redis `rdb.h` history). */
const TYPE_MIN_RDB: Record<number, number> = {
  0: 1,
  1: 1,
  2: 1,
  3: 1,
  4: 1,
  5: 8, // ZSET_2 (4.0)
  7: 8, // MODULE_2 (4.0; the module must be loaded on the target)
  9: 1,
  10: 1,
  11: 1,
  12: 1,
  13: 1,
  14: 7, // LIST_QUICKLIST (3.2)
  15: 9, // STREAM_LISTPACKS (5.0)
  16: 10, // HASH_LISTPACK, ZSET_LISTPACK, LIST_QUICKLIST_2, STREAM_LISTPACKS_2 (7.0)
  17: 10,
  18: 10,
  19: 10,
  20: 11, // SET_LISTPACK (7.2)
  21: 11, // STREAM_LISTPACKS_3 (7.2)
  24: 12, // HASH_METADATA, HASH_LISTPACK_EX (7.4)
  25: 12,
  26: 13, // 8.6
};

export function makeCapabilities(
  version: string,
  valkey: boolean,
  cluster: boolean,
  valkeyVersion?: string,
  restore = true,
): TargetCapabilities {
  const parts = version.split('.').map(Number);
  const vk = valkeyVersion ? valkeyVersion.split('.').map(Number) : [];
  const rdbVersion = rdbVersionOf(valkey ? vk : parts, valkey);
  const at = (maj: number, min: number) => parts[0] > maj || (parts[0] === maj && parts[1] >= min);
  return {
    version: valkey && valkeyVersion ? valkeyVersion : version,
    rdbVersion,
    cluster,
    restoreAbsTtl: at(5, 0),
    functions: at(7, 0),
    hashFieldTtl: valkey ? vk[0] >= 9 : at(7, 4),
    restore,
    dumpable(rdbType, flavor) {
      if (!restore) return false;
      if (flavor === 'valkey' && rdbType === 22) return valkey && rdbVersion >= 80;
      const min = TYPE_MIN_RDB[rdbType];
      if (min === undefined) return false; // 6 (module pre-GA), 22/23 (7.4 pre-GA), unknown
      if (valkey) return min <= 11; // Valkey shares Redis's types up to 7.2 only
      return rdbVersion >= min;
    },
  };
}

function asciiText(b: RespValue): string {
  if (typeof b === 'string') return b;
  if (!Buffer.isBuffer(b)) return '';
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

export class TargetWriter implements Statusable<WriterStatus> {
  readonly capabilities: TargetCapabilities;
  private readonly o: Required<Omit<TargetOptions, 'cluster' | 'username' | 'password' | 'tls' | 'dbMap'>>;
  private readonly features: RewriteFeatures;
  private readonly counters = {
    keys: 0,
    keysSkipped: 0,
    keysExpired: 0,
    acked: 0,
    inflightBytes: 0,
    inflightCommands: 0,
    maxInflightBytesSeen: 0,
    maxInflightCommandsSeen: 0,
    retries: 0,
  };
  private failure: TargetError | null = null;
  private closed = false;
  private current: Unit | null = null;
  /** Source MULTI … EXEC being collected (kept whole in one batch). */
  private srcTx: CommandEntry[] | null = null;
  /** Command-stream groups (each one source command or one source transaction) not yet sent. */
  private cmdGroups: CommandEntry[][] = [];
  private cmdGroupBytes = 0;
  private cmdGroupCount = 0;
  /** Nodes with a command-stream transaction in flight. */
  private txBusy = new Set<string>();
  private gates: Gate[] = [];
  private recoveries = new Set<Promise<void>>();
  /** Ops waiting for their node's connection to open, per address. */
  private opening = new Map<string, WOp[]>();
  /** Resolved by `wake()`; created only when someone waits (acks are frequent, waiters are not). */
  private changed: { promise: Promise<void>; resolve: () => void } | null = null;
  private readonly handler: ReplyHandler = (op, replies, conn) => this.onReplies(op, replies, conn);
  /** RESTORE … REPLACE (3.0+). */
  private readonly replaceOk: boolean;
  /** Where RESTOREs of the fast path are encoded (their dump is not held once encoded). */
  private readonly wire = new CommandSlab();
  /** Plain strings of runs, as MSETs (see writeRun). */
  private readonly mset = new MsetBuilder();
  /** Target db of the open MSET's pairs (decoded strings; a run's MSETs are sent before it returns). */
  private msetDb = 0;
  /** The target refused an MSET: no more are built (strings go as RESTOREs, or as SETs). */
  private msetRefused = false;
  private commandTable: Map<string, KeySpec> | null = null;

  private constructor(
    private readonly router: SlotRouter,
    caps: TargetCapabilities,
    o: TargetWriter['o'],
    private readonly dbMap: Map<number, number> | undefined,
    private readonly control: NodeConnection,
  ) {
    this.capabilities = caps;
    this.o = o;
    const v = caps.version.split('.').map(Number);
    const at = (maj: number, min: number) => v[0] > maj || (v[0] === maj && v[1] >= min);
    this.features = {
      hsetMulti: at(4, 0),
      streamMeta: at(7, 0),
      createConsumer: at(6, 2),
      hashFieldTtl: caps.hashFieldTtl,
    };
    this.replaceOk = atLeast(caps.version, 3, 0);
  }

  /** Connects, authenticates, detects version and cluster topology. Rejects with a TargetError. */
  static async connect(opts: TargetOptions): Promise<TargetWriter> {
    const o = {
      onConflict: opts.onConflict ?? TARGET_DEFAULTS.onConflict,
      maxInflightBytes: opts.maxInflightBytes ?? TARGET_DEFAULTS.maxInflightBytes,
      maxInflightCommands: opts.maxInflightCommands ?? TARGET_DEFAULTS.maxInflightCommands,
      bigValueChunkBytes: opts.bigValueChunkBytes ?? TARGET_DEFAULTS.bigValueChunkBytes,
      connectTimeoutMs: opts.connectTimeoutMs ?? TARGET_DEFAULTS.connectTimeoutMs,
      commandTimeoutMs: opts.commandTimeoutMs ?? TARGET_DEFAULTS.commandTimeoutMs,
      maxRetries: opts.maxRetries ?? TARGET_DEFAULTS.maxRetries,
      addrs: opts.addrs,
    };
    const base = {
      username: opts.username,
      password: opts.password,
      tls: opts.tls,
      connectTimeoutMs: o.connectTimeoutMs,
      commandTimeoutMs: o.commandTimeoutMs,
    };
    const addrs = opts.addrs
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean);
    if (addrs.length === 0) throw new TargetError('TARGET_ERR_CONNECT', 'no target address given');
    let first: NodeConnection | null = null;
    let lastErr: unknown = null;
    for (const a of addrs) {
      const i = a.lastIndexOf(':');
      const host = i > 0 ? a.slice(0, i) : a;
      const port = i > 0 ? Number(a.slice(i + 1)) : 6379;
      try {
        first = await Connection.open({ ...base, host, port });
        break;
      } catch (err) {
        lastErr = err;
        // Authentication problems are the same on every node: report at once.
        if (err instanceof TargetError && err.code !== 'TARGET_ERR_CONNECT') throw err;
      }
    }
    if (!first) throw lastErr;
    try {
      const info = await first.call(['INFO', 'server']);
      if (info instanceof RespError) throw replyError(info, { node: first.addr }, 'INFO server');
      const text = asciiText(info);
      const version = infoField(text, 'redis_version') ?? '0.0.0';
      const valkeyVersion = infoField(text, 'valkey_version');
      const valkey = valkeyVersion !== undefined || infoField(text, 'server_name') === 'valkey';
      let cluster = opts.cluster;
      if (cluster === undefined) {
        const ci = await first.call(['INFO', 'cluster']);
        cluster = !(ci instanceof RespError) && infoField(asciiText(ci), 'cluster_enabled') === '1';
      }
      const caps = makeCapabilities(version, valkey, cluster, valkeyVersion, await restoreAllowed(first));
      let writer: TargetWriter | null = null;
      const router = await SlotRouter.create(first, base, cluster, (c) => writer?.adopt(c));
      writer = new TargetWriter(router, caps, o, opts.dbMap, first);
      for (const c of router.connections()) writer.adopt(c);
      if (cluster) {
        const table = await first.call(['COMMAND']);
        if (!(table instanceof RespError)) writer.commandTable = parseCommandTable(table);
      }
      return writer;
    } catch (err) {
      await first.close();
      throw err;
    }
  }

  status(): WriterStatus {
    let writes = 0;
    let commands = 0;
    let bytes = 0;
    let reconnects = 0;
    for (const c of this.router.connections()) {
      writes += c.stats.writes;
      commands += c.stats.commands;
      bytes += c.stats.bytes;
      reconnects += c.stats.reconnects;
    }
    return { ...this.counters, writes, commands, bytes, reconnects };
  }

  /** Accepts entries; resolves as soon as they are all dispatched within the in-flight bounds. */
  async write(entries: Entry[]): Promise<void> {
    this.check();
    for (const e of entries) {
      if (e.kind !== 'command' && this.cmdGroups.length) await this.sendCommands();
      if (e.kind !== 'key' && this.mset.count > 0) await this.flushMset();
      switch (e.kind) {
        case 'key': {
          // Most keys are one RESTORE admitted at once, or a pair added to the open MSET: no promise unless the
          // bounds make us wait.
          let p = this.restoreFast(e);
          if (p === NOT_FAST) p = this.msetFast(e);
          if (p === NOT_FAST) await this.writeKey(e);
          else if (p) await p;
          break;
        }
        case 'dumps':
          await this.writeRun(e);
          break;
        case 'chunk':
          await this.writeChunk(e);
          break;
        case 'command':
          await this.addCommand(e);
          break;
        case 'function':
          if (!this.capabilities.functions) {
            this.fail(
              new TargetError(
                'TARGET_ERR_UNSUPPORTED',
                `functions need Redis 7.0+ (target ${this.capabilities.version})`,
              ),
            );
            this.check();
          }
          await this.broadcast(['FUNCTION', 'LOAD', 'REPLACE', e.code], 'FUNCTION LOAD');
          break;
        case 'script':
          await this.broadcast(['SCRIPT', 'LOAD', e.body], 'SCRIPT LOAD');
          break;
      }
    }
    if (this.cmdGroups.length) await this.sendCommands();
    if (this.mset.count > 0) await this.flushMset();
  }

  /** Keys on the target now, over every db of every master (INFO keyspace). */
  async keyCount(): Promise<number> {
    this.check();
    let n = 0;
    for (const addr of this.router.masters()) {
      const op = this.op([['INFO', 'keyspace']], -1, addr, 'control');
      const reply = await this.request(op);
      if (reply instanceof RespError) throw this.fail(replyError(reply, { node: addr }, 'INFO keyspace'));
      const text = Buffer.isBuffer(reply) ? reply.toString('latin1') : String(reply); // text-ok: INFO reply, not user data
      n += keyspaceTotal(text);
    }
    return n;
  }

  /** Empties the target (FLUSHALL on every master) once everything written before is acknowledged. */
  async flushAll(): Promise<void> {
    await this.flush();
    await this.broadcast(['FLUSHALL'], 'FLUSHALL');
    await this.flush();
  }

  /** Resolves when every entry written so far is acknowledged; rejects with the first error. */
  async flush(): Promise<void> {
    if (this.cmdGroups.length) await this.sendCommands();
    for (;;) {
      this.check();
      if (this.counters.inflightCommands === 0 && this.recoveries.size === 0) return;
      await this.waitChange();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.failure) await this.flush();
    } finally {
      this.closed = true;
      await this.router.close();
    }
  }

  // ---- entries ----

  private mapDb(db: number, key?: Buffer): number {
    const mapped = this.dbMap?.get(db) ?? db;
    if (this.capabilities.cluster && mapped !== 0) {
      throw this.fail(
        new TargetError(
          'TARGET_ERR_CLUSTER_DB',
          `a cluster target has db 0 only; entry is for db ${mapped}`,
          {
            db,
            key: key ? printableKey(key) : undefined,
          },
        ),
      );
    }
    return mapped;
  }

  private newUnit(e: KeyEntry, db: number): Unit {
    return {
      key: e.key,
      srcDb: e.db,
      db,
      slot: this.capabilities.cluster ? keySlot(e.key) : 0,
      type: e.type,
      rewriter: null,
      open: true,
      pending: 0,
      firstAcked: false,
      listAcked: 0,
      ignoreChunks: false,
      skipped: false,
      counted: false,
      expireAt: e.expireAt,
    };
  }

  /** The dump of `e` if this target can RESTORE it. */
  private usableDump(e: KeyEntry): Buffer | null {
    const d = e.dump;
    if (!d || d.length < 11) return null;
    const ver = d.readUInt16LE(d.length - 10);
    const flavor = ver >= 80 ? 'valkey' : 'redis';
    if (!this.capabilities.dumpable(d[0], flavor)) return null;
    if (ver > this.capabilities.rdbVersion) return null;
    return d;
  }

  /**
   * A decoded string without a TTL (plain commands: no dump, or a target without RESTORE) goes into the open MSET
   * like a run's plain strings, on a standalone target under the overwrite policy; sent when full, at another db,
   * or when `write` returns. (The command path keeps no LRU/LFU hint, so a hint does not keep a key out.) Returns
   * NOT_FAST to take the general path, else what `dispatch` returned.
   */
  private msetFast(e: KeyEntry): Promise<void> | undefined | typeof NOT_FAST {
    const v = e.value;
    if (
      v?.type !== 'string' ||
      e.expireAt !== 0 ||
      e.more ||
      this.msetRefused ||
      this.capabilities.cluster ||
      this.o.onConflict !== 'overwrite' ||
      (this.current?.open && !this.current.ignoreChunks)
    )
      return NOT_FAST;
    const size = msetPairSize(e.key.length, v.value.length);
    if (size > RUN_OP_BYTES) return NOT_FAST;
    this.current = null;
    const m = this.mset;
    const p = this.msetRoom(this.mapDb(e.db, e.key), size);
    v.value.copy(m.slabBuf, m.pair(e.key, 0, e.key.length, v.value.length));
    return p;
  }

  /**
   * Room in the open MSET for a pair of `size` bytes of target db `db`: the open one is sent first when it is of
   * another db or full; what that send returned (the pair can be added at once either way).
   */
  private msetRoom(db: number, size: number): Promise<void> | undefined {
    const m = this.mset;
    let p: Promise<void> | undefined;
    if (m.count > 0 && (db !== this.msetDb || m.bytes + size > RUN_OP_BYTES || !m.fits(size)))
      p = this.flushMset();
    m.fits(size); // after a send: an empty MSET, in a slab with room for the pair
    this.msetDb = db;
    return p;
  }

  /**
   * The common case of `writeKey` without an async frame and without a Unit: a whole dump this target restores
   * with REPLACE (overwrite policy), no big key open. The RESTORE is encoded at once into the writer's command
   * slab; its op keeps only those bytes (resent as they are after a loss: RESTORE … REPLACE is idempotent) and
   * counts the key when acknowledged. Returns NOT_FAST to take the general path, else what `dispatch` returned.
   */
  private restoreFast(e: KeyEntry): Promise<void> | undefined | typeof NOT_FAST {
    if (this.o.onConflict !== 'overwrite' || !this.replaceOk || e.dump === null || e.more) return NOT_FAST;
    // Module values keep the general path (its error messages name the module the target must load).
    if (e.type === 'module') return NOT_FAST;
    if (this.current?.open && !this.current.ignoreChunks) return NOT_FAST;
    const caps = this.capabilities;
    if (!caps.restoreAbsTtl && e.expireAt > 0) return NOT_FAST;
    if (e.expireAt > 0 && e.expireAt <= Date.now()) return NOT_FAST;
    const dump = this.usableDump(e);
    if (!dump) return NOT_FAST;
    this.current = null;
    const db = this.mapDb(e.db, e.key);
    // Same arguments as writeKey: ABSTTL with an expiry, FREQ or IDLETIME where the target takes them (5.0+).
    const w = this.wire;
    const abs = caps.restoreAbsTtl;
    const opt = abs ? restoreOption(e.idle, e.freq) : null;
    const size = w.restore(e.key, e.expireAt, dump, abs && e.expireAt > 0, opt, optionValue(e.idle, e.freq));
    const slot = caps.cluster ? keySlot(e.key) : 0;
    const op = new WriterOp(this.handler, RESTORE_CMDS, size, caps.cluster ? -1 : db, slot, null, 'restore');
    if (w.parts !== null) op.parts = w.parts;
    else {
      op.wire = w.buf;
      op.wireAt = w.at;
    }
    return this.dispatch(op);
  }

  /**
   * The layout in which this writer sends a run's bytes as they are (see RunLayout), or null when it cannot:
   * standalone target, overwrite policy, REPLACE and ABSTTL available. The snapshot path passes it to the parser.
   */
  runLayout(): RunLayout | null {
    const caps = this.capabilities;
    return !caps.cluster && this.o.onConflict === 'overwrite' && this.replaceOk && caps.restoreAbsTtl
      ? RESTORE_RUN_LAYOUT
      : null;
  }

  /**
   * The keys of a run. On a standalone target with REPLACE (the overwrite policy):
   * - plain strings (no TTL, no LRU/LFU hint) go out as MSETs of up to RUN_OP_BYTES, their values taken out of
   *   their dumps: an MSET of hundreds of keys costs the target far less than as many RESTOREs (measured in the
   *   README), and sets the same values (a RESTORE of a string dump loads it as SET would store it);
   * - the other keys as consecutive RESTOREs, one op per RUN_OP_BYTES: as the run's own bytes when it was laid out
   *   for this writer (runLayout) and nothing came between them, else encoded from the run's offsets into the
   *   command slab; no object per key either way.
   * Keys are independent (a snapshot holds each key once), so the MSETs and RESTOREs need not keep the run's
   * order among themselves. Keys that need more (expired, not restorable here, TTL without ABSTTL, module values)
   * and every other target or policy take the per-key path, in order.
   */
  private async writeRun(run: DumpRunEntry): Promise<void> {
    const caps = this.capabilities;
    if (
      caps.cluster ||
      this.o.onConflict !== 'overwrite' ||
      !this.replaceOk ||
      (this.current?.open && !this.current.ignoreChunks)
    ) {
      // Keys as entries: their views on the run's bytes may live on in the writer, so the run is not released.
      for (let i = 0; i < run.count; i++) await this.write([runKeyEntry(run, i)]);
      return;
    }
    this.current = null;
    const db = this.mapDb(run.db);
    const abs = caps.restoreAbsTtl;
    let laidOut = run.layout !== null && run.layout === this.runLayout();
    const now = Date.now();
    const { buf, meta } = run;
    const w = this.wire;
    const m = this.mset;
    // Ops that send the run's own bytes hold it until acknowledged (encoded RESTOREs are copies; MSETs hold their slab).
    const hold = run.lease ? new RunHold(run) : null;
    let asEntries = false;
    let opBuf: Buffer | null = null;
    let opAt = 0;
    let opBytes = 0;
    let opCount = 0;
    // The open batch of RESTOREs as one op (those sent from the run's own bytes hold it).
    const sendRestores = () => {
      if (opCount === 0) return undefined;
      const count = opCount;
      opCount = 0;
      return this.dispatchRestores(opBuf as Buffer, opAt, opBytes, count, db, opBuf === buf ? hold : null);
    };
    for (let i = 0; i < run.count; i++) {
      const o = i * RUN_STRIDE;
      const dumpAt = meta[o + RUN_DUMP_AT];
      const dumpLen = meta[o + RUN_DUMP_LEN];
      const expireAt = run.expires[i];
      if (
        expireAt === 0 &&
        buf[dumpAt] === 0 &&
        meta[o + RUN_IDLE] < 0 &&
        meta[o + RUN_FREQ] < 0 &&
        !this.msetRefused
      ) {
        const valueLen = stringDumpLength(buf, dumpAt, dumpLen);
        const keyLen = meta[o + RUN_KEY_LEN];
        const size = valueLen < 0 ? RUN_OP_BYTES + 1 : msetPairSize(keyLen, valueLen);
        if (size <= RUN_OP_BYTES) {
          const p = this.msetRoom(db, size);
          if (p) await p;
          const keyAt = meta[o + RUN_KEY_AT];
          const valueAt = m.pair(buf, keyAt, keyLen, valueLen);
          try {
            writeStringDump(buf, dumpAt, dumpLen, m.slabBuf, valueAt);
          } catch (err) {
            m.discard();
            if (!(err instanceof RdbError)) throw err;
            throw new RdbError(err.code, `string value: ${err.message}`, {
              db: run.db,
              key: printableKey(buf.subarray(keyAt, keyAt + keyLen)),
            });
          }
          // The RESTOREs around it are no longer back to back in the run: they are encoded from here on.
          laidOut = false;
          continue;
        }
      }
      if (!((expireAt === 0 || (abs && expireAt > now)) && this.runRestorable(run, dumpAt, dumpLen))) {
        const p = sendRestores();
        if (p) await p;
        asEntries = true;
        await this.write([runKeyEntry(run, i)]);
        continue;
      }
      let cmdBuf: Buffer;
      let cmdAt: number;
      let size: number;
      if (laidOut) {
        cmdBuf = buf;
        cmdAt = meta[o + RUN_CMD_AT];
        size = meta[o + RUN_CMD_LEN];
      } else {
        const freq = meta[o + RUN_FREQ];
        const idle = meta[o + RUN_IDLE];
        const opt = abs ? restoreOption(idle, freq) : null;
        const keyAt = meta[o + RUN_KEY_AT];
        const keyLen = meta[o + RUN_KEY_LEN];
        const ttlAbs = abs && expireAt > 0;
        size = w.restoreAt(
          buf,
          keyAt,
          keyLen,
          buf,
          dumpAt,
          dumpLen,
          expireAt,
          ttlAbs,
          opt,
          optionValue(idle, freq),
        );
        cmdBuf = w.buf;
        cmdAt = w.at;
      }
      if (opCount > 0 && (cmdBuf !== opBuf || cmdAt !== opAt + opBytes || opBytes + size > RUN_OP_BYTES)) {
        const p = sendRestores();
        if (p) await p;
      }
      if (opCount === 0) {
        opBuf = cmdBuf;
        opAt = cmdAt;
        opBytes = 0;
      }
      opBytes += size;
      opCount++;
    }
    const p = sendRestores();
    if (p) await p;
    const sent = this.flushMset();
    if (sent) await sent;
    if (!asEntries) hold?.done();
  }

  /**
   * A target that refuses MSET (an ACL without it, rename-command): the MSET's keys are sent again one command each,
   * RESTOREs of string dumps made from its pairs (SETs where RESTORE is refused too), and no MSET is built from now
   * on. (Other MSETs already sent come back the same way; the keys are independent, so their order
   * does not matter.)
   */
  private msetAsSingles(op: WOp): undefined {
    this.msetRefused = true;
    this.release(op);
    const ver = this.capabilities.rdbVersion;
    const restore = this.capabilities.restore;
    const cmds: Argv[] = msetPairsOf(op.wire as Buffer, op.wireAt).map(([key, value]) =>
      restore ? ['RESTORE', key, '0', stringDumpOf(value, ver), 'REPLACE'] : ['SET', key, value],
    );
    const wire = encodeCommands(cmds);
    op.hold?.done();
    op.hold = null;
    // Counted per command on acknowledgement like a run's RESTOREs (kind 'restore'), named by their first key.
    const next = new WriterOp(
      this.handler,
      cmds.map(() => (restore ? RESTORE_ARGV : SET_ARGV)),
      wire.length,
      op.db,
      op.slot,
      null,
      'restore',
    );
    next.wire = wire;
    if (!restore) next.label = 'SET';
    this.reserve(next);
    this.route(next);
    return undefined;
  }

  /**
   * Sends the open MSET (of a run's strings or of decoded ones, all of db `msetDb`), if any, as one op; its reply
   * acknowledges all its keys.
   */
  private flushMset(): Promise<void> | undefined {
    const m = this.mset;
    const keys = m.count;
    if (keys === 0) return undefined;
    const slab = m.close();
    const op = new WriterOp(this.handler, MSET_CMDS, m.size, this.msetDb, 0, null, 'mset');
    op.wire = m.buf;
    op.wireAt = m.at;
    op.hold = slab;
    op.items = keys;
    op.label = keys === 1 ? 'MSET' : `MSET of ${keys} keys (the first named)`;
    return this.dispatch(op);
  }

  /** Can this target RESTORE the dump at `buf[at, at+len)` of a run (same checks as usableDump)? */
  private runRestorable(run: DumpRunEntry, at: number, len: number): boolean {
    const b = run.buf;
    const t = b[at];
    if (run.types[t] === 'module') return false;
    const ver = b[at + len - 10] | (b[at + len - 9] << 8);
    if (ver > this.capabilities.rdbVersion) return false;
    return this.capabilities.dumpable(t, ver >= 80 ? 'valkey' : 'redis');
  }

  /** One op for `count` RESTOREs encoded back to back at `buf[at, at+bytes)`. */
  private dispatchRestores(
    buf: Buffer,
    at: number,
    bytes: number,
    count: number,
    db: number,
    hold: RunHold | null,
  ) {
    const cmds = count === 1 ? RESTORE_CMDS : new Array<Argv>(count).fill(RESTORE_ARGV);
    const op = new WriterOp(this.handler, cmds, bytes, db, 0, null, 'restore');
    op.wire = buf;
    op.wireAt = at;
    op.hold = hold?.add() ?? null;
    return this.dispatch(op);
  }

  private async writeKey(e: KeyEntry): Promise<void> {
    if (this.current?.open && !this.current.ignoreChunks) {
      throw this.fail(
        new TargetError('TARGET_ERR_SEQUENCE', 'a key started before the previous big key ended', {
          db: e.db,
          key: printableKey(this.current.key),
        }),
      );
    }
    this.current = null;
    if (e.value === null && e.dump !== null && e.type !== 'module' && this.usableDump(e) === null) {
      // A dump this target cannot restore (an encoding newer than it knows, RESTORE refused), as SCAN + DUMP
      // copies give: decoded from the dump, then rewritten into commands like a file's keys.
      await this.write(decodeDump(e.key, e.dump, e.db, e.expireAt));
      return;
    }
    const db = this.mapDb(e.db, e.key);
    const unit = this.newUnit(e, db);
    const now = Date.now();
    if (e.expireAt > 0 && e.expireAt <= now) {
      this.counters.keysExpired++;
      this.skipUnit(unit, e.more);
      return;
    }
    const dump = this.usableDump(e);
    if (dump) {
      unit.ignoreChunks = true;
      const caps = this.capabilities;
      let ttl = e.expireAt;
      if (e.expireAt > 0 && !caps.restoreAbsTtl) ttl = Math.max(1, e.expireAt - now);
      const argv: (Buffer | string)[] = ['RESTORE', e.key, String(ttl), dump];
      const policy = this.o.onConflict;
      const replaceOk = this.replaceOk;
      if (policy === 'overwrite') {
        if (replaceOk) argv.push('REPLACE');
        else await this.dispatch(this.keyOp(unit, { argv: ['DEL', e.key], kind: 'first', items: 0 }));
      }
      if (caps.restoreAbsTtl) {
        if (e.expireAt > 0) argv.push('ABSTTL');
        if (e.freq >= 0) argv.push('FREQ', String(e.freq));
        else if (e.idle >= 0) argv.push('IDLETIME', String(e.idle));
      }
      const op = this.keyOp(unit, { argv, kind: 'first', items: 0 });
      op.kind = 'restore';
      if (e.type === 'module') {
        const name = e.value?.type === 'module' ? ` "${e.value.moduleId}"` : '';
        op.label = `RESTORE of a module${name} value (the target needs the same module loaded)`;
      }
      op.busy = policy === 'overwrite' ? null : policy;
      if (policy === 'overwrite' && !replaceOk) op.busy = 'skip';
      await this.dispatch(op);
      this.closeUnit(unit);
      this.current = e.more ? unit : null;
      return;
    }
    if (!e.value) {
      throw this.fail(
        new TargetError(
          'TARGET_ERR_UNSUPPORTED',
          `no decoded value and the dump (type ${e.dump ? e.dump[0] : 'none'}) cannot be restored on ${this.capabilities.version}`,
          { db: e.db, key: printableKey(e.key) },
        ),
      );
    }
    if (this.o.onConflict !== 'overwrite') {
      const exists = await this.exists(unit);
      if (exists) {
        if (this.o.onConflict === 'fail') throw this.fail(this.busyKey(unit));
        this.counters.keysSkipped++;
        this.skipUnit(unit, e.more);
        return;
      }
    }
    unit.rewriter = new KeyRewriter(e.key, e.type, this.features, this.o.bigValueChunkBytes);
    try {
      for (const c of unit.rewriter.begin()) await this.dispatch(this.keyOp(unit, c));
      for (const c of unit.rewriter.piece(e.value)) await this.dispatch(this.keyOp(unit, c));
      if (!e.more) {
        for (const c of unit.rewriter.end(e.expireAt)) await this.dispatch(this.keyOp(unit, c));
        this.closeUnit(unit);
      } else {
        this.current = unit;
      }
    } catch (err) {
      throw err instanceof TargetError ? this.fail(err) : err;
    }
  }

  private async writeChunk(e: ChunkEntry): Promise<void> {
    const unit = this.current;
    if (!unit || unit.srcDb !== e.db || !unit.key.equals(e.key)) {
      throw this.fail(
        new TargetError('TARGET_ERR_SEQUENCE', 'a chunk without its key entry', {
          db: e.db,
          key: printableKey(e.key),
        }),
      );
    }
    if (!e.more) this.current = null;
    if (unit.ignoreChunks) return;
    try {
      for (const c of (unit.rewriter as KeyRewriter).piece(e.value)) await this.dispatch(this.keyOp(unit, c));
      if (!e.more) {
        for (const c of (unit.rewriter as KeyRewriter).end(unit.expireAt)) {
          await this.dispatch(this.keyOp(unit, c));
        }
        this.closeUnit(unit);
      }
    } catch (err) {
      throw err instanceof TargetError ? this.fail(err) : err;
    }
  }

  private skipUnit(unit: Unit, more: boolean): void {
    unit.ignoreChunks = true;
    unit.skipped = true;
    unit.open = false;
    unit.counted = true;
    this.current = more ? unit : null;
  }

  private closeUnit(unit: Unit): void {
    unit.open = false;
    this.maybeCountKey(unit);
  }

  private maybeCountKey(unit: Unit): void {
    if (unit.open || unit.pending > 0 || unit.counted) return;
    unit.counted = true;
    if (!unit.skipped) this.counters.keys++;
  }

  private busyKey(unit: Unit): TargetError {
    return new TargetError('TARGET_ERR_BUSYKEY', 'key already exists on the target (onConflict=fail)', {
      db: unit.db,
      key: printableKey(unit.key),
      node: this.router.addrOf(unit.slot),
    });
  }

  private async exists(unit: Unit): Promise<boolean> {
    const op = this.op([['EXISTS', unit.key]], unit.slot, null, 'control');
    op.db = unit.db;
    const reply = await this.request(op);
    if (reply instanceof RespError) throw this.fail(replyError(reply, this.whereOf(op), 'EXISTS'));
    return reply === 1;
  }

  /** Sends a control op through the normal path (routing, redirects, recovery) and resolves with its reply. */
  private request(op: WOp): Promise<RespValue> {
    return new Promise((resolve) => {
      op.onReply = resolve;
      void this.dispatch(op);
    });
  }

  // ---- command streams ----

  private async addCommand(e: CommandEntry): Promise<void> {
    if (e.argv.length === 0) return;
    const name = lowerWord(e.argv[0]);
    if (name === 'select') return; // the entry's db says where it applies
    if (name === 'multi') {
      this.srcTx = [];
      return;
    }
    if (name === 'exec') {
      if (this.srcTx?.length) this.addGroup(this.srcTx);
      this.srcTx = null;
    } else if (name === 'discard') {
      this.srcTx = null;
    } else if (this.srcTx) {
      this.srcTx.push(e);
      return;
    } else this.addGroup([e]);
    if (
      this.cmdGroupBytes >= this.o.bigValueChunkBytes ||
      this.cmdGroupCount >= Math.max(1, this.o.maxInflightCommands >> 1)
    ) {
      await this.sendCommands();
    }
  }

  private addGroup(g: CommandEntry[]): void {
    this.cmdGroups.push(g);
    for (const c of g) {
      this.cmdGroupBytes += commandSize(c.argv);
      this.cmdGroupCount++;
    }
  }

  /** Sends the collected command groups: one MULTI/EXEC per db run (standalone) or per slot (cluster). */
  private async sendCommands(): Promise<void> {
    const groups = this.cmdGroups;
    this.cmdGroups = [];
    this.cmdGroupBytes = 0;
    this.cmdGroupCount = 0;
    if (!this.capabilities.cluster) {
      let run: Argv[] = [];
      let runDb = -1;
      for (const g of groups) {
        for (const c of g) {
          const db = this.mapDb(c.db);
          if (db !== runDb && run.length) {
            await this.sendTx(run, runDb, 0);
            run = [];
          }
          runDb = db;
          run.push(c.argv);
        }
      }
      if (run.length) await this.sendTx(run, runDb, 0);
      return;
    }
    const bySlot = new Map<number, Argv[]>();
    for (const g of groups) {
      for (const c of g) {
        this.mapDb(c.db);
        const parts = await this.slotsOf(c.argv);
        if (parts === 'broadcast') {
          await this.broadcast(c.argv, lowerWord(c.argv[0]));
          continue;
        }
        for (const p of parts) {
          const list = bySlot.get(p.slot);
          if (list) list.push(p.argv);
          else bySlot.set(p.slot, [p.argv]);
        }
      }
    }
    for (const [slot, cmds] of bySlot) await this.sendTx(cmds, 0, slot);
  }

  private async sendTx(cmds: Argv[], db: number, slot: number): Promise<void> {
    const wrapped = cmds.length > 1 ? [['MULTI'], ...cmds, ['EXEC']] : cmds;
    const op = this.op(wrapped, slot, null, 'tx');
    op.db = this.capabilities.cluster ? -1 : db;
    await this.dispatch(op);
  }

  /** Slot(s) of a stream command; multi-key commands split per slot where each key is independent. */
  private async slotsOf(argv: Argv): Promise<{ slot: number; argv: Argv }[] | 'broadcast'> {
    const name = lowerWord(argv[0]);
    if (BROADCAST.has(name)) return 'broadcast';
    let spec = this.commandTable?.get(name);
    if (spec && spec.first === 0 && argv.length > 1)
      spec = this.commandTable?.get(`${name}|${lowerWord(argv[1])}`) ?? spec;
    let keys: { index: number; key: Buffer }[] = [];
    if (!spec || spec.movable) {
      const reply = await this.control.call(['COMMAND', 'GETKEYS', ...argv]);
      if (Array.isArray(reply)) {
        keys = reply.filter(Buffer.isBuffer).map((k) => ({ index: argv.indexOf(k), key: k as Buffer }));
      }
    } else if (spec.first > 0) {
      const last = spec.last < 0 ? argv.length + spec.last : spec.last;
      for (let i = spec.first; i <= last && i < argv.length; i += spec.step || 1) {
        const k = argv[i];
        keys.push({ index: i, key: typeof k === 'string' ? Buffer.from(k) : k });
      }
    }
    if (keys.length === 0) return [{ slot: 0, argv }];
    const slots = keys.map((k) => keySlot(k.key));
    if (slots.every((s) => s === slots[0])) return [{ slot: slots[0], argv }];
    if (SPLIT_STEP1.has(name) || name === 'mset') {
      const per = name === 'mset' ? 2 : 1;
      const bySlot = new Map<number, Argv[number][]>();
      for (let i = 1; i + per - 1 < argv.length; i += per) {
        const k = argv[i];
        const s = keySlot(typeof k === 'string' ? Buffer.from(k) : k);
        const list = bySlot.get(s) ?? [];
        for (let j = 0; j < per; j++) list.push(argv[i + j]);
        bySlot.set(s, list);
      }
      return [...bySlot].map(([slot, args]) => ({ slot, argv: [argv[0], ...args] }));
    }
    throw this.fail(
      new TargetError('TARGET_ERR_CROSSSLOT', `${name.toUpperCase()} touches keys in different slots`, {
        key: printableKey(keys[0].key),
      }),
    );
  }

  private async broadcast(argv: Argv, label: string): Promise<void> {
    for (const addr of this.router.masters()) {
      const op = this.op([argv], -1, addr, 'broadcast');
      op.label = label;
      await this.dispatch(op);
    }
  }

  // ---- ops and dispatch ----

  private op(cmds: Argv[], slot: number, node: string | null, kind: OpKind, db?: number): WOp {
    let bytes = 0;
    for (let i = 0; i < cmds.length; i++) bytes += commandSize(cmds[i]);
    return new WriterOp(this.handler, cmds, bytes, this.opDb(db ?? 0), slot, node, kind);
  }

  /** An op's db: none on a cluster (db 0 only, no SELECT). */
  private opDb(db: number): number {
    return this.capabilities.cluster ? -1 : db;
  }

  private keyOp(
    unit: Unit,
    c: { argv: Argv; kind: CommandKind; items: number; id?: StreamId; group?: Buffer },
  ): WOp {
    // Encoded now into the command slab, and the op keeps only the command's name (for messages; cmds also counts
    // replies): in flight it holds bytes, not the argv's Buffer views. A piece of a big collection of small members
    // is tens of thousands of views, and 16 MiB of them in flight held over 200 MB of JS heap.
    const w = this.wire;
    const size = w.encode(c.argv);
    const op = new WriterOp(this.handler, [[c.argv[0]]], size, this.opDb(unit.db), unit.slot, null, c.kind);
    op.wire = w.buf;
    op.wireAt = w.at;
    op.unit = unit;
    op.items = c.items;
    op.id = c.id;
    op.group = c.group;
    return op;
  }

  private room(op: WOp): boolean {
    if (this.gates.length && !this.gates.every((g) => g.open())) return false;
    if (this.recoveries.size) return false;
    if (op.kind === 'tx' && this.txBusy.has(this.addrFor(op))) return false;
    if (op.kind === 'control') return true;
    const c = this.counters;
    if (c.inflightCommands > 0 && c.inflightCommands + op.cmds.length > this.o.maxInflightCommands)
      return false;
    if (c.inflightBytes > 0 && c.inflightBytes + op.bytes > this.o.maxInflightBytes) return false;
    return true;
  }

  /** Admits an op under the bounds (waiting for replies / recoveries), then routes it. */
  private dispatch(op: WOp): Promise<void> | undefined {
    // Fast path without a promise: callers `await` the result, which costs nothing more when it is undefined.
    if (!this.room(op)) return this.dispatchLater(op);
    this.admit(op);
    return undefined;
  }

  private async dispatchLater(op: WOp): Promise<void> {
    while (!this.room(op)) {
      this.check();
      await this.waitChange();
    }
    this.admit(op);
  }

  private admit(op: WOp): void {
    this.check();
    this.reserve(op);
    if (op.unit) op.unit.pending++;
    if (op.kind === 'tx') {
      op.txAddr = this.addrFor(op);
      this.txBusy.add(op.txAddr);
    }
    this.route(op);
  }

  private reserve(op: WOp): void {
    const c = this.counters;
    op.reserved = true;
    c.inflightBytes += op.bytes;
    c.inflightCommands += op.cmds.length;
    if (c.inflightBytes > c.maxInflightBytesSeen) c.maxInflightBytesSeen = c.inflightBytes;
    if (c.inflightCommands > c.maxInflightCommandsSeen) c.maxInflightCommandsSeen = c.inflightCommands;
  }

  private release(op: WOp): void {
    if (!op.reserved) return;
    op.reserved = false;
    this.counters.inflightBytes -= op.bytes;
    this.counters.inflightCommands -= op.cmds.length;
    if (op.txAddr) this.txBusy.delete(op.txAddr);
  }

  private addrFor(op: WOp): string {
    return op.node ?? this.router.addrOf(op.slot);
  }

  /** Sends an op to its node, opening the connection first when needed (order per node is kept). */
  private route(op: WOp): void {
    const addr = this.addrFor(op);
    const waiting = this.opening.size ? this.opening.get(addr) : undefined;
    if (waiting) {
      waiting.push(op);
      return;
    }
    const conn = this.router.connOf(addr);
    if (conn) {
      conn.send(op);
      return;
    }
    const queue = [op];
    this.opening.set(addr, queue);
    this.router.open(addr).then(
      (c) => {
        this.opening.delete(addr);
        for (const q of queue) c.send(q);
      },
      (err) => {
        this.opening.delete(addr);
        this.fail(
          err instanceof TargetError
            ? err
            : new TargetError('TARGET_ERR_CONNECT', String(err), { node: addr }),
        );
      },
    );
  }

  /** Takes over the events of a (new) connection. */
  private adopt(conn: NodeConnection): void {
    conn.onLost = (c, ops, cause) => this.onLost(c, ops, cause);
  }

  private wake(): void {
    const prev = this.changed;
    if (!prev) return;
    this.changed = null;
    prev.resolve();
  }

  private waitChange(): Promise<void> {
    if (!this.changed) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.changed = { promise, resolve };
    }
    return this.changed.promise;
  }

  /** Records the first failure; later writes and flush reject with it. */
  private fail(err: TargetError): TargetError {
    if (!this.failure) this.failure = err;
    this.wake();
    return err;
  }

  private check(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new TargetError('TARGET_ERR_CLOSED', 'writer is closed');
  }

  private whereOf(op: WOp, node?: string): { node: string; db?: number; key?: string } {
    const key = op.unit ? op.unit.key : op.key();
    return {
      node: node ?? this.addrFor(op),
      db: op.unit ? op.unit.db : key ? Math.max(op.db, 0) : undefined,
      key: key ? printableKey(key) : undefined,
    };
  }

  // ---- replies ----

  private onReplies(op: WOp, replies: RespValue[], conn: NodeConnection): undefined | 'lost' {
    if (op.onReply) {
      // Control request: redirects and retriable errors are handled like any op; other replies go to the caller.
      const r = replies[replies.length - 1];
      if (r instanceof RespError && (parseRedirect(r) || RETRIABLE.has(r.code)))
        return this.onError(op, r, conn) ?? undefined;
      this.release(op);
      this.counters.acked += op.cmds.length;
      op.onReply(r);
      this.wake();
      return undefined;
    }
    const err = firstError(op, replies);
    if (err) {
      if (op.kind === 'mset' && refusesCommand(err)) return this.msetAsSingles(op);
      if (op.kind === 'restore' && replies.length > 1) op.failedCmd = replies.indexOf(err);
      const handled = this.onError(op, err, conn);
      if (handled !== null) return handled;
      // BUSYKEY on a RESTORE without REPLACE.
      if (op.resent) return this.ok(op);
      if (op.busy === 'skip') {
        if (op.unit) op.unit.skipped = true;
        this.counters.keysSkipped++;
        return this.ok(op);
      }
      this.release(op);
      this.fail(
        op.unit ? this.busyKey(op.unit) : replyError(err, this.whereOf(op, conn.addr), op.label || 'RESTORE'),
      );
      return undefined;
    }
    return this.ok(op);
  }

  /**
   * Handles an error reply: redirects and retriable errors (returns what the connection should do), fatal errors
   * (fails the writer). Returns null only for BUSYKEY on a RESTORE, which the caller resolves by policy.
   */
  private onError(op: WOp, err: RespError, conn: NodeConnection): undefined | 'lost' | null {
    const redirect = parseRedirect(err);
    if (redirect) {
      if (++op.attempts > this.o.maxRetries * 2) {
        this.release(op);
        this.fail(
          new TargetError('TARGET_ERR_RETRIES', `too many redirects: ${err.message}`, this.whereOf(op)),
        );
        return undefined;
      }
      this.counters.retries++;
      if (!redirect.ask) this.router.moved(redirect.slot, redirect.addr);
      // New ops wait until this node has answered everything sent before, so a key's commands stay in order.
      this.gates.push({ open: () => conn.pending === 0 || !conn.connected });
      op.asking = redirect.ask;
      const resend = () => {
        if (this.failure || this.closed) return;
        op.node = redirect.ask ? redirect.addr : null;
        this.route(op);
        op.node = null;
      };
      // Redirects bouncing between nodes mean the slot's new owner is still spreading through the cluster:
      // back off (the op stays counted in flight, so flush() waits for it) instead of spending every retry at once.
      if (op.attempts > 2) setTimeout(resend, Math.min(1000, 10 * 2 ** (op.attempts - 3)));
      else resend();
      return undefined;
    }
    if (RETRIABLE.has(err.code)) {
      if (++op.attempts > this.o.maxRetries) {
        this.release(op);
        this.fail(
          new TargetError('TARGET_ERR_RETRIES', `target kept answering ${err.code}`, {
            ...this.whereOf(op, conn.addr),
            reply: err.code,
          }),
        );
        return undefined;
      }
      this.counters.retries++;
      return 'lost';
    }
    if (err.code === 'BUSYKEY' && op.kind === 'restore') return null;
    this.release(op);
    if (op.unit) op.unit.pending--;
    this.fail(replyError(err, this.whereOf(op, conn.addr), op.label || commandName(op)));
    return undefined;
  }

  private ok(op: WOp): undefined {
    this.release(op);
    if (op.hold !== null) {
      op.hold.done();
      op.hold = null;
    }
    this.counters.acked += op.cmds.length;
    const u = op.unit;
    if (u) {
      u.pending--;
      if (op.kind === 'first' || op.kind === 'restore') u.firstAcked = true;
      else if (op.kind === 'rpush') u.listAcked += op.items;
      this.maybeCountKey(u);
    } else if (op.kind === 'restore') this.counters.keys += op.cmds.length;
    else if (op.kind === 'mset') this.counters.keys += op.items;
    if (this.gates.length) this.gates = this.gates.filter((g) => !g.open());
    this.wake();
    return undefined;
  }

  // ---- recovery ----

  private onLost(conn: NodeConnection, ops: Op[], cause: Error): void {
    const job = this.recover(conn, ops, cause).catch((err) => {
      for (const op of ops) if (isWOp(op)) this.release(op);
      this.fail(
        err instanceof TargetError
          ? err
          : new TargetError(
              'TARGET_ERR_CONNECT',
              `recovery failed: ${String(err)}`,
              { node: conn.addr },
              { cause: err },
            ),
      );
    });
    this.recoveries.add(job);
    void job.finally(() => {
      this.recoveries.delete(job);
      this.wake();
    });
  }

  /**
   * Reconnects and resends the unacknowledged ops in their order. What makes a resend safe:
   * - a key whose first op (RESTORE … REPLACE, DEL, SET) is among them is rewritten from that op: it resets the key;
   * - otherwise its idempotent ops (SETRANGE at an offset, SADD/ZADD/HSET, XSETID, XCLAIM, PEXPIREAT) are resent as
   *   is; RPUSH resumes from LLEN (ops are applied in order, so LLEN − acknowledged elements covers a prefix of the
   *   lost RPUSHes); XADD skips ids ≤ the stream's last id; XGROUP CREATE is preceded by XGROUP DESTROY;
   * - a command-stream batch is one MULTI/EXEC and only one is in flight per node: it is resent when its EXEC reply
   *   was not received. Residual window: EXEC executed but the connection died before its reply arrived — that
   *   one batch is applied twice (at-least-once for one batch; the same holds for a lone command).
   * - retriable error replies (LOADING, TRYAGAIN, CLUSTERDOWN…) drop the connection and come here too. Residual
   *   window: if the node left that state between two pipelined commands of the same key, a later command may have
   *   been applied before the failed one; RPUSH resumption then reports TARGET_ERR_RECOVERY when the counts do not
   *   line up instead of guessing.
   */
  private async recover(conn: NodeConnection, lost: Op[], cause: Error): Promise<void> {
    const ops = lost.filter(isWOp);
    const attempts = ops.reduce((n, op) => Math.max(n, op.attempts), 0);
    if (attempts > 0) await sleep(Math.min(50 * 2 ** attempts, 2000));
    for (let attempt = 0; ; attempt++) {
      try {
        await conn.reconnect();
        break;
      } catch (err) {
        if (err instanceof TargetError && err.code !== 'TARGET_ERR_CONNECT') throw err;
        if (attempt + 1 >= this.o.maxRetries) {
          throw new TargetError(
            'TARGET_ERR_CONNECT',
            `connection lost (${cause.message}) and ${attempt + 1} reconnects failed`,
            { node: conn.addr },
            { cause: err },
          );
        }
        await sleep(Math.min(100 * 2 ** attempt, 2000));
      }
    }
    const byUnit = new Map<Unit, WOp[]>();
    for (const op of ops) {
      if (!op.unit) continue;
      const list = byUnit.get(op.unit);
      if (list) list.push(op);
      else byUnit.set(op.unit, [op]);
    }
    const applied = new Set<WOp>();
    const destroyBefore = new Set<WOp>();
    for (const [unit, uops] of byUnit) {
      if (!unit.firstAcked && uops.some((o) => o.kind === 'first' || o.kind === 'restore')) continue;
      const rpush = uops.filter((o) => o.kind === 'rpush');
      if (rpush.length) {
        const len = await conn.call(['LLEN', unit.key], unit.db);
        if (typeof len !== 'number') throw this.recoveryError(unit, `LLEN answered ${String(len)}`);
        let extra = len - unit.listAcked;
        for (const o of rpush) {
          if (extra <= 0) break;
          if (extra < o.items) throw this.recoveryError(unit, 'list length is not at a command boundary');
          extra -= o.items;
          applied.add(o);
        }
        if (extra !== 0) throw this.recoveryError(unit, 'list is longer than everything sent');
      }
      const xadd = uops.filter((o) => o.kind === 'xadd');
      if (xadd.length) {
        const info = await conn.call(['XINFO', 'STREAM', unit.key], unit.db);
        const last = Array.isArray(info) ? lastGeneratedId(info) : null;
        if (last) for (const o of xadd) if (o.id && compareId(o.id, last) <= 0) applied.add(o);
      }
      for (const o of uops) if (o.kind === 'xgroup-create') destroyBefore.add(o);
    }
    for (const op of lost) {
      if (!isWOp(op)) {
        conn.send(op); // a plain control call of this connection
        continue;
      }
      this.counters.retries++;
      if (applied.has(op)) {
        this.ok(op);
        continue;
      }
      if (destroyBefore.has(op) && op.unit && op.group) {
        const d = this.op([['XGROUP', 'DESTROY', op.unit.key, op.group]], op.slot, null, 'control');
        d.db = op.db;
        d.onReply = () => {};
        this.reserve(d);
        this.route(d);
      }
      op.resent = true;
      op.asking = false;
      this.route(op);
    }
  }

  private recoveryError(unit: Unit, why: string): TargetError {
    return new TargetError('TARGET_ERR_RECOVERY', `cannot resume key after reconnect: ${why}`, {
      db: unit.db,
      key: printableKey(unit.key),
      node: this.router.addrOf(unit.slot),
    });
  }
}

function firstError(op: WOp, replies: RespValue[]): RespError | null {
  if (op.kind === 'tx' && op.cmds.length > 1) {
    const exec = replies[replies.length - 1];
    if (exec instanceof RespError) {
      // EXECABORT: a command was rejected while queueing; that rejection says why (MOVED, OOM…).
      for (const r of replies) if (r instanceof RespError && r.code !== 'EXECABORT') return r;
      return exec;
    }
    if (Array.isArray(exec)) for (const r of exec) if (r instanceof RespError) return r;
    return null;
  }
  for (const r of replies) if (r instanceof RespError) return r;
  return null;
}

function replyError(
  err: RespError,
  where: Record<string, string | number | undefined>,
  what: string,
): TargetError {
  const code: TargetErrorCode =
    err.code === 'OOM'
      ? 'TARGET_ERR_OOM'
      : err.code === 'NOAUTH' || err.code === 'WRONGPASS'
        ? 'TARGET_ERR_AUTH'
        : err.code === 'NOPERM'
          ? 'TARGET_ERR_NOPERM'
          : 'TARGET_ERR_REPLY';
  return new TargetError(code, `${what} failed: ${err.message}`, { ...where, reply: err.code });
}

/**
 * Whether the target runs RESTORE at all. Asked with a payload too short to be valid, which no target acts on:
 * a target that runs RESTORE answers about the payload (or the key: BUSYKEY, MOVED, a key ACL), one that does not
 * refuses the command itself.
 */
async function restoreAllowed(conn: NodeConnection): Promise<boolean> {
  const reply = await conn.call(['RESTORE', 'dcs-migrate:restore-probe', '0', '-']);
  return !(reply instanceof RespError && refusesCommand(reply));
}

/** An error meaning the target will not run this command at all (ACL, rename-command), whatever its arguments. */
function refusesCommand(err: RespError): boolean {
  return (
    (err.code === 'NOPERM' && /\bcommand\b/i.test(err.message)) ||
    (err.code === 'ERR' && /^ERR unknown command/i.test(err.message))
  );
}

function commandName(op: WOp): string {
  const c = op.kind === 'tx' && op.cmds.length > 1 ? op.cmds[1] : op.cmds[0];
  return lowerWord(c[0]).toUpperCase();
}

function lastGeneratedId(info: RespValue[]): StreamId | null {
  for (let i = 0; i + 1 < info.length; i += 2) {
    if (asciiText(info[i]) === 'last-generated-id') {
      const v = info[i + 1];
      return Buffer.isBuffer(v) || typeof v === 'string' ? parseId(v) : null;
    }
  }
  return null;
}

function atLeast(version: string, maj: number, min: number): boolean {
  const v = version.split('.').map(Number);
  return v[0] > maj || (v[0] === maj && v[1] >= min);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
