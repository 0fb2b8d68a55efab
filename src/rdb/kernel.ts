/**
 * The decoder's WebAssembly kernel (source: wasm/kernel.ts, AssemblyScript; `npm run build:kernel` writes
 * kernel.wasm next to this file and `npm test` checks that the committed binary is the source's build). It holds
 * the byte loops JavaScript runs slowly: CRC-64 at native width (crc64.ts) and the lane that turns the common keys
 * of a snapshot into finished dump-run pieces (parser.ts). One instance per process; its memory map is fixed and
 * read from the module's exported globals, so the two sides cannot disagree on an offset.
 *
 * `kernel` is null where WebAssembly is unavailable (e.g. `node --jitless`): the callers then run their
 * JavaScript paths, slower but identical in output.
 */
import { readFileSync } from 'node:fs';

/** The part of the WebAssembly JS API used here (the project's `lib` has no WebAssembly typings). */
declare const WebAssembly:
  | {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
    }
  | undefined;

export interface Kernel {
  /** Views on the kernel's memory (it never grows after init, so they stay valid). */
  readonly mem: Uint8Array;
  readonly u32: Uint32Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly STATE: number;
  readonly RESULT: number;
  readonly JOBS: number;
  readonly MAX_JOBS: number;
  readonly DATA: number;
  readonly DATA_CAP: number;
  readonly IN: number;
  readonly IN_CAP: number;
  readonly OUT: number;
  readonly OUT_CAP: number;
  readonly META: number;
  readonly META_EXP: number;
  readonly META_KEYS: number;
  update(p: number, len: number): void;
  seal(jobs: number): void;
  lane(
    at: number,
    end: number,
    outCap: number,
    keyCap: number,
    base: number,
    types: number,
    restore: number,
    ver: number,
    maxItem: number,
    maxPiece: number,
    drop: number,
    now: number,
    expireIn: number,
  ): number;
  skip(at: number, end: number, max: number, shape: number, maxItem: number): number;
  shift(n: number): void;
  /** Deep check of a CHECK_* blob of `n` bytes at DATA (LZF expanding to `raw` when not 0): its count, or -1. */
  check(kind: number, n: number, raw: number): number;
}

/** Blob kinds of `check` (wasm/kernel.ts CHECK_*). */
export const CHECK_ZIPLIST = 0;
export const CHECK_LISTPACK = 1;
export const CHECK_INTSET = 2;

/**
 * The element count of a ziplist, listpack or intset (CHECK_*) when the kernel's deep check passes; -1 when it
 * fails, there is no kernel, or the blob does not fit: the caller then checks in JavaScript (and names the
 * failure). `bytes` are LZF that expand to `raw` bytes when `raw` is not 0. The JavaScript checks accept nothing
 * the kernel rejects, and the other way round.
 */
export function kernelCount(kind: number, bytes: Uint8Array, raw = 0): number {
  const k = kernel;
  if (k === null || bytes.length > k.DATA_CAP) return -1;
  k.mem.set(bytes, k.DATA);
  return k.check(kind, bytes.length, raw);
}

/** Lane results, u32 index from RESULT (wasm/kernel.ts R_*). */
export const R_KEYS = 0;
export const R_OUT = 1;
export const R_EXPIRED = 2;
export const R_EMPTY = 3;

function load(): Kernel | null {
  if (typeof WebAssembly === 'undefined') return null;
  const bytes = readFileSync(new URL('./kernel.wasm', import.meta.url));
  const x = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
  (x.init as () => void)();
  const buffer = (x.memory as { buffer: ArrayBuffer }).buffer;
  const g = (name: string) => (x[name] as { value: number }).value;
  return {
    mem: new Uint8Array(buffer),
    u32: new Uint32Array(buffer),
    i32: new Int32Array(buffer),
    f64: new Float64Array(buffer),
    STATE: g('STATE'),
    RESULT: g('RESULT'),
    JOBS: g('JOBS'),
    MAX_JOBS: g('MAX_JOBS'),
    DATA: g('DATA'),
    DATA_CAP: g('DATA_CAP'),
    IN: g('IN'),
    IN_CAP: g('IN_CAP'),
    OUT: g('OUT'),
    OUT_CAP: g('OUT_CAP'),
    META: g('META'),
    META_EXP: g('META_EXP'),
    META_KEYS: g('META_KEYS'),
    update: x.update as Kernel['update'],
    seal: x.seal as Kernel['seal'],
    lane: x.lane as Kernel['lane'],
    skip: x.skip as Kernel['skip'],
    shift: x.shift as Kernel['shift'],
    check: x.check as Kernel['check'],
  };
}

export const kernel: Kernel | null = load();
