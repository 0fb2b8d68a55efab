/**
 * dcs-migrate import <file> --target redis://… [--cluster] [--db-map 0:1,…] [--on-conflict overwrite|skip|fail]
 */
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importRdb } from '../pipeline/index.ts';
import { readFileChunks } from '../sources/index.ts';
import { NO_RESTORE_NOTE, TargetWriter } from '../target/index.ts';
import { CliError } from './errors.ts';
import { fmtBytes, fmtInt, progressLine } from './progress.ts';
import { parseDbMap, parseTargetUrl, readCa } from './target-url.ts';

export const IMPORT_USAGE = `Usage: dcs-migrate import <file.rdb> --target redis://[user:pass@]host:port[,host:port…]
         [--cluster] [--db-map src:dst,…] [--on-conflict overwrite|skip|fail] [--no-restore]
         [--tls-ca ca.pem] [--json]

  --target       target Redis (rediss:// for TLS); several host:port for a cluster
  --cluster      the target is a Redis Cluster (detected when omitted)
  --db-map       move keys of source db src into target db dst (cluster targets take db 0 only)
  --on-conflict  key already on the target: overwrite (default), skip, or fail
  --no-restore   write every key as plain commands (HSET, RPUSH, …) even where the target accepts RESTORE
                 of the raw value (a target whose ACL or rename-command refuses RESTORE gets them anyway)
  --tls-ca       PEM file of the CA that signed the target's certificate (implies TLS); without it, rediss://
                 verifies against the system's CAs
  --json         print the summary as JSON
`;

const CONFLICT = new Set(['overwrite', 'skip', 'fail']);

/** `out` receives the usage text and the summary (the CLI's stdout; tests pass their own sink). */
export async function importCommand(
  argv: string[],
  out: { write(text: string): unknown } = process.stdout,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      cluster: { type: 'boolean' },
      'db-map': { type: 'string' },
      'on-conflict': { type: 'string', default: 'overwrite' },
      'no-restore': { type: 'boolean' },
      'tls-ca': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out.write(IMPORT_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new CliError(`import takes exactly one file\n\n${IMPORT_USAGE}`);
  if (!values.target) throw new CliError(`--target is required\n\n${IMPORT_USAGE}`);
  const onConflict = values['on-conflict'] ?? 'overwrite';
  if (!CONFLICT.has(onConflict)) throw new CliError('--on-conflict must be overwrite, skip or fail');
  const file = positionals[0];
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new CliError(`cannot read ${file}`);
  }

  const target = parseTargetUrl(values.target);
  if (values['tls-ca']) target.tls = { ca: readCa(values['tls-ca'], '--tls-ca') };
  const writer = await TargetWriter.connect({
    ...target,
    ...(values.cluster !== undefined && { cluster: values.cluster }),
    dbMap: parseDbMap(values['db-map']),
    onConflict: onConflict as 'overwrite' | 'skip' | 'fail',
  });
  if (!writer.capabilities.restore && !values['no-restore']) {
    process.stderr.write(`dcs-migrate: ${NO_RESTORE_NOTE}\n`);
  }
  const bar = progressLine();
  try {
    const summary = await importRdb(readFileChunks(file), writer, {
      file,
      totalBytes: size,
      restore: !values['no-restore'],
      onProgress: (p) =>
        bar.update(p.bytes, p.totalBytes, `${fmtInt(p.keysWritten)} keys written, ${fmtBytes(p.bytes)} read`),
    });
    bar.end();
    const w = writer.status();
    const report = {
      file,
      keys: w.keys,
      keysSkipped: w.keysSkipped,
      expiredSkipped: summary.expiredSkipped,
      bytes: summary.bytes,
      seconds: Number(summary.seconds.toFixed(3)),
      keysPerSecond: Math.round(w.keys / Math.max(summary.seconds, 1e-9)),
      mbPerSecond: Number((summary.bytes / 1048576 / Math.max(summary.seconds, 1e-9)).toFixed(1)),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    if (values.json) out.write(`${JSON.stringify(report)}\n`);
    else {
      out.write(
        `Imported ${fmtInt(report.keys)} keys (${fmtInt(report.keysSkipped)} skipped as existing, ${fmtInt(report.expiredSkipped)} already expired) ` +
          `from ${fmtBytes(report.bytes)} in ${report.seconds.toFixed(2)} s: ${fmtInt(report.keysPerSecond)} keys/s, ${report.mbPerSecond} MB/s\n`,
      );
    }
    return 0;
  } finally {
    bar.end();
    await writer.close();
  }
}
