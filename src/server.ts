/**
 * Boots the service: config checks, store (migrations applied), task service (crash recovery), HTTP app.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppDeps, createApp } from './api/app.ts';
import { type Config, isLoopback } from './config.ts';
import { ConfigError } from './config-error.ts';
import { defaultExecutors } from './executors.ts';
import { createLogger, type Logger } from './log.ts';
import type { ExecutorRegistry } from './runner/index.ts';
import { InstanceDirectory, openDb, SecretBox, TaskService } from './tasks/index.ts';

export interface RunningServer {
  url: string;
  port: number;
  tasks: TaskService;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  executors?: ExecutorRegistry;
  validateResponses?: boolean;
  /** AK/SK verification settings (tests inject a clock). */
  aksk?: AppDeps['aksk'];
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  if (!config.authTokens.length && !config.accessKeys.length) {
    if (!isLoopback(config.host)) {
      throw new ConfigError(
        'HOST',
        `is ${config.host}, but authentication is off (DCS_AUTH_TOKENS and DCS_ACCESS_KEYS/DCS_CREDENTIALS_FILE are unset): refusing to serve anything but loopback. Set DCS_AUTH_TOKENS=token:project_id,…, DCS_ACCESS_KEYS=ak:sk:project_id,… or HOST=127.0.0.1.`,
      );
    }
    logger.warn('authentication is off (no DCS_AUTH_TOKENS, no access keys): serving on loopback only');
  }

  let ready = false;
  const db = openDb(config.databaseUrl);
  const tasks = new TaskService({
    db,
    secrets: SecretBox.open(config.secretKey, config.dataDir),
    instances: InstanceDirectory.load(config.instancesFile),
    executors: opts.executors ?? defaultExecutors(config),
    logger,
    concurrency: config.taskConcurrency,
  });
  const app = createApp({
    tasks,
    authTokens: config.authTokens,
    accessKeys: config.accessKeys,
    aksk: opts.aksk,
    logger,
    isReady: () => ready,
    validateResponses: opts.validateResponses,
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  try {
    await tasks.recover();
  } catch (err) {
    server.close();
    await db.$disconnect();
    throw err;
  }
  ready = true;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, database: config.databaseUrl }, 'dcs-migrate serving');

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    tasks,
    close: () => {
      closing ??= (async () => {
        ready = false;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await tasks.close();
        await db.$disconnect();
      })();
      return closing;
    },
  };
}
