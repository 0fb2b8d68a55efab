/**
 * The CRC-64/Jones slicing-by-8 loop as a small WebAssembly kernel: 64-bit XORs and table loads that JavaScript
 * has to split into 32-bit halves run at native width here (about 3× the JS loop). The module is assembled below
 * from its instructions (no build step, no dependency); tables are filled from crc64.ts's JS tables.
 *
 * Memory layout (little-endian):
 *   [0, 8)            running CRC state of `update` (u64)
 *   [64, 16448)       T0..T7, 256 × u64 each: T[k][n] = CRC of byte n followed by k zero bytes
 *   [16448, 65536)    `seal` jobs: (offset u32, length u32) pairs
 *   [65536, …)        data copied in by the caller (DATA_BASE)
 *
 * Exports: `update(p, len)` folds bytes [p, p+len) into the state; `seal(n)` computes, for each of n jobs, the
 * CRC (init 0) of [offset, offset+length-8) and stores it in the last 8 bytes (a DUMP payload's footer).
 */

/** The part of the WebAssembly JS API used here (the project's `lib` has no DOM/WebAssembly typings). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly:
  | {
      Module: new (bytes: Uint8Array) => object;
      Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
    }
  | undefined;

export const TABLES_BASE = 64;
export const JOBS_BASE = TABLES_BASE + 8 * 2048;
export const DATA_BASE = 65536;
export const MAX_JOBS = (DATA_BASE - JOBS_BASE) >> 3;

// Opcodes used (WebAssembly core spec, binary format).
const BLOCK = 0x02;
const LOOP = 0x03;
const VOID = 0x40;
const END = 0x0b;
const BR = 0x0c;
const BR_IF = 0x0d;
const CALL = 0x10;
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_LOAD = 0x28;
const I64_LOAD = 0x29;
const I64_LOAD8_U = 0x31;
const I64_STORE = 0x37;
const I32_CONST = 0x41;
const I64_CONST = 0x42;
const I32_LT_U = 0x49;
const I32_GE_U = 0x4f;
const I32_ADD = 0x6a;
const I32_SUB = 0x6b;
const I32_SHL = 0x74;
const I64_AND = 0x83;
const I64_XOR = 0x85;
const I64_SHR_U = 0x88;
const I32_WRAP_I64 = 0xa7;
const I32 = 0x7f;
const I64 = 0x7e;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 for the small non-negative constants used here. */
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
}

/** Table lookup of byte j (0 = lowest) of the i64 in local `v`: pushes T[7-j][byte]. */
function lookup(v: number, j: number): number[] {
  const code = [LOCAL_GET, v];
  if (j > 0) code.push(I64_CONST, ...sleb(8 * j), I64_SHR_U);
  if (j < 7) code.push(I64_CONST, ...sleb(0xff), I64_AND);
  code.push(I32_WRAP_I64, I32_CONST, 3, I32_SHL, I64_LOAD, 3, ...uleb(TABLES_BASE + (7 - j) * 2048));
  return code;
}

/** func crc(p i32, len i32, crc i64) -> i64 (locals: end i32 = 3, v i64 = 4). */
function crcBody(): number[] {
  const P = 0;
  const LEN = 1;
  const CRC = 2;
  const E = 3;
  const V = 4;
  const code: number[] = [LOCAL_GET, P, LOCAL_GET, LEN, I32_ADD, LOCAL_SET, E];
  // 8 bytes at a time while at least 8 remain.
  code.push(BLOCK, VOID, LOOP, VOID);
  code.push(LOCAL_GET, E, LOCAL_GET, P, I32_SUB, I32_CONST, 8, I32_LT_U, BR_IF, 1);
  code.push(LOCAL_GET, P, I64_LOAD, 0, 0, LOCAL_GET, CRC, I64_XOR, LOCAL_SET, V);
  code.push(...lookup(V, 0));
  for (let j = 1; j < 8; j++) code.push(...lookup(V, j), I64_XOR);
  code.push(LOCAL_SET, CRC);
  code.push(LOCAL_GET, P, I32_CONST, 8, I32_ADD, LOCAL_SET, P, BR, 0, END, END);
  // The rest byte by byte.
  code.push(BLOCK, VOID, LOOP, VOID);
  code.push(LOCAL_GET, P, LOCAL_GET, E, I32_GE_U, BR_IF, 1);
  code.push(LOCAL_GET, CRC, LOCAL_GET, P, I64_LOAD8_U, 0, 0, I64_XOR, I64_CONST, ...sleb(0xff), I64_AND);
  code.push(I32_WRAP_I64, I32_CONST, 3, I32_SHL, I64_LOAD, 3, ...uleb(TABLES_BASE));
  code.push(LOCAL_GET, CRC, I64_CONST, 8, I64_SHR_U, I64_XOR, LOCAL_SET, CRC);
  code.push(LOCAL_GET, P, I32_CONST, 1, I32_ADD, LOCAL_SET, P, BR, 0, END, END);
  code.push(LOCAL_GET, CRC, END);
  return [
    ...vec([
      [1, I32],
      [1, I64],
    ]),
    ...code,
  ];
}

/** func update(p i32, len i32): state = crc(p, len, state). */
function updateBody(): number[] {
  const code = [I32_CONST, 0, LOCAL_GET, 0, LOCAL_GET, 1, I32_CONST, 0, I64_LOAD, 3, 0, CALL, 0];
  code.push(I64_STORE, 3, 0, END);
  return [0, ...code];
}

/** func seal(n i32) (locals: job i32 = 1, end i32 = 2, off i32 = 3, len i32 = 4). */
function sealBody(): number[] {
  const N = 0;
  const JOB = 1;
  const E = 2;
  const OFF = 3;
  const LEN = 4;
  const code: number[] = [I32_CONST, ...sleb(JOBS_BASE), LOCAL_SET, JOB];
  code.push(I32_CONST, ...sleb(JOBS_BASE), LOCAL_GET, N, I32_CONST, 3, I32_SHL, I32_ADD, LOCAL_SET, E);
  code.push(BLOCK, VOID, LOOP, VOID);
  code.push(LOCAL_GET, JOB, LOCAL_GET, E, I32_GE_U, BR_IF, 1);
  code.push(LOCAL_GET, JOB, I32_LOAD, 2, 0, LOCAL_SET, OFF);
  code.push(LOCAL_GET, JOB, I32_LOAD, 2, 4, I32_CONST, 8, I32_SUB, LOCAL_SET, LEN);
  // store address: off + len (the footer's CRC field)
  code.push(LOCAL_GET, OFF, LOCAL_GET, LEN, I32_ADD);
  code.push(LOCAL_GET, OFF, LOCAL_GET, LEN, I64_CONST, 0, CALL, 0);
  code.push(I64_STORE, 0, 0);
  code.push(LOCAL_GET, JOB, I32_CONST, 8, I32_ADD, LOCAL_SET, JOB, BR, 0, END, END, END);
  return [...vec([[4, I32]]), ...code];
}

function moduleBytes(): Uint8Array {
  const body = (b: number[]) => [...uleb(b.length), ...b];
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(
      1,
      vec([
        [0x60, ...vec([[I32], [I32], [I64]]), ...vec([[I64]])],
        [0x60, ...vec([[I32], [I32]]), ...vec([])],
        [0x60, ...vec([[I32]]), ...vec([])],
      ]),
    ),
    ...section(3, vec([[0], [1], [2]])),
    ...section(5, vec([[0x00, 2]])),
    ...section(
      7,
      vec([
        [...name('mem'), 0x02, 0],
        [...name('update'), 0x00, 1],
        [...name('seal'), 0x00, 2],
      ]),
    ),
    ...section(10, vec([body(crcBody()), body(updateBody()), body(sealBody())])),
  ];
  return Uint8Array.from(bytes);
}

export interface Crc64Kernel {
  memory: WasmMemory;
  update(p: number, len: number): void;
  seal(n: number): void;
}

/** Instantiates the kernel with the given tables (lo/hi halves of T0..T7), or null where WebAssembly is absent. */
export function createKernel(tlo: Uint32Array[], thi: Uint32Array[]): Crc64Kernel | null {
  if (typeof WebAssembly === 'undefined') return null;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), {});
    const ex = instance.exports as unknown as Crc64Kernel & { mem: WasmMemory };
    const words = new Uint32Array(ex.mem.buffer);
    for (let k = 0; k < 8; k++) {
      for (let n = 0; n < 256; n++) {
        const w = (TABLES_BASE + k * 2048 + n * 8) >> 2;
        words[w] = tlo[k][n];
        words[w + 1] = thi[k][n];
      }
    }
    return { memory: ex.mem, update: ex.update, seal: ex.seal };
  } catch {
    return null;
  }
}
