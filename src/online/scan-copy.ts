/**
 * Fallback for sources that refuse SYNC/PSYNC (managed services that disable or rename them without saying how):
 * a one-time copy by SCAN + DUMP/PTTL on the source and RESTORE on the target. Not lossless — keys written or
 * deleted while the scan runs may be missed or copied in an older state — and the caller says so in the task log.
 */
import type { Redis } from 'ioredis';
import type { KeyEntry } from '../entry.ts';
import { rdbTypeInfo } from '../rdb/index.ts';
import { infoField, type TargetWriter } from '../target/index.ts';
import { type Credentials, controlClient, type HostPort } from './control.ts';
import { OnlineError } from './errors.ts';

export interface ScanCopyResult {
  keys: number;
  /** Keys that vanished between SCAN and DUMP, or whose type this build cannot name. */
  skipped: number;
}

const BATCH = 500;

export interface ReadKeys {
  entries: KeyEntry[];
  /** Keys that no longer exist on the source. */
  missing: Buffer[];
  /** Keys whose DUMP this build cannot name the type of. */
  unknown: number;
}

/** DUMP + PTTL of `keys` (of the db the client has selected) → RESTORE-ready entries, and the keys now gone. */
export async function readKeys(r: Redis, db: number, keys: Buffer[]): Promise<ReadKeys> {
  const p = r.pipeline();
  for (const k of keys) p.dumpBuffer(k).pttl(k);
  const replies = (await p.exec()) ?? [];
  const now = Date.now();
  const out: ReadKeys = { entries: [], missing: [], unknown: 0 };
  for (let i = 0; i < keys.length; i++) {
    const [dumpErr, dump] = replies[2 * i] ?? [];
    const [pttlErr, pttl] = replies[2 * i + 1] ?? [];
    const err = dumpErr ?? pttlErr;
    if (err) throw new OnlineError('ONLINE_ERR_SOURCE', `DUMP/PTTL refused by the source: ${err.message}`);
    if (!dump || pttl === -2) {
      out.missing.push(keys[i]);
      continue;
    }
    const d = dump as Buffer;
    const info =
      d.length > 10 ? rdbTypeInfo(d[0], d.readUInt16LE(d.length - 10) >= 80 ? 'valkey' : 'redis') : undefined;
    if (!info) {
      out.unknown++;
      continue;
    }
    out.entries.push({
      kind: 'key',
      db,
      key: keys[i],
      type: info.valueType,
      rdbType: d[0],
      expireAt: (pttl as number) > 0 ? now + (pttl as number) : 0,
      idle: -1,
      freq: -1,
      dump: d,
      value: null,
      more: false,
    });
  }
  return out;
}

export async function scanCopy(
  at: HostPort,
  cred: Credentials,
  writer: TargetWriter,
  signal: AbortSignal,
  onProgress: (keys: number) => void,
): Promise<ScanCopyResult> {
  const r: Redis = await controlClient(at, cred);
  const out: ScanCopyResult = { keys: 0, skipped: 0 };
  try {
    const cluster = infoField(await r.info('cluster'), 'cluster_enabled') === '1';
    const dbs = cluster
      ? [0]
      : [...(await r.info('keyspace')).matchAll(/^db(\d+):/gm)].map((m) => Number(m[1]));
    for (const db of dbs) {
      if (!cluster) await r.select(db);
      let cursor = '0';
      do {
        if (signal.aborted) return out;
        const [next, keys] = await r.scanBuffer(cursor, 'COUNT', BATCH);
        cursor = String(next);
        if (!keys.length) continue;
        const { entries, missing, unknown } = await readKeys(r, db, keys);
        out.skipped += missing.length + unknown;
        if (entries.length) await writer.write(entries);
        out.keys += entries.length;
        onProgress(out.keys);
      } while (cursor !== '0');
    }
    await writer.flush();
    return out;
  } finally {
    r.disconnect();
  }
}
