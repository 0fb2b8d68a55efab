/**
 * Keeps the import process's memory bounded when the input is made of big values. Input chunks, DUMP payloads and
 * encoded commands are Buffers outside the JS heap; V8 schedules collections by the JS heap, which stays small
 * during an import, so freed Buffers can pile up far beyond what is in flight (1.4 GB RSS for a 1 GB file of big
 * strings, with 64 MB in flight). The guard asks for a full collection whenever ArrayBuffer memory has grown by
 * `stepBytes` since the last one; with many small keys it never fires.
 *
 * Big collections are the opposite case: every member decoded is a short-lived Buffer view on the JS heap, and V8
 * lets the old generation grow to several times what is live (about 20 MB) before it collects. A lower heap growing
 * factor (HEAP_GROWING_PERCENT) makes it collect sooner: importing a 3M-member list, hash and zset peaked at 286-317
 * MB RSS by default and 211-227 MB with it, in the same time. It is a process-wide V8 setting, made once by the
 * first guard; the processes that import (CLI, service) want it everywhere.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;
let tuned = false;

/** Growth of Buffer memory that triggers a collection. */
const GC_STEP_BYTES = 32 * 1024 * 1024;
/** Old generation allowed to grow to live size × 1.3 before the next full collection (V8's default is 1.1-4×). */
const HEAP_GROWING_PERCENT = 30;

function tuneHeapGrowth(): void {
  if (tuned) return;
  tuned = true;
  try {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  } catch {
    /* an engine without the flag keeps its default */
  }
}

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

  constructor(private readonly stepBytes = GC_STEP_BYTES) {
    this.gc = gcFunction();
    tuneHeapGrowth();
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
