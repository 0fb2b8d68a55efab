/**
 * Backup import executor (task kind `backup_import`): the task's files are read from an S3-compatible bucket (or
 * any ObjectStore), opened by content (RDB, AOF with or without RDB preamble, multi-part AOF, gzip/tar/zip holding
 * them), decoded into entries and written to the target. Everything streams: memory does not grow with file size.
 *
 * Status: the task succeeds only when every file was applied and the target acknowledged every write (flush). A
 * failure names the file (and archive member), the byte offset and the cause. A stop ends the reading, drains the
 * writes in flight and returns.
 */
import { AofParser, parseManifest } from '../aof/index.ts';
import type { Entry } from '../entry.ts';
import type { RdbParserOptions } from '../rdb/index.ts';
import type { Executor, ExecutorContext, TaskStats } from '../runner/index.ts';
import {
  createS3Client,
  type DataMember,
  type ObjectStore,
  type S3Settings,
  S3Store,
  type S3StoreOptions,
  SourceError,
  unpack,
} from '../sources/index.ts';
import { NO_RESTORE_NOTE, type TargetOptions, TargetWriter } from '../target/index.ts';
import { type PlannedFile, planFiles, readSmall } from './backup-plan.ts';
import { ImportError } from './errors.ts';
import { MemoryGuard } from './memory-guard.ts';
import { TargetSampler } from './target-stats.ts';

export interface BackupImportOptions {
  s3: S3Settings;
  s3Store?: S3StoreOptions;
  /** Writer settings other than the task's own target address and password. */
  target?: Omit<TargetOptions, 'addrs' | 'password'>;
  /** Stats (rates, target keys) are refreshed this often. */
  statsEveryMs?: number;
  /** Where objects come from; an S3Store on the task's bucket by default. */
  store?: (bucket: string) => ObjectStore;
}

export const BACKUP_IMPORT_DEFAULTS = { statsEveryMs: 1000 } as const;

/** Names of multi-part AOF files (`<name>.<seq>.base.rdb|aof`, `<name>.<seq>.incr.aof`). */
const PIECE = /\.(\d+)\.(base\.(rdb|aof)|incr\.aof)$/;

export function backupImportExecutor(opts: BackupImportOptions): Executor {
  return {
    resumable: false,
    run: (ctx) => new BackupImport(ctx, opts).run(),
  };
}

const fmtBytes = (n: number) =>
  n >= 1 << 30
    ? `${(n / 2 ** 30).toFixed(2)} GiB`
    : n >= 1 << 20
      ? `${(n / 2 ** 20).toFixed(1)} MiB`
      : n >= 1024
        ? `${(n / 1024).toFixed(1)} KiB`
        : `${n} B`;

interface Counts {
  keys: number;
  commands: number;
}

class BackupImport {
  private store: ObjectStore | null = null;
  private writer: TargetWriter | null = null;
  private sampler: TargetSampler | null = null;
  private readonly signal: AbortSignal;
  private totalBytes = 0;
  /** Source bytes of passes already finished. */
  private doneBytes = 0;
  private current: { position: number } | null = null;
  private readonly counts: Counts = { keys: 0, commands: 0 };
  private timer: NodeJS.Timeout | null = null;
  private last = { at: 0, bytes: 0, acked: 0 };
  private targetKeys = 0;
  private sampling: Promise<void> | null = null;

  constructor(
    private readonly ctx: ExecutorContext,
    private readonly opts: BackupImportOptions,
  ) {
    this.signal = ctx.signal;
  }

  async run(): Promise<void> {
    const bf = this.ctx.task.backupFiles;
    if (!bf?.files.length) throw new SourceError('SOURCE_ERR_CONFIG', 'the task names no backup files');
    if (bf.fileSource === 'backup_record') {
      throw new SourceError(
        'SOURCE_ERR_CONFIG',
        'file_source "backup_record" is not available: this service keeps no backup records; import from a bucket with "self_build_obs"',
      );
    }
    if (!bf.bucketName) throw new SourceError('SOURCE_ERR_CONFIG', 'backup_files.bucket_name is required');
    const target = this.ctx.task.target;
    this.store = this.opts.store
      ? this.opts.store(bf.bucketName)
      : new S3Store(await createS3Client(this.opts.s3, this.opts.s3Store), bf.bucketName, this.opts.s3Store);
    try {
      await this.ctx.log(
        'INFO',
        'IMPORT_STARTED',
        `Importing ${bf.files.length} file(s) from ${this.store.label} into ${target.addrs}.`,
      );
      this.stats({ isMigrating: true, fullMigrationProgress: '0', sourceDbsize: '0' });
      const plan = await planFiles(
        bf.files.map((f) => f.name),
        this.store,
        this.signal,
      ).catch((err) => {
        throw ImportError.wrap(err, {});
      });
      this.totalBytes = plan.reduce((s, p) => s + p.info.size, 0);
      this.writer = await TargetWriter.connect({
        ...this.opts.target,
        addrs: target.addrs,
        password: target.password,
      }).catch((err) => {
        throw ImportError.wrap(err, { node: target.addrs });
      });
      if (!this.writer.capabilities.restore) {
        await this.ctx.log('WARN', 'TARGET_NO_RESTORE', `Target ${target.addrs}: ${NO_RESTORE_NOTE}`);
      }
      this.sampler = await TargetSampler.open(
        target.addrs,
        target.password,
        this.writer.capabilities.cluster,
      );
      this.startStats();
      for (const file of plan) {
        if (this.signal.aborted) break;
        await this.importObject(file);
      }
      await this.writer.flush().catch((err) => {
        throw ImportError.wrap(err, {});
      });
      this.stopStats();
      await this.sample();
      if (this.signal.aborted) {
        // is_migrating turns false with the status change (the task service), never before it.
        this.stats(this.rates());
        await this.ctx.log(
          'INFO',
          'IMPORT_STOPPED',
          `Stopped: ${this.counts.keys} keys and ${this.counts.commands} commands applied before the stop, all acknowledged.`,
        );
        return;
      }
      const w = this.writer.status();
      this.stats({ fullMigrationProgress: '100', ...this.rates() });
      await this.ctx.log(
        'INFO',
        'IMPORT_FINISHED',
        `Imported ${plan.length} file(s), ${fmtBytes(this.totalBytes)}: ${this.counts.keys} keys and ${this.counts.commands} commands read, ${w.keys} keys written, ${this.targetKeys} keys on the target.`,
      );
    } finally {
      this.stopStats();
      this.sampler?.close();
      await this.writer?.close().catch(() => {
        /* the run's own error (if any) is what the task reports */
      });
      this.store.close();
    }
  }

  // ---- files ----

  private async importObject(file: PlannedFile): Promise<void> {
    const store = this.store!;
    const started = { ...this.counts };
    const t0 = performance.now();
    await this.ctx.log('INFO', 'FILE_STARTED', `File ${file.key} (${fmtBytes(file.info.size)}) started.`, [
      file.key,
    ]);
    let order: string[] | null = null;
    let k = 0;
    const seen = new Set<string>();
    for (let pass = 1; ; pass++) {
      const reader = store.open(file.key, file.info, {
        signal: this.signal,
        onResume: (offset, cause) =>
          void this.ctx.log(
            'WARN',
            'SOURCE_RESUMED',
            `${file.key}: read interrupted at byte ${offset} (${(cause as Error)?.message ?? cause}); resuming from there.`,
            [file.key],
          ),
      });
      this.current = reader;
      try {
        for await (const m of unpack(reader, file.key)) {
          if (this.signal.aborted) break;
          if (m.format === 'unknown' || m.format === 'empty') {
            if (pass === 1)
              await this.ctx.log(
                'WARN',
                'MEMBER_SKIPPED',
                `${m.name}: ${m.format === 'empty' ? 'empty' : 'not a backup format'}, skipped.`,
              );
            continue;
          }
          if (m.format === 'manifest') {
            if (pass === 1) {
              const text = await readSmall(m.body, 1 << 20, m.name);
              order = parseManifest(text.toString('utf8'), m.name).load.map((f) => f.name);
              await this.ctx.log(
                'INFO',
                'MANIFEST_READ',
                `${m.name}: multi-part AOF, loading ${order.join(', ')}.`,
              );
            }
            continue;
          }
          // Set ordering applies inside archives; an object that is itself one file (possibly gzipped) is applied
          // where the task's plan put it.
          const inArchive = m.name !== file.key;
          const piece = inArchive && (PIECE.test(m.baseName) || (order?.includes(m.baseName) ?? false));
          if (!piece) {
            if (pass === 1) await this.applyMember(m, inArchive || file.allowTruncated);
            continue;
          }
          if (pass === 1) seen.add(m.baseName);
          if (order && order[k] === m.baseName) {
            await this.applyMember(m, k === order.length - 1);
            k++;
          }
        }
      } catch (err) {
        // A stop cuts the source short: what fails to parse then is the stop's doing, not the data's.
        if (this.signal.aborted) return;
        throw ImportError.wrap(err, { file: file.key, offset: reader.position });
      }
      this.doneBytes += reader.position;
      this.current = null;
      if (this.signal.aborted) return;
      if (!order && seen.size) order = inferOrder([...seen]);
      if (!order || k >= order.length) break;
      const missing = order.slice(k).find((n) => !seen.has(n));
      if (missing) {
        throw new ImportError(
          'AOF_ERR_MANIFEST',
          `the multi-part AOF manifest lists ${missing}, which ${file.key} does not contain`,
          {
            file: file.key,
          },
        );
      }
      // Files of the set came in another order than the manifest's: read the archive again for the next ones.
      this.totalBytes += file.info.size;
      await this.ctx.log(
        'INFO',
        'ARCHIVE_REREAD',
        `${file.key}: ${order[k]} comes before the files it must follow; reading the archive again (pass ${pass + 1}).`,
      );
    }
    const secs = (performance.now() - t0) / 1000;
    await this.ctx.log(
      'INFO',
      'FILE_FINISHED',
      `File ${file.key} done in ${secs.toFixed(1)} s: ${this.counts.keys - started.keys} keys, ${this.counts.commands - started.commands} commands.`,
      [file.key],
    );
  }

  private rdbOptions(name: string): RdbParserOptions {
    const caps = this.writer!.capabilities;
    return {
      file: name,
      dumpable: (type, flavor) => caps.dumpable(type, flavor),
      dumpRdbVersion: caps.rdbVersion,
      skipExpired: true,
      dumpRuns: true,
      runLayout: this.writer!.runLayout() ?? undefined,
    };
  }

  private async applyMember(m: DataMember, allowTruncated: boolean): Promise<void> {
    const writer = this.writer!;
    // One reader for both: an RDB may be an AOF with a preamble (the content after the RDB tells).
    const aof = new AofParser({ file: m.name, rdb: this.rdbOptions(m.name), rdbFile: m.format === 'rdb' });
    const keys0 = this.counts.keys;
    const cmds0 = this.counts.commands;
    const guard = new MemoryGuard();
    try {
      for await (const chunk of m.body) {
        guard.check();
        if (this.signal.aborted) return;
        const entries = aof.write(chunk);
        const s = aof.status();
        this.counts.keys = keys0 + s.keys;
        this.counts.commands = cmds0 + s.commands;
        if (entries.length) await writer.write(entries);
      }
      const end = aof.end(allowTruncated);
      await this.writeAll(end.entries);
      if (end.truncated) {
        await this.ctx.log(
          'WARN',
          'AOF_TRUNCATED',
          `${m.name}: the file ends inside a command; applied up to the last complete command (byte ${end.truncated.offset}), ${end.truncated.bytes} bytes ignored.`,
        );
      }
      if (end.ignoredTail) {
        await this.ctx.log(
          'WARN',
          'RDB_TRAILING_BYTES',
          `${m.name}: ${end.ignoredTail} bytes after the end of the RDB ignored.`,
        );
      }
      if (end.openTransaction) {
        await this.ctx.log(
          'WARN',
          'AOF_OPEN_MULTI',
          `${m.name}: MULTI without EXEC at the end; its ${end.openTransaction} command(s) were discarded.`,
        );
      }
    } catch (err) {
      throw ImportError.wrap(err, { file: m.name, offset: aof.status().bytes });
    }
  }

  private async writeAll(entries: Entry[]): Promise<void> {
    if (entries.length) await this.writer!.write(entries);
  }

  // ---- stats ----

  private stats(patch: Partial<TaskStats>): void {
    this.ctx.stats(patch);
  }

  private progress(): string {
    if (!this.totalBytes) return '0';
    const done = this.doneBytes + (this.current?.position ?? 0);
    return Math.min(99.99, (done / this.totalBytes) * 100).toFixed(2);
  }

  private rates(): Partial<TaskStats> {
    const now = performance.now();
    const w = this.writer?.status();
    if (!w) return {};
    const dt = (now - this.last.at) / 1000;
    const out =
      this.last.at && dt > 0
        ? {
            targetInputKbps: ((w.bytes - this.last.bytes) / 1024 / dt).toFixed(2),
            targetOps: String(Math.round((w.acked - this.last.acked) / dt)),
          }
        : {};
    this.last = { at: now, bytes: w.bytes, acked: w.acked };
    return { ...out, sourceDbsize: String(this.counts.keys), targetDbsize: String(this.targetKeys) };
  }

  /** Samples the target's key count; a sample already under way is awaited first, so the result is fresh. */
  private async sample(): Promise<void> {
    if (!this.sampler) return;
    while (this.sampling) await this.sampling;
    this.sampling = this.sampler
      .keys()
      .then((n) => {
        this.targetKeys = n;
      })
      .catch(() => {
        /* keep the last value */
      })
      .finally(() => {
        this.sampling = null;
      });
    await this.sampling;
  }

  private startStats(): void {
    this.rates();
    const every = this.opts.statsEveryMs ?? BACKUP_IMPORT_DEFAULTS.statsEveryMs;
    this.timer = setInterval(() => {
      if (!this.sampling) void this.sample();
      this.stats({ fullMigrationProgress: this.progress(), ...this.rates() });
    }, every);
    this.timer.unref();
  }

  private stopStats(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/** Multi-part pieces found without a manifest: the base first, then incr files by seq. */
function inferOrder(names: string[]): string[] {
  const seq = (n: string) => Number(PIECE.exec(n)?.[1] ?? 0);
  const bases = names.filter((n) => /\.base\.(rdb|aof)$/.test(n)).sort((a, b) => seq(b) - seq(a));
  const incrs = names.filter((n) => n.endsWith('.incr.aof')).sort((a, b) => seq(a) - seq(b));
  // Only the newest base is loaded, as Redis would from its manifest.
  return [...bases.slice(0, 1), ...incrs];
}
