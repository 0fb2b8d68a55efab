/**
 * `--target redis://[user:pass@]host:port[,host:port…]` (or `rediss://` for TLS) → TargetOptions.
 */
import { readFileSync } from 'node:fs';
import type { TargetOptions } from '../target/index.ts';
import { CliError } from './errors.ts';

export function parseTargetUrl(raw: string): Pick<TargetOptions, 'addrs' | 'username' | 'password' | 'tls'> {
  const m = /^(rediss?):\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/.exec(raw.trim());
  if (!m)
    throw new CliError(`--target must look like redis://[user:pass@]host:port[,host:port…], got "${raw}"`);
  const [, scheme, cred, hosts] = m;
  let username: string | undefined;
  let password: string | undefined;
  if (cred !== undefined) {
    const i = cred.indexOf(':');
    if (i < 0) password = decodeURIComponent(cred);
    else {
      username = decodeURIComponent(cred.slice(0, i)) || undefined;
      password = decodeURIComponent(cred.slice(i + 1));
    }
  }
  for (const h of hosts.split(',')) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/.test(h)) {
      throw new CliError(`--target: "${h}" is not host:port`);
    }
  }
  return { addrs: hosts, username, password, tls: scheme === 'rediss' };
}

/** `0:1,2:0` → Map; every db 0–15… is allowed on the left, any db on the right. */
export function parseDbMap(raw: string | undefined): Map<number, number> | undefined {
  if (!raw) return undefined;
  const map = new Map<number, number>();
  for (const pair of raw.split(',')) {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(pair);
    if (!m) throw new CliError(`--db-map expects source:target[,source:target…], got "${pair}"`);
    map.set(Number(m[1]), Number(m[2]));
  }
  return map;
}

/** The PEM CA bundle named by a `--…tls-ca` flag (TLS options `{ ca }`); a usage error when unreadable. */
export function readCa(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new CliError(`cannot read ${flag} ${file}`);
  }
}
