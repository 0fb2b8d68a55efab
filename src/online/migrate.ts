/**
 * Online migration of a live Redis (standalone, replica, or every master of a cluster) into a target: one
 * MasterSync per source master, all into the same target; phases, checkpoints and stats joined over them. Shared by
 * the task executor and `dcs-migrate migrate`.
 */
import type { Redis } from 'ioredis';
import { bucketForMb } from '../replication/index.ts';
import type { LogLevel } from '../runner/index.ts';
import { infoField, keyspaceTotal, type TargetOptions } from '../target/index.ts';
import {
  type Credentials,
  controlClient,
  discoverMasters,
  type HostPort,
  nodeName,
  parseAddrs,
} from './control.ts';
import { type MasterCheckpoint, MasterSync, type MasterSyncOptions } from './master-sync.ts';

export interface OnlineCheckpoint {
  v: 1;
  masters: Record<string, MasterCheckpoint>;
}

export interface OnlineMigrationOptions {
  source: { addrs: string; psyncCommand?: string } & Credentials;
  target: TargetOptions;
  mode: 'full' | 'incremental';
  resumeMode: 'auto' | 'manual';
  bandwidthLimitMb: number | null;
  /** From a previous run (ignored unless it is an OnlineCheckpoint). */
  checkpoint: unknown;
  signal: AbortSignal;
  statsIntervalMs?: number;
  /** Timeouts and reconnect pacing of each master's link. */
  link?: Pick<
    MasterSyncOptions,
    'ackIntervalMs' | 'idleTimeoutMs' | 'reconnectMinMs' | 'reconnectMaxMs' | 'giveUpAfterMs'
  >;
}

export interface MasterStats {
  node: string;
  phase: MasterSync['phase'];
  /**
   * Source master_repl_offset − applied offset; null before the first full sync is applied. A source followed by
   * keyspace notifications (no PSYNC) has no offset: there it counts the keys changed and not yet copied again.
   */
  lag: number | null;
  fullSyncs: number;
  partialResyncs: number;
  reconnects: number;
}

export interface OnlineStats {
  /** 0–100 over all masters. */
  fullProgress: number;
  /** Sum of the masters' lags (bytes of stream not yet applied); null while some master has no position yet. */
  lag: number | null;
  sourceDbsize: number | null;
  targetDbsize: number | null;
  targetInputKbps: number;
  targetOps: number;
  incremental: boolean;
  masters: MasterStats[];
}

export interface OnlineHooks {
  log(level: LogLevel, code: string, message: string): Promise<void>;
  checkpoint(cp: OnlineCheckpoint): Promise<void>;
  phase(event: 'incremental' | 'resync'): Promise<void>;
  stats(s: OnlineStats): void;
}

export interface OnlineSummary {
  masters: MasterStats[];
  /** True when every master completed (full mode) — false when stopped first. */
  completed: boolean;
}

function isCheckpoint(c: unknown): c is OnlineCheckpoint {
  return (
    typeof c === 'object' &&
    c !== null &&
    (c as OnlineCheckpoint).v === 1 &&
    typeof (c as OnlineCheckpoint).masters === 'object'
  );
}

export async function migrateOnline(o: OnlineMigrationOptions, hooks: OnlineHooks): Promise<OnlineSummary> {
  const cred: Credentials = { username: o.source.username, password: o.source.password, tls: o.source.tls };
  const given = parseAddrs(o.source.addrs, 'source');
  const { masters, cluster } = await discoverMasters(given, cred);
  if (cluster) {
    await hooks.log(
      'INFO',
      'SOURCE_CLUSTER',
      `Source is a Redis Cluster: one replication stream per master (${masters.map(nodeName).join(', ')}).`,
    );
  }
  const saved = o.mode === 'incremental' && isCheckpoint(o.checkpoint) ? o.checkpoint.masters : {};
  const points: Record<string, MasterCheckpoint> = { ...saved };
  const bucket = bucketForMb(o.bandwidthLimitMb);
  // One failing master stops the others (drained), then the failure is reported.
  const inner = new AbortController();
  const onAbort = () => inner.abort(o.signal.reason);
  o.signal.addEventListener('abort', onAbort, { once: true });

  let saving: Promise<void> = Promise.resolve();
  const streaming = new Set<string>();
  let incremental = false;
  const prefix = masters.length > 1;

  const syncs = masters.map(
    (m) =>
      new MasterSync(
        {
          source: { ...m, ...cred, psyncCommand: o.source.psyncCommand },
          target: o.target,
          mode: o.mode,
          resumeMode: o.resumeMode,
          bucket,
          signal: inner.signal,
          checkpoint: saved[nodeName(m)] ?? null,
          soleMaster: masters.length === 1,
          ...o.link,
        },
        {
          log: (level, code, message) =>
            hooks.log(level, code, prefix ? message : message.replace(/^[^ ]+: /, '')),
          checkpoint: (node, cp) => {
            points[node] = cp;
            const snapshot: OnlineCheckpoint = { v: 1, masters: { ...points } };
            saving = saving.then(() => hooks.checkpoint(snapshot));
            return saving;
          },
          resync: async (node) => {
            streaming.delete(node);
            delete points[node];
            if (incremental) {
              incremental = false;
              await hooks.phase('resync');
            }
          },
          fullSyncDone: async () => {},
          streaming: async (node) => {
            streaming.add(node);
            if (!incremental && streaming.size === masters.length && !inner.signal.aborted) {
              incremental = true;
              await hooks.phase('incremental');
            }
          },
        },
      ),
  );

  const poller = new StatsPoller(masters, cred, o.target, syncs, () => incremental);
  const interval = o.statsIntervalMs ?? 1000;
  let timer: NodeJS.Timeout | null = null;
  const tick = async () => {
    try {
      hooks.stats(await poller.sample());
    } catch {
      /* the next sample retries; stats must never fail the migration */
    }
    if (!stopped) timer = setTimeout(tick, interval);
  };
  let stopped = false;
  timer = setTimeout(tick, 0);

  let failure: unknown = null;
  try {
    await Promise.all(
      syncs.map((s) =>
        s.run().catch((err) => {
          failure ??= err;
          inner.abort(err);
        }),
      ),
    );
    await saving;
    if (failure) throw failure;
    return { masters: poller.masterStats(), completed: !o.signal.aborted };
  } finally {
    stopped = true;
    if (timer) clearTimeout(timer);
    o.signal.removeEventListener('abort', onAbort);
    try {
      hooks.stats(await poller.sample());
    } catch {
      /* best effort */
    }
    poller.close();
  }
}

/** Samples the source and target once a second for the stats (offset lag, dbsize, throughput). */
class StatsPoller {
  private source = new Map<string, Redis | null>();
  private targets: Redis[] | null = null;
  private masterOffsets = new Map<string, number>();
  private last = { at: performance.now(), bytes: 0, acked: 0 };
  private closed = false;

  constructor(
    private readonly masters: HostPort[],
    private readonly cred: Credentials,
    private readonly target: TargetOptions,
    private readonly syncs: MasterSync[],
    private readonly incremental: () => boolean,
  ) {}

  masterStats(): MasterStats[] {
    return this.syncs.map((s) => {
      const mo = this.masterOffsets.get(s.node);
      return {
        node: s.node,
        phase: s.phase,
        // Keyspace-notification mode has no stream offset: its lag is the keys changed and not yet copied again.
        lag: s.point?.replid && mo !== undefined ? Math.max(0, mo - s.point.offset) : s.pendingKeys,
        fullSyncs: s.fullSyncs,
        partialResyncs: s.partialResyncs,
        reconnects: s.reconnects,
      };
    });
  }

  private async client(at: HostPort, cred: Credentials): Promise<Redis> {
    const key = nodeName(at);
    let c = this.source.get(key);
    if (!c) {
      c = await controlClient(at, cred, 2000);
      if (this.closed) c.disconnect();
      this.source.set(key, c);
    }
    return c;
  }

  private pending: Promise<OnlineStats> | null = null;

  /** One sample at a time: a periodic tick and the final sample share one, so no connection is opened twice. */
  sample(): Promise<OnlineStats> {
    this.pending ??= this.take().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async take(): Promise<OnlineStats> {
    let sourceDbsize: number | null = 0;
    for (const m of this.masters) {
      try {
        const r = await this.client(m, this.cred);
        const [repl, ks] = await Promise.all([r.info('replication'), r.info('keyspace')]);
        const off = infoField(repl, 'master_repl_offset');
        if (off !== undefined) this.masterOffsets.set(nodeName(m), Number(off));
        if (sourceDbsize !== null) sourceDbsize += keyspaceTotal(ks);
      } catch {
        this.source.get(nodeName(m))?.disconnect();
        this.source.delete(nodeName(m));
        sourceDbsize = null;
      }
    }
    const targetDbsize = await this.targetDbsize();
    const now = performance.now();
    let bytes = 0;
    let acked = 0;
    for (const s of this.syncs) {
      const t = s.totals();
      bytes += t.bytes;
      acked += t.acked;
    }
    const dt = Math.max(1e-3, (now - this.last.at) / 1000);
    const kbps = (bytes - this.last.bytes) / 1024 / dt;
    const ops = (acked - this.last.acked) / dt;
    this.last = { at: now, bytes, acked };
    const ms = this.masterStats();
    let progress = 0;
    for (const s of this.syncs) {
      if (s.point || s.phase === 'stream') progress += 100;
      else if (s.phase === 'full' && s.rdb) {
        if (s.rdb.totalBytes) progress += Math.min(100, (100 * s.rdb.bytes) / s.rdb.totalBytes);
        else if (sourceDbsize)
          progress += Math.min(99, (100 * s.rdb.keys * this.masters.length) / sourceDbsize);
      }
    }
    const lag = ms.every((m) => m.lag !== null) ? ms.reduce((a, m) => a + (m.lag as number), 0) : null;
    return {
      fullProgress: Math.round((progress / this.syncs.length) * 100) / 100,
      lag,
      sourceDbsize,
      targetDbsize,
      targetInputKbps: Math.round(Math.max(0, kbps) * 100) / 100,
      targetOps: Math.round(Math.max(0, ops)),
      incremental: this.incremental(),
      masters: ms,
    };
  }

  private async targetDbsize(): Promise<number | null> {
    try {
      if (!this.targets) {
        const cred = { username: this.target.username, password: this.target.password, tls: this.target.tls };
        const given = parseAddrs(this.target.addrs, 'target');
        const { masters } = await discoverMasters(given, cred);
        this.targets = await Promise.all(masters.map((m) => controlClient(m, cred, 2000)));
        if (this.closed) for (const t of this.targets) t.disconnect();
      }
      let n = 0;
      for (const t of this.targets) n += keyspaceTotal(await t.info('keyspace'));
      return n;
    } catch {
      for (const t of this.targets ?? []) t.disconnect();
      this.targets = null;
      return null;
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.source.values()) c?.disconnect();
    for (const t of this.targets ?? []) t.disconnect();
  }
}
