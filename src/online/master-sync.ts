/**
 * One replication stream from one source master into the target: full sync (the RDB streamed through the decoder
 * into the writer as it arrives), then the live command stream, until stopped. After a dropped connection it
 * reconnects with `PSYNC <replid> <offset+1>` from the last position the target acknowledged; when the source can
 * no longer continue from there it runs a new full sync (resume_mode auto) or fails (manual).
 *
 * Positions: `point` is what the target has acknowledged (the writer was flushed after it), the only thing ever
 * checkpointed or reported to the source in `REPLCONF ACK`. Each connection gets its own writer; on a loss the old
 * one is drained first, so the next connection continues exactly after what was applied.
 */
import type { CommandEntry } from '../entry.ts';
import { importRdb } from '../pipeline/index.ts';
import {
  ABORTED,
  CommandStream,
  type MasterLink,
  openMasterLink,
  RdbTransfer,
  ReplicationError,
  type SourceOptions,
  type StreamPoint,
  TIMEOUT,
  type TokenBucket,
} from '../replication/index.ts';
import type { LogLevel } from '../runner/index.ts';
import {
  encodeCommand,
  infoField,
  NO_RESTORE_NOTE,
  type TargetOptions,
  TargetWriter,
} from '../target/index.ts';
import { type Credentials, controlClient } from './control.ts';
import { KeyspaceFollower } from './keyspace-follow.ts';
import { scanCopy } from './scan-copy.ts';

export interface MasterCheckpoint {
  replid: string;
  /** Offset (source numbering) of the last byte applied to the target. */
  offset: number;
  /** Db selected at that point of the stream (a continued stream need not repeat SELECT). */
  db: number;
  /**
   * The target held no keys when this full sync started and this is the only master: everything on the target
   * came from this stream, so a new full sync (backlog lost) flushes it first and keys deleted on the source
   * meanwhile do not survive.
   */
  targetEmpty?: boolean;
}

export interface MasterSyncOptions {
  source: SourceOptions;
  target: TargetOptions;
  /** `full`: stop after the full sync; `incremental`: follow the live stream until stopped. */
  mode: 'full' | 'incremental';
  resumeMode: 'auto' | 'manual';
  bucket: TokenBucket | null;
  signal: AbortSignal;
  /** Where a previous run stopped (incremental only). */
  checkpoint: MasterCheckpoint | null;
  /** This is the source's only master (not one stream of several into the same target). */
  soleMaster: boolean;
  ackIntervalMs?: number;
  /** Silence after which the link counts as lost (the source PINGs every repl-ping-replica-period, 10 s). */
  idleTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Consecutive time the source may stay unreachable before the task fails. */
  giveUpAfterMs?: number;
}

export const MASTER_SYNC_DEFAULTS = {
  ackIntervalMs: 1000,
  idleTimeoutMs: 60_000,
  reconnectMinMs: 100,
  reconnectMaxMs: 5000,
  giveUpAfterMs: 5 * 60_000,
} as const;

export interface MasterSyncHooks {
  log(level: LogLevel, code: string, message: string): Promise<void>;
  /** The acknowledged position moved; persist it. */
  checkpoint(node: string, cp: MasterCheckpoint): Promise<void>;
  /** A full sync replaces a continuation the source refused (resume_mode auto). */
  resync(node: string): Promise<void>;
  /** A full sync finished and the target acknowledged all of it. */
  fullSyncDone(node: string): Promise<void>;
  /** The command stream is being applied (after a full sync or a `+CONTINUE`). */
  streaming(node: string): Promise<void>;
}

export interface RdbProgress {
  bytes: number;
  totalBytes: number | null;
  keys: number;
  diskless: boolean;
}

export type MasterPhase = 'connecting' | 'full' | 'stream' | 'done';

interface WriterTotals {
  bytes: number;
  acked: number;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class MasterSync {
  readonly node: string;
  phase: MasterPhase = 'connecting';
  /** Acknowledged position (null until a full sync completed). */
  point: MasterCheckpoint | null;
  rdb: RdbProgress | null = null;
  fullSyncs = 0;
  partialResyncs = 0;
  reconnects = 0;
  private writer: TargetWriter | null = null;
  private follower: KeyspaceFollower | null = null;
  private readonly closed: WriterTotals = { bytes: 0, acked: 0 };
  private readonly o: Required<Omit<MasterSyncOptions, 'checkpoint'>>;

  constructor(
    opts: MasterSyncOptions,
    private readonly hooks: MasterSyncHooks,
  ) {
    this.node = `${opts.source.host}:${opts.source.port}`;
    this.point = opts.mode === 'incremental' ? opts.checkpoint : null;
    this.o = { ...MASTER_SYNC_DEFAULTS, ...opts };
  }

  /** Bytes written to and commands acknowledged by the target over all connections. */
  totals(): WriterTotals {
    const s = this.writer?.status();
    return { bytes: this.closed.bytes + (s?.bytes ?? 0), acked: this.closed.acked + (s?.acked ?? 0) };
  }

  /** Resolves when done (full mode), or stopped and drained; throws on a failure that reconnecting cannot fix. */
  async run(): Promise<void> {
    const { signal } = this.o;
    let delay = this.o.reconnectMinMs;
    let failingSince = 0;
    let connectedOnce = false;
    try {
      for (;;) {
        if (signal.aborted) return;
        let link: MasterLink | null = null;
        try {
          this.phase = 'connecting';
          link = await openMasterLink(
            this.o.source,
            this.point?.replid ? { replid: this.point.replid, offset: this.point.offset } : null,
            { bucket: this.o.bucket, signal },
          );
          connectedOnce = true;
          const writer = await this.openWriter();
          if (link.reply.kind === 'full') {
            if (!(await this.fullSync(link, link.reply, writer))) return;
            if (this.o.mode === 'full') return;
          } else {
            const point = this.point as MasterCheckpoint;
            if (link.reply.replid) point.replid = link.reply.replid;
            this.partialResyncs++;
            await this.hooks.log(
              'INFO',
              'PSYNC_CONTINUE',
              `${this.node}: partial resync accepted (+CONTINUE) at offset ${point.offset + 1}; no full sync needed.`,
            );
          }
          failingSince = 0;
          delay = this.o.reconnectMinMs;
          await this.stream(link, writer);
          return;
        } catch (err) {
          await this.dropWriter(err);
          if (signal.aborted) return;
          if (err instanceof ReplicationError && err.code === 'REPL_ERR_SYNC_REFUSED' && !connectedOnce) {
            await this.scanFallback(err);
            return;
          }
          if (!(err instanceof ReplicationError) || !err.retriable) throw err;
          // A source that was never reachable is most likely misconfigured: fail fast instead of retrying for minutes.
          if (!connectedOnce && err.code === 'REPL_ERR_CONNECT') throw err;
          const now = Date.now();
          failingSince ||= now;
          if (now - failingSince > this.o.giveUpAfterMs) throw err;
          this.reconnects++;
          const from = this.point ? `PSYNC from offset ${this.point.offset + 1}` : 'a full sync';
          await this.hooks.log(
            'WARN',
            'SOURCE_RECONNECT',
            `${this.node}: ${err.message}; reconnecting in ${delay} ms (${from}).`,
          );
          await sleep(delay, signal);
          delay = Math.min(delay * 2, this.o.reconnectMaxMs);
        } finally {
          link?.reader.close();
        }
      }
    } finally {
      this.phase = 'done';
      await this.dropWriter(null).catch(() => {});
    }
  }

  /**
   * The source refuses to serve a replica: copy it once with SCAN + DUMP/RESTORE (logged as not lossless). An
   * incremental task then follows the source's keyspace notifications when it publishes them (subscribed before the
   * scan, so no change after the scan's start goes unseen), and otherwise fails saying how to get live writes.
   */
  private async scanFallback(refused: ReplicationError): Promise<void> {
    const { host, port, username, password, tls } = this.o.source;
    const at = { host, port };
    const cred = { username, password, tls };
    let follower: KeyspaceFollower | null = null;
    let unavailable = '';
    if (this.o.mode === 'incremental') {
      const f = await KeyspaceFollower.open(at, cred);
      if (f instanceof KeyspaceFollower) follower = f;
      else unavailable = f.unavailable;
    }
    try {
      await this.hooks.log(
        'WARN',
        'SCAN_MODE',
        follower
          ? `${this.node}: ${refused.bare}; copying with SCAN + DUMP/RESTORE instead, then following keyspace notifications (subscribed before the scan) by copying each changed key again. This is NOT lossless: notifications are fire-and-forget (a dropped subscription fails the task) and values are re-read, not replayed.`
          : `${this.node}: ${refused.bare}; copying with SCAN + DUMP/RESTORE instead. This copy is NOT lossless: keys written or deleted during the scan may be missed or copied in an older state.`,
      );
      this.phase = 'full';
      this.rdb = { bytes: 0, totalBytes: null, keys: 0, diskless: true };
      const writer = await this.openWriter();
      const t0 = performance.now();
      const res = await scanCopy(at, cred, writer, this.o.signal, (keys) => {
        if (this.rdb) this.rdb.keys = keys;
      });
      if (this.o.signal.aborted) return;
      await this.hooks.log(
        'INFO',
        'SCAN_COPY_DONE',
        `${this.node}: SCAN copy done: ${res.keys} keys in ${((performance.now() - t0) / 1000).toFixed(2)} s (${res.skipped} vanished or of an unknown type).`,
      );
      if (follower) {
        await this.follow(follower, at, cred, writer);
        return;
      }
      if (this.o.mode === 'incremental') {
        throw new ReplicationError(
          'REPL_ERR_SYNC_REFUSED',
          `${refused.bare}; the data was copied once with SCAN (not lossless), but following live writes needs a source that allows PSYNC (or give its renamed name), or one that publishes keyspace notifications: ${unavailable}`,
          { node: this.node },
        );
      }
    } finally {
      follower?.close();
    }
  }

  /** Applies the keys the notifications named until stopped; `pendingKeys` is the lag the stats show meanwhile. */
  private async follow(
    follower: KeyspaceFollower,
    at: { host: string; port: number },
    cred: Credentials,
    writer: TargetWriter,
  ): Promise<void> {
    const reader = await controlClient(at, cred);
    try {
      const cluster = infoField(await reader.info('cluster'), 'cluster_enabled') === '1';
      this.follower = follower;
      this.phase = 'stream';
      await this.hooks.log(
        'INFO',
        'KEYSPACE_FOLLOW',
        `${this.node}: following keyspace notifications (${follower.pending} keys changed during the scan).`,
      );
      await this.hooks.streaming(this.node);
      await follower.run(reader, writer, cluster, this.o.signal);
      await this.hooks.log(
        'INFO',
        'KEYSPACE_FOLLOW_STOPPED',
        `${this.node}: stopped following keyspace notifications: ${follower.copied} keys copied again, ${follower.deleted} deleted.`,
      );
    } finally {
      reader.disconnect();
    }
  }

  /** Keys notified and not yet applied (keyspace-notification mode only), else null. */
  get pendingKeys(): number | null {
    return this.follower ? this.follower.pending : null;
  }

  private async openWriter(): Promise<TargetWriter> {
    const w = await TargetWriter.connect({ onConflict: 'overwrite', ...this.o.target });
    this.writer = w;
    if (!w.capabilities.restore) {
      await this.hooks.log('WARN', 'TARGET_NO_RESTORE', `${this.node}: ${NO_RESTORE_NOTE}`);
    }
    return w;
  }

  /**
   * Drains and closes the connection's writer. After a source-side loss (or a stop) the writer's in-flight entries
   * are flushed so the position is exact; after a target failure it is only closed.
   */
  private async dropWriter(cause: unknown): Promise<void> {
    const w = this.writer;
    if (!w) return;
    this.writer = null;
    const s0 = w.status();
    try {
      if (cause === null || cause instanceof ReplicationError) await w.close();
    } finally {
      const s = w.status();
      this.closed.bytes += Math.max(s.bytes, s0.bytes);
      this.closed.acked += Math.max(s.acked, s0.acked);
      if (cause !== null && !(cause instanceof ReplicationError)) await w.close().catch(() => {});
    }
  }

  /** Returns false when stopped before the RDB was complete. */
  private async fullSync(
    link: MasterLink,
    reply: { replid: string | null; offset: number },
    writer: TargetWriter,
  ): Promise<boolean> {
    if (this.point) {
      const at = this.point.offset + 1;
      if (this.o.resumeMode === 'manual') {
        throw new ReplicationError(
          'REPL_ERR_RESYNC_REQUIRED',
          `the source cannot continue the stream from offset ${at} (its backlog no longer covers it or its replication id changed) and resume_mode is manual; restart the task for a new full sync or set resume_mode to auto`,
          { node: this.node },
        );
      }
      await this.hooks.log(
        'WARN',
        'PSYNC_REFUSED',
        `${this.node}: the source cannot continue from offset ${at} (backlog or replication id gone); starting a new full sync (resume_mode auto).`,
      );
      const flush = this.point.targetEmpty === true && this.o.soleMaster;
      this.point = null;
      await this.hooks.resync(this.node);
      if (flush) {
        await writer.flushAll();
        await this.hooks.log(
          'WARN',
          'TARGET_FLUSHED',
          `${this.node}: the target was empty when the migration started, so it held only keys of this source: flushed before the new full sync, so keys deleted on the source while the stream was lost do not survive.`,
        );
      } else {
        await this.hooks.log(
          'WARN',
          'STALE_KEYS_POSSIBLE',
          `${this.node}: keys deleted on the source while the stream was lost stay on the target: the new full sync overwrites keys but cannot remove them (${this.o.soleMaster ? 'the target held other keys when the migration started' : 'the source is one of several masters writing into this target'}).`,
        );
      }
    }
    // Only a sole master into an empty target can later flush it (see MasterCheckpoint.targetEmpty).
    const targetEmpty = this.o.soleMaster && this.o.mode === 'incremental' && (await writer.keyCount()) === 0;
    this.phase = 'full';
    const transfer = await RdbTransfer.open(link.reader, {
      node: this.node,
      idleTimeoutMs: this.o.idleTimeoutMs,
    });
    if (!transfer) return false;
    this.fullSyncs++;
    this.rdb = { bytes: 0, totalBytes: transfer.totalBytes, keys: 0, diskless: transfer.diskless };
    await this.hooks.log(
      'INFO',
      'FULL_SYNC_STARTED',
      `${this.node}: full sync started (${transfer.diskless ? 'diskless transfer' : `RDB of ${transfer.totalBytes} bytes`}, replication id ${reply.replid ?? 'none (SYNC)'}, offset ${reply.offset}).`,
    );
    const summary = await importRdb(transfer, writer, {
      file: `RDB from ${this.node}`,
      totalBytes: transfer.totalBytes,
      signal: this.o.signal,
      progressEveryMs: 200,
      onProgress: (p) => {
        this.rdb = {
          bytes: p.bytes,
          totalBytes: transfer.totalBytes,
          keys: p.keysRead,
          diskless: transfer.diskless,
        };
      },
    });
    if (!summary.completed) return false;
    await transfer.finish();
    if (transfer.totalBytes === null && this.rdb) this.rdb.totalBytes = this.rdb.bytes;
    // A SYNC-style answer has no replication id: the stream is applied, but a reconnect needs a new full sync.
    this.point = {
      replid: reply.replid ?? '',
      offset: reply.offset,
      db: 0,
      ...(targetEmpty && { targetEmpty }),
    };
    if (reply.replid) await this.hooks.checkpoint(this.node, { ...this.point });
    else {
      await this.hooks.log(
        'WARN',
        'NO_PSYNC',
        `${this.node}: the source answered like SYNC (no replication id): a dropped connection will need a new full sync.`,
      );
    }
    await this.hooks.log(
      'INFO',
      'FULL_SYNC_DONE',
      `${this.node}: full sync done: ${summary.keysRead} keys, ${summary.bytes} bytes in ${summary.seconds.toFixed(2)} s (${summary.expiredSkipped} already expired).`,
    );
    await this.hooks.fullSyncDone(this.node);
    return true;
  }

  private ack(link: MasterLink): void {
    link.reader.write(encodeCommand(['REPLCONF', 'ACK', String((this.point as MasterCheckpoint).offset)]));
  }

  /** Applies the command stream until stopped (then drains); throws REPL_ERR_LOST when the link breaks. */
  private async stream(link: MasterLink, writer: TargetWriter): Promise<void> {
    const point = this.point as MasterCheckpoint;
    const stream = new CommandStream({ offset: point.offset, db: point.db }, this.node);
    this.phase = 'stream';
    await this.hooks.streaming(this.node);
    // A diskless master puts the replica online on its first ACK.
    this.ack(link);
    let sent: StreamPoint = { offset: point.offset, db: point.db };
    let nextAck = performance.now() + this.o.ackIntervalMs;
    let lastData = performance.now();
    const settle = async () => {
      await writer.flush();
      if (sent.offset !== point.offset || sent.db !== point.db) {
        point.offset = sent.offset;
        point.db = sent.db;
        if (point.replid) await this.hooks.checkpoint(this.node, { ...point });
      }
    };
    try {
      for (;;) {
        const wait = Math.max(1, nextAck - performance.now());
        const c = await link.reader.read(wait);
        if (c === ABORTED) break;
        if (c === null) {
          throw new ReplicationError('REPL_ERR_LOST', 'the source closed the connection', {
            node: this.node,
            offset: sent.offset,
          });
        }
        const now = performance.now();
        if (c !== TIMEOUT) {
          lastData = now;
          stream.push(c);
          const entries: CommandEntry[] = [];
          const getack = stream.drain(entries);
          if (entries.length) await writer.write(entries);
          sent = stream.safe;
          if (getack) nextAck = 0;
        } else if (now - lastData > this.o.idleTimeoutMs) {
          throw new ReplicationError(
            'REPL_ERR_LOST',
            `no data from the source for ${this.o.idleTimeoutMs} ms`,
            {
              node: this.node,
              offset: sent.offset,
            },
          );
        }
        if (performance.now() >= nextAck) {
          await settle();
          this.ack(link);
          nextAck = performance.now() + this.o.ackIntervalMs;
        }
      }
    } catch (err) {
      // The link broke: what was handed to the writer is applied first, so the next PSYNC continues right after it.
      if (err instanceof ReplicationError) await settle();
      throw err;
    }
    // Stopped: everything handed to the writer is applied before the position is saved.
    await settle();
  }
}
