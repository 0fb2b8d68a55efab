/**
 * Runs the real `dcs-migrate` executable (bin/dcs-migrate.js) in a child process, as a user would.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

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
