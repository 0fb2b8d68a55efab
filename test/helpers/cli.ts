/**
 * Runs the real `dcs-migrate` executable (bin/dcs-migrate.js) in a child process, as a user would.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { dataOf, type Snapshot } from './compare.ts';
import type { RedisServer } from './redis-server.ts';

export const BIN = resolve(import.meta.dirname, '../../bin/dcs-migrate.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** `dcs-migrate import … --json`: the parsed summary, or a failure naming stderr. */
export async function cliImport(args: string[]): Promise<Record<string, number | string>> {
  const r = await runCli(['import', ...args, '--json']);
  if (r.code !== 0) throw new Error(`dcs-migrate import exited ${r.code}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
}

/** The two ways a file reaches a target: RESTORE (and MSET) where the target takes the encoding, or plain commands. */
export const IMPORT_MODES = ['restore', 'commands'] as const;
export type ImportMode = (typeof IMPORT_MODES)[number];

/** `dcs-migrate import <rdb> --target <url> --json`, with `--no-restore` for the plain-command path. */
export function cliImportAs(
  mode: ImportMode,
  rdb: string,
  url: string,
): Promise<Record<string, number | string>> {
  return cliImport([rdb, '--target', url, ...(mode === 'commands' ? ['--no-restore'] : [])]);
}

export interface SavedSource {
  /** The RDB file the server wrote. */
  rdb: string;
  /** What a target loaded from it must hold: every key (dataOf) and the DEBUG DIGEST. */
  snapshot: Snapshot;
  digest: string;
}

/** SAVE on a source server, then its file and what a target imported from it must equal. */
export async function saveSource(src: RedisServer): Promise<SavedSource> {
  const saved = await src.cli('SAVE');
  if (saved !== 'OK') throw new Error(`SAVE answered ${saved}`);
  return {
    rdb: join(src.dir, 'dump.rdb'),
    snapshot: await dataOf(src),
    digest: await src.cli('DEBUG', 'DIGEST'),
  };
}
