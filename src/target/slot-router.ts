/**
 * Cluster routing (the one place for slot rules): CRC16/XMODEM key slot with {hashtag} (redis `cluster.c`
 * `keyHashSlot`), the slot → master map from CLUSTER SLOTS, MOVED/ASK parsing, and the key positions of commands
 * (from the target's own `COMMAND` table, never a hand-kept copy) to split multi-key commands per slot.
 * A standalone target is a router with one node that owns every slot.
 */
import { type ConnectionOptions, NodeConnection } from './connection.ts';
import { TargetError } from './errors.ts';
import { RespError, type RespValue } from './resp.ts';

export const SLOTS = 16384;

const CRC16_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let j = 0; j < 8; j++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

/** CRC16/XMODEM of bytes [start, end) — the checksum Redis Cluster uses. */
export function crc16(buf: Buffer, start = 0, end = buf.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ buf[i]) & 0xff];
  return crc;
}

/** Hash slot of a key: only the part inside the first non-empty `{…}` is hashed when there is one. */
export function keySlot(key: Buffer): number {
  const open = key.indexOf(0x7b); // '{'
  if (open >= 0) {
    const close = key.indexOf(0x7d, open + 1); // '}'
    if (close > open + 1) return crc16(key, open + 1, close) & (SLOTS - 1);
  }
  return crc16(key) & (SLOTS - 1);
}

/** A parsed MOVED/ASK redirect. */
export interface Redirect {
  ask: boolean;
  slot: number;
  addr: string;
}

export function parseRedirect(err: RespError): Redirect | null {
  if (err.code !== 'MOVED' && err.code !== 'ASK') return null;
  const parts = err.message.split(' ');
  if (parts.length < 3) return null;
  return { ask: err.code === 'ASK', slot: Number(parts[1]), addr: parts[2] };
}

/** Lower-case ASCII of a protocol word (command names; never user data). */
export function lowerWord(b: Buffer | string): string {
  if (typeof b === 'string') return b.toLowerCase();
  let s = '';
  for (let i = 0; i < b.length && i < 64; i++) {
    const c = b[i];
    s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
  }
  return s;
}

/** Key positions of a command (COMMAND reply: first key, last key, step; movable when keys need GETKEYS). */
export interface KeySpec {
  first: number;
  last: number;
  step: number;
  movable: boolean;
}

/** Builds `name` / `name|subcommand` → KeySpec from a COMMAND reply. */
export function parseCommandTable(reply: RespValue): Map<string, KeySpec> {
  const table = new Map<string, KeySpec>();
  const add = (entry: RespValue) => {
    if (!Array.isArray(entry) || entry.length < 6) return;
    const [name, , flags, first, last, step] = entry;
    if (!(Buffer.isBuffer(name) || typeof name === 'string')) return;
    const movable = Array.isArray(flags) && flags.some((f) => f === 'movablekeys');
    table.set(lowerWord(name), {
      first: Number(first),
      last: Number(last),
      step: Number(step),
      movable,
    });
    const subs = entry[9];
    if (Array.isArray(subs)) for (const s of subs) add(s);
  };
  if (Array.isArray(reply)) for (const e of reply) add(e);
  return table;
}

/**
 * Masters of a target and which one serves each slot. Connections are opened lazily per master and kept.
 */
export class SlotRouter {
  readonly cluster: boolean;
  private readonly slots: (string | null)[] = new Array(SLOTS).fill(null);
  private readonly conns = new Map<string, NodeConnection>();
  private opening = new Map<string, Promise<NodeConnection>>();
  private closed = false;

  private constructor(
    private readonly base: Omit<ConnectionOptions, 'host' | 'port'>,
    cluster: boolean,
    private readonly onNew: (conn: NodeConnection) => void,
  ) {
    this.cluster = cluster;
  }

  /** A router over the node `first` is connected to; for a cluster, loads the slot map from it. */
  static async create(
    first: NodeConnection,
    base: Omit<ConnectionOptions, 'host' | 'port'>,
    cluster: boolean,
    onNew: (conn: NodeConnection) => void,
  ): Promise<SlotRouter> {
    const r = new SlotRouter(base, cluster, onNew);
    r.conns.set(first.addr, first);
    onNew(first);
    if (cluster) await r.refresh(first);
    else r.slots.fill(first.addr);
    return r;
  }

  /** Reloads the slot map (CLUSTER SLOTS) through `via` (default: any connected master). */
  async refresh(via?: NodeConnection): Promise<void> {
    const conn = via ?? [...this.conns.values()].find((c) => c.connected) ?? [...this.conns.values()][0];
    const reply = await conn.call(['CLUSTER', 'SLOTS']);
    if (reply instanceof RespError || !Array.isArray(reply)) {
      throw new TargetError('TARGET_ERR_CLUSTER_SLOTS', `CLUSTER SLOTS failed: ${String(reply)}`, {
        node: conn.addr,
      });
    }
    const next: (string | null)[] = new Array(SLOTS).fill(null);
    for (const range of reply) {
      if (!Array.isArray(range) || range.length < 3) continue;
      const [from, to, master] = range;
      if (!Array.isArray(master) || master.length < 2) continue;
      const host = ascii(master[0]);
      // An empty or '?' host means "the address you reached me on" (cluster-preferred-endpoint-type unknown).
      const addr = `${host && host !== '?' ? host : conn.addr.slice(0, conn.addr.lastIndexOf(':'))}:${Number(master[1])}`;
      for (let s = Number(from); s <= Number(to); s++) next[s] = addr;
    }
    const missing = next.indexOf(null);
    if (missing >= 0) {
      throw new TargetError('TARGET_ERR_CLUSTER_SLOTS', `slot ${missing} is not served by any master`, {
        node: conn.addr,
      });
    }
    for (let s = 0; s < SLOTS; s++) this.slots[s] = next[s];
  }

  /** Records a MOVED redirect: the slot now lives at `addr`. */
  moved(slot: number, addr: string): void {
    this.slots[slot] = addr;
  }

  addrOf(slot: number): string {
    return this.slots[slot] ?? [...this.conns.keys()][0];
  }

  /** The open connection of a master, or null when it still has to be opened (see `open`). */
  connOf(addr: string): NodeConnection | null {
    return this.conns.get(addr) ?? null;
  }

  /** Opens (once) the connection to a master. */
  async open(addr: string): Promise<NodeConnection> {
    const have = this.conns.get(addr);
    if (have) return have;
    let p = this.opening.get(addr);
    if (!p) {
      const i = addr.lastIndexOf(':');
      p = NodeConnection.open({ ...this.base, host: addr.slice(0, i), port: Number(addr.slice(i + 1)) });
      this.opening.set(addr, p);
      p.then(
        (c) => {
          this.conns.set(addr, c);
          this.opening.delete(addr);
          if (this.closed) void c.close();
          else this.onNew(c);
        },
        () => this.opening.delete(addr),
      );
    }
    return p;
  }

  /** Every master currently serving at least one slot. */
  masters(): string[] {
    return [...new Set(this.slots.filter((a): a is string => a !== null))];
  }

  connections(): NodeConnection[] {
    return [...this.conns.values()];
  }

  /** Closes every connection, including those still opening (else they would keep the process alive). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.opening.values()]);
    await Promise.all([...this.conns.values()].map((c) => c.close()));
  }
}

function ascii(v: RespValue): string {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) {
    let s = '';
    for (const b of v) s += String.fromCharCode(b);
    return s;
  }
  return '';
}
