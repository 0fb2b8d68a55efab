/**
 * RDB bytes → entries → target: the snapshot path shared by the CLI import, backup import and the full sync of
 * online migration. Backpressure is end to end: the next chunk is read only once the writer has room.
 */
import { RdbParser } from '../rdb/index.ts';
import type { TargetWriter } from '../target/index.ts';
import { MemoryGuard } from './memory-guard.ts';

const PARSE_SLICE = 128 * 1024;

export interface ImportProgress {
  /** Bytes of the RDB consumed so far. */
  bytes: number;
  /** Size of the input when known (for a percentage). */
  totalBytes: number | null;
  /** Keys read from the file. */
  keysRead: number;
  /** Keys the target acknowledged. */
  keysWritten: number;
  expiredSkipped: number;
}

export interface ImportOptions {
  /** Name for error messages. */
  file?: string;
  totalBytes?: number | null;
  signal?: AbortSignal;
  /** Called at most every `progressEveryMs`. */
  onProgress?: (p: ImportProgress) => void;
  progressEveryMs?: number;
  /**
   * False: write every key as ordinary commands even where the target would accept RESTORE of the raw value (for
   * targets that disable or rename RESTORE, and to exercise the command path). Default true.
   */
  restore?: boolean;
}

export interface ImportSummary extends ImportProgress {
  seconds: number;
  /** False when stopped by the signal (in-flight writes were still drained). */
  completed: boolean;
}

export async function importRdb(
  source: AsyncIterable<Buffer>,
  writer: TargetWriter,
  opts: ImportOptions = {},
): Promise<ImportSummary> {
  const started = performance.now();
  const caps = writer.capabilities;
  const parser = new RdbParser({
    file: opts.file,
    dumpable: opts.restore === false ? () => false : (type, flavor) => caps.dumpable(type, flavor),
    dumpRdbVersion: caps.rdbVersion,
    skipExpired: true,
    dumpRuns: true,
    runLayout: writer.runLayout() ?? undefined,
  });
  const every = opts.progressEveryMs ?? 250;
  let last = 0;
  const progress = (): ImportProgress => {
    const s = parser.status();
    return {
      bytes: s.bytes,
      totalBytes: opts.totalBytes ?? null,
      keysRead: s.keys,
      keysWritten: writer.status().keys,
      expiredSkipped: s.expiredSkipped,
    };
  };
  let completed = true;
  const guard = new MemoryGuard();
  for await (const chunk of source) {
    guard.check();
    if (opts.signal?.aborted) {
      completed = false;
      break;
    }
    // Parsed in slices so the target keeps work queued while the next slice is decoded: a whole 1 MiB chunk
    // yields more keys than the writer keeps in flight, and decoding it at once would leave the target idle.
    for (let at = 0; at < chunk.length; at += PARSE_SLICE) {
      const entries = parser.write(chunk.subarray(at, Math.min(chunk.length, at + PARSE_SLICE)));
      if (entries.length) await writer.write(entries);
    }
    if (opts.onProgress && performance.now() - last >= every) {
      last = performance.now();
      opts.onProgress(progress());
    }
    if (parser.finished) break;
  }
  if (completed) {
    const tail = parser.end();
    if (tail.length) await writer.write(tail);
  }
  await writer.flush();
  const p = progress();
  opts.onProgress?.(p);
  return { ...p, seconds: (performance.now() - started) / 1000, completed };
}
