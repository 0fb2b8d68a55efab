/**
 * Live follow-up of a SCAN copy for sources that refuse PSYNC but already publish keyspace notifications (never
 * switched on by us: that is the owner's call). Subscribed to `__keyspace@*__:*` before the scan starts, it collects
 * every key changed since, and after the scan copies each again from the source (DUMP/PTTL + RESTORE REPLACE, or DEL
 * when the key is gone) until stopped. Not lossless: Pub/Sub is fire-and-forget (a dropped subscription loses events,
 * so it fails the migration), and values are re-read, not replayed, so intermediate states are not reproduced.
 */
import type { Redis } from 'ioredis';
import type { CommandEntry, Entry } from '../entry.ts';
import type { TargetWriter } from '../target/index.ts';
import { type Credentials, controlClient, type HostPort, nodeName } from './control.ts';
import { OnlineError } from './errors.ts';
import { readKeys } from './scan-copy.ts';

/** Event classes every change of a key's value or existence falls in: generic, each type, expired, evicted. */
const CLASSES = 'g$lshzxet';
/** What `A` stands for in notify-keyspace-events. */
const ALL = 'g$lshzxetd';
export const ENABLE_HINT = 'CONFIG SET notify-keyspace-events KA';

/** The flags of notify-keyspace-events a follower needs and `flags` lacks ('' when enough). */
export function missingNotifyFlags(flags: string): string {
  const have = flags.replace('A', ALL);
  return [...`K${CLASSES}`].filter((c) => !have.includes(c)).join('');
}

const PREFIX = Buffer.from('__keyspace@');
const BATCH = 500;

interface Pending {
  db: number;
  key: Buffer;
}

export class KeyspaceFollower {
  private readonly dirty = new Map<string, Pending>();
  private wake: (() => void) | null = null;
  private lost: OnlineError | null = null;
  private closing = false;
  /** Keys handed to the writer and not yet acknowledged. */
  private unflushed = 0;
  copied = 0;
  deleted = 0;

  private constructor(private readonly sub: Redis) {}

  /**
   * Subscribes when the source publishes enough keyspace events; otherwise says why not (to be told to the user).
   * Resolves once the subscription is confirmed: every change after that is seen.
   */
  static async open(at: HostPort, cred: Credentials): Promise<KeyspaceFollower | { unavailable: string }> {
    const node = nodeName(at);
    const sub = await controlClient(at, cred);
    try {
      let flags: string;
      try {
        const reply = (await sub.call('CONFIG', 'GET', 'notify-keyspace-events')) as string[];
        flags = reply[1] ?? '';
      } catch (err) {
        sub.disconnect();
        return {
          unavailable: `CONFIG GET notify-keyspace-events was refused (${(err as Error).message}), so keyspace notifications cannot be confirmed`,
        };
      }
      const missing = missingNotifyFlags(flags);
      if (missing) {
        sub.disconnect();
        return {
          unavailable: `keyspace notifications are ${flags ? `"${flags}", lacking "${missing}"` : 'off'} (enable them on the source with ${ENABLE_HINT} to follow writes by key, still not lossless)`,
        };
      }
      const f = new KeyspaceFollower(sub);
      sub.on('pmessageBuffer', (_pattern: unknown, channel: Buffer) => f.mark(channel));
      sub.on('end', () => {
        if (f.closing) return;
        f.lost = new OnlineError(
          'ONLINE_ERR_SOURCE',
          'the keyspace notification subscription was lost: changes since then may be missing on the target',
          { node },
        );
        f.wake?.();
      });
      await sub.psubscribe('__keyspace@*__:*');
      return f;
    } catch (err) {
      sub.disconnect();
      throw new OnlineError(
        'ONLINE_ERR_SOURCE',
        `cannot subscribe to keyspace notifications: ${(err as Error).message}`,
        { node },
        { cause: err },
      );
    }
  }

  /** Keys changed and not yet applied to the target (what the stats show as the lag). */
  get pending(): number {
    return this.dirty.size + this.unflushed;
  }

  /** `__keyspace@<db>__:<key>` → the key is marked for copying. */
  private mark(channel: Buffer): void {
    if (channel.length < PREFIX.length + 4 || !channel.subarray(0, PREFIX.length).equals(PREFIX)) return;
    let i = PREFIX.length;
    let db = 0;
    while (i < channel.length && channel[i] >= 0x30 && channel[i] <= 0x39) db = db * 10 + channel[i++] - 0x30;
    if (channel[i] !== 0x5f || channel[i + 1] !== 0x5f || channel[i + 2] !== 0x3a) return;
    const key = channel.subarray(i + 3);
    this.dirty.set(`${db}:${key.toString('latin1')}`, { db, key });
    this.wake?.();
  }

  private waitForWork(signal: AbortSignal): Promise<void> {
    if (this.dirty.size || this.lost || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.wake = null;
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Copies marked keys again until stopped (then drains the writer). `reader` is a control connection to the same
   * node on db 0; `cluster` sources have db 0 only.
   */
  async run(reader: Redis, writer: TargetWriter, cluster: boolean, signal: AbortSignal): Promise<void> {
    let selected = 0;
    for (;;) {
      if (this.lost) throw this.lost;
      if (signal.aborted) break;
      if (!this.dirty.size) {
        await writer.flush();
        this.unflushed = 0;
        await this.waitForWork(signal);
        continue;
      }
      const byDb = new Map<number, Buffer[]>();
      let n = 0;
      for (const [id, p] of this.dirty) {
        if (n++ === BATCH) break;
        this.dirty.delete(id);
        const list = byDb.get(p.db);
        if (list) list.push(p.key);
        else byDb.set(p.db, [p.key]);
      }
      for (const [db, keys] of byDb) {
        if (!cluster && selected !== db) {
          await reader.select(db);
          selected = db;
        }
        const { entries, missing } = await readKeys(reader, db, keys);
        const out: Entry[] = [...entries];
        for (const key of missing) {
          out.push({ kind: 'command', db, argv: [Buffer.from('DEL'), key] } satisfies CommandEntry);
        }
        this.unflushed += out.length;
        if (out.length) await writer.write(out);
        this.copied += entries.length;
        this.deleted += missing.length;
      }
    }
    await writer.flush();
    this.unflushed = 0;
  }

  close(): void {
    this.closing = true;
    this.sub.disconnect();
  }
}
