/**
 * The one place that reads the environment (STYLE habit 11). Everything else receives a `Config` or its own
 * `XxxOptions`. Every variable here is documented in `.env.example` and the README.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from './config-error.ts';

export type Env = Record<string, string | undefined>;

export interface AuthToken {
  token: string;
  projectId: string;
}

/** A Huawei-style access key: requests signed with `sk` (SDK-HMAC-SHA256) may act on `projectId` only. */
export interface AccessKey {
  ak: string;
  sk: string;
  projectId: string;
}

export interface Config {
  port: number;
  host: string;
  /** Directory for the SQLite file and the generated secret key. */
  dataDir: string;
  databaseUrl: string;
  /** Empty = auth off (then only loopback binds are allowed). */
  authTokens: AuthToken[];
  /** AK/SK pairs from DCS_ACCESS_KEYS and DCS_CREDENTIALS_FILE; empty = no signed requests accepted. */
  accessKeys: AccessKey[];
  /** 32-byte key (hex or base64) for encrypting passwords at rest; generated into dataDir when unset. */
  secretKey: string | undefined;
  instancesFile: string | undefined;
  taskConcurrency: number;
  logLevel: string;
  /** Buckets of backup imports (S3-compatible). */
  s3: {
    /** Endpoint URL of a non-AWS service (MinIO, OBS, Ceph); AWS's own when unset. */
    endpoint: string | undefined;
    region: string;
    forcePathStyle: boolean;
    /** Static credentials; both unset = the AWS SDK's default credential chain. */
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
  };
}

export const CONFIG_DEFAULTS = {
  port: 8080,
  host: '127.0.0.1',
  dataDir: './data',
  taskConcurrency: 4,
  logLevel: 'info',
  s3Region: 'us-east-1',
} as const;

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function databaseUrl(env: Env): string {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  return `file:${resolve(env.DATA_DIR || CONFIG_DEFAULTS.dataDir, 'dcs-migrate.db')}`;
}

/** Filesystem path of a `file:` SQLite URL (relative paths resolve against the working directory). */
export function sqlitePath(url: string): string {
  if (!url.startsWith('file:')) {
    throw new ConfigError('DATABASE_URL', `must be a SQLite "file:" URL, got "${url.split(':')[0]}:…"`);
  }
  const p = url.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
  return isAbsolute(p) ? p : resolve(p);
}

export function loadConfig(env: Env = process.env): Config {
  const port = intSetting(env, 'PORT', CONFIG_DEFAULTS.port, 0, 65535);
  const taskConcurrency = intSetting(env, 'TASK_CONCURRENCY', CONFIG_DEFAULTS.taskConcurrency, 1, 1024);
  const logLevel = env.LOG_LEVEL || CONFIG_DEFAULTS.logLevel;
  if (!LOG_LEVELS.has(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${[...LOG_LEVELS].join(', ')}`);
  }
  const url = databaseUrl(env);
  sqlitePath(url);
  const s3 = s3Settings(env);
  return {
    port,
    host: env.HOST || CONFIG_DEFAULTS.host,
    dataDir: resolve(env.DATA_DIR || CONFIG_DEFAULTS.dataDir),
    databaseUrl: url,
    authTokens: parseTokens(env.DCS_AUTH_TOKENS),
    accessKeys: loadAccessKeys(env),
    secretKey: env.DCS_SECRET_KEY || undefined,
    instancesFile: env.DCS_INSTANCES_FILE || undefined,
    taskConcurrency,
    logLevel,
    s3,
  };
}

function s3Settings(env: Env): Config['s3'] {
  const endpoint = env.S3_ENDPOINT || undefined;
  if (endpoint && !/^https?:\/\/[^/]+/.test(endpoint)) {
    throw new ConfigError('S3_ENDPOINT', `must be an http(s):// URL, got "${endpoint}"`);
  }
  const style = env.S3_FORCE_PATH_STYLE;
  if (style !== undefined && style !== '' && !['true', 'false', '1', '0'].includes(style)) {
    throw new ConfigError('S3_FORCE_PATH_STYLE', `must be true or false, got "${style}"`);
  }
  const accessKeyId = env.S3_ACCESS_KEY_ID || undefined;
  const secretAccessKey = env.S3_SECRET_ACCESS_KEY || undefined;
  if (!accessKeyId !== !secretAccessKey) {
    throw new ConfigError(
      accessKeyId ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID',
      'is missing: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together (or neither, for the default AWS credential chain)',
    );
  }
  return {
    endpoint,
    region: env.S3_REGION || env.AWS_REGION || CONFIG_DEFAULTS.s3Region,
    // Self-hosted servers (MinIO, s3rver, Ceph) usually need path-style; default on when an endpoint is given.
    forcePathStyle:
      style === undefined || style === '' ? endpoint !== undefined : style === 'true' || style === '1',
    accessKeyId,
    secretAccessKey,
  };
}

function intSetting(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** `token:project_id,token:project_id` */
function parseTokens(raw: string | undefined): AuthToken[] {
  if (!raw?.trim()) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const i = pair.lastIndexOf(':');
      if (i <= 0 || i === pair.length - 1) {
        throw new ConfigError('DCS_AUTH_TOKENS', 'expects "token:project_id[,token:project_id…]"');
      }
      return { token: pair.slice(0, i), projectId: pair.slice(i + 1) };
    });
}

/**
 * DCS_ACCESS_KEYS (`ak:sk:project_id,…`) plus DCS_CREDENTIALS_FILE: one `ak:sk:project_id` per line, blank lines
 * and lines starting with `#` ignored. An AK may appear once per project it may act on, always with the same SK.
 */
function loadAccessKeys(env: Env): AccessKey[] {
  const keys = parseAccessKeys(env.DCS_ACCESS_KEYS ?? '', ',', 'DCS_ACCESS_KEYS');
  const file = env.DCS_CREDENTIALS_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError('DCS_CREDENTIALS_FILE', `cannot be read: ${(err as Error).message}`);
    }
    keys.push(...parseAccessKeys(text, '\n', `DCS_CREDENTIALS_FILE (${file})`));
  }
  const sks = new Map<string, string>();
  for (const k of keys) {
    const sk = sks.get(k.ak);
    if (sk !== undefined && sk !== k.sk) {
      throw new ConfigError('DCS_ACCESS_KEYS', `gives access key ${k.ak} two different secret keys`);
    }
    sks.set(k.ak, k.sk);
  }
  return keys;
}

function parseAccessKeys(raw: string, separator: string, variable: string): AccessKey[] {
  const out: AccessKey[] = [];
  raw.split(separator).forEach((item, i) => {
    const line = item.trim();
    if (!line || line.startsWith('#')) return;
    const parts = line.split(':');
    if (parts.length !== 3 || parts.some((p) => !p)) {
      // Never echo the entry: it holds a secret key.
      const where = separator === ',' ? `entry ${i + 1}` : `line ${i + 1}`;
      throw new ConfigError(variable, `${where} is not "ak:sk:project_id"`);
    }
    out.push({ ak: parts[0], sk: parts[1], projectId: parts[2] });
  });
  return out;
}

/**
 * What the `tasks` CLI takes from the environment when no option gives it, so secrets stay out of argv and shell
 * history: the variables Huawei's SDKs read (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID)
 * and DCS_TOKEN for an X-Auth-Token.
 */
export interface CliEnv {
  ak?: string;
  sk?: string;
  projectId?: string;
  token?: string;
}

export function cliEnv(env: Env = process.env): CliEnv {
  return {
    ak: env.HUAWEICLOUD_SDK_AK || undefined,
    sk: env.HUAWEICLOUD_SDK_SK || undefined,
    projectId: env.HUAWEICLOUD_SDK_PROJECT_ID || undefined,
    token: env.DCS_TOKEN || undefined,
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|\[::1\])$/;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}
