/**
 * Control traffic to the source and the target (DESIGN: ioredis for INFO and CLUSTER NODES): topology discovery
 * and the numbers the stats show. Never on the data path.
 */
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Redis } from 'ioredis';
import { CERT_ERROR } from '../replication/index.ts';
import { infoField } from '../target/index.ts';
import { OnlineError } from './errors.ts';

export interface HostPort {
  host: string;
  port: number;
}

/** How to log in to a node, and whether over TLS (the same for every node of a source or a target). */
export interface Credentials {
  username?: string;
  password?: string;
  tls?: boolean | ConnectionOptions;
}

/** ioredis `tls` option: SNI only for host names, as the target writer and the replica link do. */
function tlsFor(host: string, t: Credentials['tls']): ConnectionOptions | undefined {
  if (!t) return undefined;
  return { ...(isIP(host) ? {} : { servername: host }), ...(t === true ? {} : t) };
}

/** `host:port[,host:port…]` → list; throws ONLINE_ERR_CONFIG naming the bad part. */
export function parseAddrs(addrs: string, what: string): HostPort[] {
  const out: HostPort[] = [];
  for (const raw of addrs.split(',')) {
    const a = raw.trim();
    if (!a) continue;
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(a);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw new OnlineError('ONLINE_ERR_CONFIG', `${what} address "${a}" is not host:port`);
    }
    out.push({ host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) });
  }
  if (!out.length) throw new OnlineError('ONLINE_ERR_CONFIG', `${what} has no address`);
  return out;
}

export const nodeName = (h: HostPort) => `${h.host}:${h.port}`;

/**
 * A connected control client. A password of the form `user:pass` is also tried as ACL user and password when the
 * plain password is refused (how managed services spell ACL accounts in a single password field).
 */
export async function controlClient(at: HostPort, cred: Credentials, timeoutMs = 10_000): Promise<Redis> {
  const tries: Credentials[] = [];
  if (cred.username || !cred.password) tries.push(cred);
  else {
    tries.push({ password: cred.password });
    const i = cred.password.indexOf(':');
    if (i > 0) tries.push({ username: cred.password.slice(0, i), password: cred.password.slice(i + 1) });
  }
  const tls = tlsFor(at.host, cred.tls);
  let last: unknown;
  for (const c of tries) {
    const r = new Redis({
      host: at.host,
      port: at.port,
      username: c.username,
      password: c.password,
      tls,
      lazyConnect: true,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    });
    // ioredis rejects connect() with "Connection is closed" and reports the cause (WRONGPASS, …) as an event.
    let cause: unknown = null;
    r.on('error', (err) => {
      cause ??= err;
    });
    try {
      await r.connect();
      await r.ping();
      return r;
    } catch (err) {
      last = cause ?? err;
      r.disconnect();
    }
  }
  const code = (last as { code?: unknown })?.code;
  const untrusted = cred.tls && typeof code === 'string' && CERT_ERROR.test(code);
  throw new OnlineError(
    'ONLINE_ERR_SOURCE',
    untrusted
      ? `TLS: the certificate of ${nodeName(at)} is not trusted: ${(last as Error).message} (give the CA that signed it)`
      : `cannot open a control connection: ${(last as Error)?.message}`,
    {
      node: nodeName(at),
    },
  );
}

/**
 * The masters to replicate from: the given addresses, or — when they belong to a Redis Cluster — every master of
 * that cluster (CLUSTER NODES), so a partial list cannot silently miss slots.
 */
export async function discoverMasters(
  given: HostPort[],
  cred: Credentials,
): Promise<{ masters: HostPort[]; cluster: boolean }> {
  const r = await controlClient(given[0], cred);
  try {
    const info = await r.info('cluster');
    if (infoField(info, 'cluster_enabled') !== '1') return { masters: given, cluster: false };
    const nodes = (await r.call('CLUSTER', 'NODES')) as string;
    const masters: HostPort[] = [];
    for (const line of nodes.split('\n')) {
      const f = line.split(' ');
      if (
        f.length < 8 ||
        !f[2].split(',').includes('master') ||
        f[2].includes('fail') ||
        f[7] !== 'connected'
      )
        continue;
      const addr = f[1].split('@')[0].split(',')[0];
      const i = addr.lastIndexOf(':');
      let host = addr.slice(0, i);
      if (!host) host = given[0].host;
      masters.push({ host, port: Number(addr.slice(i + 1)) });
    }
    // Keep the caller's spelling of an address it gave (e.g. a hostname instead of the announced IP).
    const byName = new Map(given.map((g) => [nodeName(g), g]));
    return { masters: masters.map((m) => byName.get(nodeName(m)) ?? m), cluster: true };
  } catch (err) {
    if (err instanceof OnlineError) throw err;
    throw new OnlineError('ONLINE_ERR_SOURCE', `cannot read the source topology: ${(err as Error).message}`, {
      node: nodeName(given[0]),
    });
  } finally {
    r.disconnect();
  }
}
