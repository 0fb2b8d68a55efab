/**
 * Keeps the import process's memory bounded when the input is made of big values. Input chunks, DUMP payloads and
 * encoded commands are Buffers outside the JS heap; V8 schedules collections by the JS heap, which stays small
 * during an import, so freed Buffers can pile up far beyond what is in flight (1.4 GB RSS for a 1 GB file of big
 * strings, with 64 MB in flight). The guard asks for a full collection whenever ArrayBuffer memory has grown by
 * `stepBytes` since the last one; with many small keys it never fires.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;

/** The engine's `gc()`, made reachable without starting node with --expose-gc (null where that fails). */
function gcFunction(): (() => void) | null {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const f = runInNewContext('gc') as unknown;
      collect = typeof f === 'function' ? (f as () => void) : null;
    } catch {
      collect = null;
    }
  }
  return collect;
}

export class MemoryGuard {
  private base: number;
  private readonly gc: (() => void) | null;

  constructor(private readonly stepBytes: number) {
    this.gc = gcFunction();
    this.base = process.memoryUsage().arrayBuffers;
  }

  /** Cheap enough per input chunk (a heap statistics read). */
  check(): void {
    if (!this.gc) return;
    if (process.memoryUsage().arrayBuffers < this.base + this.stepBytes) return;
    this.gc();
    this.base = process.memoryUsage().arrayBuffers;
  }
}
