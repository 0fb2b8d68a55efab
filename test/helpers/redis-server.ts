/**
 * Real redis-server processes on free ports for tests (never the shared one on 6379). Each server gets its own
 * temporary directory and is killed when the test process exits, even on failure.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface RedisServer {
  host: string;
  port: number;
  dir: string;
  password?: string;
  /** redis://[:password@]host:port */
  url: string;
  /** Run redis-cli against this server; returns stdout. Binary-unsafe: for control commands only. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** Extra `--name value` arguments, e.g. ['--appendonly', 'yes']. */
  args?: string[];
  password?: string;
  /** Start in cluster mode (cluster-enabled yes); slots are assigned by startCluster. */
  cluster?: boolean;
  /** Reuse a directory (e.g. to load a dump.rdb placed there). */
  dir?: string;
  /** Port to use instead of a free one (for restarts on the same address). */
  port?: number;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function redisVersion(): Promise<string> {
  const { stdout } = await execFileP('redis-server', ['--version']);
  const m = /v=(\d+\.\d+\.\d+)/.exec(stdout);
  if (!m) throw new Error(`cannot read redis-server version from: ${stdout}`);
  return m[1];
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisServer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      // A free port can be taken between probing and binding; try another one.
      if (attempt >= 4 || opts.port) throw err;
    }
  }
}

async function startOnce(opts: StartRedisOptions): Promise<RedisServer> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'dcs-redis-'));
  const ownDir = !opts.dir;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
    '--enable-debug-command',
    'yes',
  ];
  if (opts.password) args.push('--requirepass', opts.password);
  if (opts.cluster) args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'));
  if (opts.args) args.push(...opts.args);
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));

  const auth = opts.password ? ['-a', opts.password, '--no-auth-warning'] : [];
  const cli = async (...cmd: string[]) => {
    const { stdout } = await execFileP(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', String(port), ...auth, ...cmd],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return stdout.trimEnd();
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`redis-server exited with ${child.exitCode} on port ${port}`);
    try {
      const pong = await cli('PING');
      if (pong === 'PONG') break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING within 10s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  const password = opts.password;
  return {
    host: '127.0.0.1',
    port,
    dir,
    password,
    url: password
      ? `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}`
      : `redis://127.0.0.1:${port}`,
    cli,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisCluster {
  nodes: RedisServer[];
  /** Comma-separated host:port of every master. */
  addrs: string;
  stop(): Promise<void>;
}

/** A cluster of `masters` nodes (no replicas) with all 16384 slots assigned and the cluster state ok. */
export async function startCluster(
  masters = 3,
  opts: Omit<StartRedisOptions, 'cluster'> = {},
): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  for (let i = 0; i < masters; i++) nodes.push(await startRedis({ ...opts, cluster: true }));
  const per = Math.ceil(16384 / masters);
  for (let i = 0; i < masters; i++) {
    const from = i * per;
    const to = Math.min(16383, from + per - 1);
    await nodes[i].cli('CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
  }
  for (let i = 1; i < masters; i++) await nodes[i].cli('CLUSTER', 'MEET', '127.0.0.1', String(nodes[0].port));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const infos = await Promise.all(nodes.map((n) => n.cli('CLUSTER', 'INFO')));
    if (infos.every((s) => s.includes('cluster_state:ok') && s.includes(`cluster_known_nodes:${masters}`)))
      break;
    if (Date.now() > deadline) throw new Error('cluster did not reach cluster_state:ok within 20s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    nodes,
    addrs: nodes.map((n) => `${n.host}:${n.port}`).join(','),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
