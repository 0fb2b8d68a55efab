/**
 * dcs-migrate migrate --source redis://… --target redis://… [--full-only] [--db-map …] [--bandwidth-mb N]
 *   [--psync-command NAME] [--source-tls-ca ca.pem] [--tls-ca ca.pem] [--json]
 *
 * Acts as a replica of the source (every master of a cluster source), copies the dataset, then applies the live
 * stream until Ctrl-C (drained before exit). Progress of the full sync and the live lag go to stderr.
 */
import { parseArgs } from 'node:util';
import { migrateOnline, type OnlineStats } from '../online/index.ts';
import { CliError } from './errors.ts';
import { fmtBytes, fmtInt, progressLine } from './progress.ts';
import { parseDbMap, parseTargetUrl, readCa } from './target-url.ts';

export const MIGRATE_USAGE = `Usage: dcs-migrate migrate --source redis://[user:pass@]host:port[,host:port…]
         --target redis://[user:pass@]host:port[,host:port…] [--full-only] [--db-map src:dst,…]
         [--bandwidth-mb N] [--psync-command NAME] [--source-tls-ca ca.pem] [--tls-ca ca.pem] [--json]

  --source         the live Redis to copy (a replica works too); any master of a cluster source;
                   rediss:// for TLS
  --target         where the data goes; several host:port for a cluster; rediss:// for TLS
  --full-only      stop after the full sync (default: follow the live stream until Ctrl-C)
  --db-map         move keys of source db src into target db dst
  --bandwidth-mb   limit on bytes read from the source, MB/s
  --psync-command  name of PSYNC on managed sources that rename it
  --source-tls-ca  PEM file of the CA that signed the source's certificate (implies TLS); without it,
                   rediss:// verifies against the system's CAs
  --tls-ca         the same for the target
  --json           print the summary as JSON
`;

function parseUrl(raw: string, flag: string) {
  try {
    return parseTargetUrl(raw);
  } catch (err) {
    if (err instanceof CliError) throw new CliError(err.message.replaceAll('--target', flag));
    throw err;
  }
}

function line(s: OnlineStats): string {
  const ops = `${fmtInt(s.targetOps)} ops/s, ${fmtBytes(s.targetInputKbps * 1024)}/s into the target`;
  if (!s.incremental) {
    return `full sync ${s.fullProgress.toFixed(1)}%: ${fmtInt(s.targetDbsize ?? 0)}/${fmtInt(s.sourceDbsize ?? 0)} keys, ${ops}`;
  }
  return `live: lag ${s.lag === null ? '?' : fmtBytes(s.lag)}, ${fmtInt(s.targetDbsize ?? 0)} keys on the target, ${ops}`;
}

export async function migrateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      source: { type: 'string' },
      target: { type: 'string' },
      'full-only': { type: 'boolean' },
      'db-map': { type: 'string' },
      'bandwidth-mb': { type: 'string' },
      'psync-command': { type: 'string' },
      'source-tls-ca': { type: 'string' },
      'tls-ca': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(MIGRATE_USAGE);
    return 0;
  }
  if (positionals.length) throw new CliError(`migrate takes no positional arguments\n\n${MIGRATE_USAGE}`);
  if (!values.source) throw new CliError(`--source is required\n\n${MIGRATE_USAGE}`);
  if (!values.target) throw new CliError(`--target is required\n\n${MIGRATE_USAGE}`);
  const source = parseUrl(values.source, '--source');
  const target = parseUrl(values.target, '--target');
  if (values['source-tls-ca']) source.tls = { ca: readCa(values['source-tls-ca'], '--source-tls-ca') };
  if (values['tls-ca']) target.tls = { ca: readCa(values['tls-ca'], '--tls-ca') };
  let bandwidth: number | null = null;
  if (values['bandwidth-mb'] !== undefined) {
    bandwidth = Number(values['bandwidth-mb']);
    if (!Number.isFinite(bandwidth) || bandwidth <= 0)
      throw new CliError('--bandwidth-mb must be a positive number');
  }
  const ac = new AbortController();
  const onSignal = () => {
    process.stderr.write('\ndcs-migrate: stopping (draining writes to the target)…\n');
    ac.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = progressLine();
  const started = performance.now();
  let last: OnlineStats | null = null;
  try {
    const summary = await migrateOnline(
      {
        source: {
          addrs: source.addrs,
          username: source.username,
          password: source.password,
          tls: source.tls,
          psyncCommand: values['psync-command'],
        },
        target: { ...target, dbMap: parseDbMap(values['db-map']) },
        mode: values['full-only'] ? 'full' : 'incremental',
        resumeMode: 'auto',
        bandwidthLimitMb: bandwidth,
        checkpoint: null,
        signal: ac.signal,
      },
      {
        log: async (level, _code, message) => {
          if (level !== 'INFO' || !process.stderr.isTTY) {
            bar.end();
            process.stderr.write(`${level === 'INFO' ? '' : `${level}: `}${message}\n`);
          } else bar.update(0, null, message);
        },
        checkpoint: async () => {},
        phase: async (e) => {
          bar.end();
          process.stderr.write(
            e === 'incremental'
              ? 'Full sync done; applying the live stream (Ctrl-C to stop).\n'
              : 'Source cannot continue: new full sync.\n',
          );
        },
        stats: (s) => {
          last = s;
          if (s.incremental) bar.update(0, null, line(s));
          else bar.update(s.fullProgress, 100, line(s));
        },
      },
    );
    bar.end();
    const s = last as OnlineStats | null;
    const out = {
      mode: values['full-only'] ? 'full' : 'incremental',
      completed: summary.completed,
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      sourceKeys: s?.sourceDbsize ?? null,
      targetKeys: s?.targetDbsize ?? null,
      lag: s?.lag ?? null,
      masters: summary.masters,
    };
    if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else {
      process.stdout.write(
        `${out.mode === 'full' ? 'Full sync' : 'Migration'} ${summary.completed ? 'finished' : 'stopped'} after ${out.seconds.toFixed(2)} s: ` +
          `${fmtInt(out.targetKeys ?? 0)} keys on the target (source ${fmtInt(out.sourceKeys ?? 0)})` +
          `${out.lag !== null ? `, lag ${fmtBytes(out.lag)}` : ''}; ` +
          `${summary.masters.map((m) => `${m.node}: ${m.fullSyncs} full / ${m.partialResyncs} partial sync(s)`).join(', ')}\n`,
      );
    }
    return 0;
  } finally {
    bar.end();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
