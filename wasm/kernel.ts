// The RDB kernel: the byte loops of the decoder that JavaScript runs slowly, in AssemblyScript compiled to
// WebAssembly (`npm run build:kernel` writes src/rdb/kernel.wasm; `npm test` rebuilds it and fails when the
// committed binary is not this source's build).
//
//   - CRC-64/Jones (Redis crc64.c: reflected, polynomial 0xad93d23594c935a9, init 0, no final xor) by
//     slicing-by-16 at native 64-bit width: the file checksum (`update`) and the footers of DUMP payloads (`seal`).
//   - The lane (`lane`): the common keys of a snapshot (strings, compact encodings, and plain collections that fit
//     a run piece), taken from a window of the input straight into finished pieces of a dump run (key + DUMP
//     payload, or the whole RESTORE command), CRC sealed, with their run metadata.
//   - Element skipping (`skip`) through big collections whose dumps are captured by the parser.
//   - Deep checks (`check`) of the ziplists, listpacks and intsets of dumps the lane does not take (big lists'
//     nodes, LZF expanded here): a target restores them as they are, so they are checked as deeply as decoded ones.
//
// The lane is an accelerator, never a judge: at anything it does not take whole (an opcode other than
// EXPIRETIME_MS, IDLE or FREQ, a type it was not given, a key or value cut by the window end, an encoding it does
// not check, a blob whose integrity check fails, a piece too big), it stops and the JavaScript parser goes on from
// that key, with its full error reporting. Its checks are those of the parser's dump path or stricter, so what the
// lane takes the parser would have taken too, with the same bytes.
//
// Memory map (fixed offsets, exported as globals; page 0 is left to the compiler's static data):

export const TABLES: u32 = 65536; // T0..T15, 256 × u64 each: T[k][n] = CRC of byte n followed by k zero bytes
export const STATE: u32 = TABLES + 16 * 2048; // running CRC of `update` (u64)
export const RESULT: u32 = STATE + 64; // lane results, u32 each: see R_* below
export const JOBS: u32 = RESULT + 64; // seal jobs: (offset u32, length u32 without the footer), up to DATA
export const DATA: u32 = 131072; // bytes copied in for `update` and `seal`
export const MAX_JOBS: u32 = (DATA - JOBS) >> 3;
export const DATA_CAP: u32 = 1 << 20;
// The lane's input window and output area: 256 KiB each keeps them in the core's cache with everything else the
// lane touches (1 MiB each measured 4% slower; more lane calls cost nothing measurable).
export const IN: u32 = DATA + DATA_CAP; // the lane's input window
export const IN_CAP: u32 = 1 << 18;
export const OUT: u32 = IN + IN_CAP; // the lane's output: pieces of the run
export const OUT_CAP: u32 = 1 << 18;
export const META: u32 = OUT + OUT_CAP + 64; // the lane's run metadata: i32 × META_STRIDE per key
export const META_STRIDE: u32 = 8;
export const META_KEYS: u32 = 4096;
export const META_EXP: u32 = META + META_KEYS * META_STRIDE * 4; // and each key's expiry (f64)
const SCRATCH: u32 = META_EXP + META_KEYS * 8; // LZF-compressed blobs are expanded here to be checked
export const SCRATCH_CAP: u32 = 1 << 16;
const SEALS: u32 = SCRATCH + SCRATCH_CAP + 64; // the lane's dumps awaiting their CRC: (offset u32, length u32)
const X2N: u32 = SEALS + META_KEYS * 8; // x^(2^k) mod P for k = 0..63 (u64 each), for `shift`
const END: u32 = X2N + 64 * 8;

// Lane results (u32 index into RESULT).
const R_KEYS = 0; // keys written to the run
const R_OUT = 1; // bytes of OUT used
const R_EXPIRED = 2; // keys skipped as already expired
const R_EMPTY = 3; // empty collections skipped

// Run metadata fields, as src/entry.ts RUN_*.
const M_CMD_AT = 0;
const M_CMD_LEN = 1;
const M_KEY_AT = 2;
const M_KEY_LEN = 3;
const M_DUMP_AT = 4;
const M_DUMP_LEN = 5;
const M_IDLE = 6;
const M_FREQ = 7;

const POLY: u64 = 0x95ac9329ac4bc9b5; // 0xad93d23594c935a9 bit-reversed

/** Grows the memory to the map's size and builds the CRC tables. Call once. */
export function init(): void {
  const pages = (END + 0xffff) >> 16;
  const have = <u32>memory.size();
  if (have < pages) memory.grow(pages - have);
  for (let n: u32 = 0; n < 256; n++) {
    let crc: u64 = n;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >> 1) ^ POLY : crc >> 1;
    store<u64>(TABLES + (n << 3), crc);
  }
  for (let k: u32 = 1; k < 16; k++) {
    for (let n: u32 = 0; n < 256; n++) {
      const prev = load<u64>(TABLES + (k - 1) * 2048 + (n << 3));
      store<u64>(TABLES + k * 2048 + (n << 3), (prev >> 8) ^ load<u64>(TABLES + (<u32>(prev & 0xff) << 3)));
    }
  }
  let p: u64 = <u64>1 << 62; // x^1 (reflected: bit 63 is x^0)
  for (let k: u32 = 0; k < 64; k++) {
    store<u64>(X2N + (k << 3), p);
    p = mulmod(p, p);
  }
}

/** a·b mod P, polynomials in the CRC register's reflected form (zlib's multmodp, at 64 bits). */
function mulmod(a: u64, b: u64): u64 {
  let m: u64 = <u64>1 << 63;
  let p: u64 = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = b & 1 ? (b >> 1) ^ POLY : b >> 1;
  }
  return p;
}

/**
 * The register at STATE as if `n` zero bytes followed: multiplied by x^(8n) mod P, in O(log n) products. The CRC
 * is linear, so crc(A‖B) = shift(crc(A), |B|) ^ crc(B): a CRC over bytes already folded into another one (a big
 * value inside the file's checksum) is had from the two registers around them instead of a second pass.
 */
export function shift(n: f64): void {
  let bits = <u64>n;
  let k: u32 = 3;
  let x: u64 = <u64>1 << 63;
  while (bits != 0) {
    if (bits & 1) x = mulmod(load<u64>(X2N + ((k & 63) << 3)), x);
    bits >>= 1;
    k++;
  }
  store<u64>(STATE, mulmod(x, load<u64>(STATE)));
}

@inline
function t(k: u32, v: u64): u64 {
  return load<u64>(TABLES + k * 2048 + (<u32>(v & 0xff) << 3));
}

/**
 * 16 bytes at `p` folded into `crc` (slicing-by-16). Each lookup indexes by a byte of a 32-bit half, shifted and
 * masked straight to its offset (byte × 8), with the table's base as the load's constant offset; the XOR tree is
 * balanced, so only the XORs chain one step to the next.
 */
@inline
function step16(crc: u64, p: u32): u64 {
  const v = crc ^ load<u64>(p);
  const a = <u32>v;
  const b = <u32>(v >> 32);
  const c = load<u32>(p + 8);
  const d = load<u32>(p + 12);
  return (
    (load<u64>((a << 3) & 0x7f8, TABLES + 30720) ^
      load<u64>((a >> 5) & 0x7f8, TABLES + 28672) ^
      (load<u64>((a >> 13) & 0x7f8, TABLES + 26624) ^ load<u64>((a >> 21) & 0x7f8, TABLES + 24576))) ^
    (load<u64>((b << 3) & 0x7f8, TABLES + 22528) ^
      load<u64>((b >> 5) & 0x7f8, TABLES + 20480) ^
      (load<u64>((b >> 13) & 0x7f8, TABLES + 18432) ^ load<u64>((b >> 21) & 0x7f8, TABLES + 16384))) ^
    ((load<u64>((c << 3) & 0x7f8, TABLES + 14336) ^
      load<u64>((c >> 5) & 0x7f8, TABLES + 12288) ^
      (load<u64>((c >> 13) & 0x7f8, TABLES + 10240) ^ load<u64>((c >> 21) & 0x7f8, TABLES + 8192))) ^
      (load<u64>((d << 3) & 0x7f8, TABLES + 6144) ^
        load<u64>((d >> 5) & 0x7f8, TABLES + 4096) ^
        (load<u64>((d >> 13) & 0x7f8, TABLES + 2048) ^ load<u64>((d >> 21) & 0x7f8, TABLES + 0))))
  );
}

/** CRC-64 of [p, p+n) from register `crc`. */
function crc64(crc: u64, p: u32, n: u32): u64 {
  const end = p + n;
  while (end - p >= 16) {
    crc = step16(crc, p);
    p += 16;
  }
  // The rest in steps of 8, 4, 2 and 1 bytes (a k-byte step: the register shifted by k bytes, XOR tables k-1..0
  // for its low k bytes XOR the data): dumps are short, and a byte loop would be most of their cost.
  if (end - p >= 8) {
    const v = crc ^ load<u64>(p);
    const a = <u32>v;
    const b = <u32>(v >> 32);
    crc =
      load<u64>((a << 3) & 0x7f8, TABLES + 14336) ^
      load<u64>((a >> 5) & 0x7f8, TABLES + 12288) ^
      (load<u64>((a >> 13) & 0x7f8, TABLES + 10240) ^ load<u64>((a >> 21) & 0x7f8, TABLES + 8192)) ^
      (load<u64>((b << 3) & 0x7f8, TABLES + 6144) ^
        load<u64>((b >> 5) & 0x7f8, TABLES + 4096) ^
        (load<u64>((b >> 13) & 0x7f8, TABLES + 2048) ^ load<u64>((b >> 21) & 0x7f8, TABLES)));
    p += 8;
  }
  if (end - p >= 4) {
    const a = <u32>crc ^ load<u32>(p);
    crc =
      (crc >> 32) ^
      (load<u64>((a << 3) & 0x7f8, TABLES + 6144) ^
        load<u64>((a >> 5) & 0x7f8, TABLES + 4096) ^
        (load<u64>((a >> 13) & 0x7f8, TABLES + 2048) ^ load<u64>((a >> 21) & 0x7f8, TABLES)));
    p += 4;
  }
  if (end - p >= 2) {
    const a = <u32>crc ^ <u32>load<u16>(p);
    crc = (crc >> 16) ^ load<u64>((a << 3) & 0x7f8, TABLES + 2048) ^ load<u64>((a >> 5) & 0x7f8, TABLES);
    p += 2;
  }
  if (p < end) crc = t(0, crc ^ <u64>load<u8>(p)) ^ (crc >> 8);
  return crc;
}

/**
 * For each of `n` (offset, length) pairs at `jobs`, the CRC of [offset, offset+length) goes into the 8 bytes after
 * it. Four dumps at a time, 16 bytes of each per step: their chains are independent, so the CPU overlaps them (a
 * short dump alone is bound by the latency of its one chain).
 */
function sealMany(jobs: u32, n: u32): void {
  let j: u32 = 0;
  for (; j + 4 <= n; j += 4) {
    const q = jobs + j * 8;
    const a0 = load<u32>(q);
    const a1 = load<u32>(q + 8);
    const a2 = load<u32>(q + 16);
    const a3 = load<u32>(q + 24);
    const l0 = load<u32>(q + 4);
    const l1 = load<u32>(q + 12);
    const l2 = load<u32>(q + 20);
    const l3 = load<u32>(q + 28);
    const common = min(min(l0, l1), min(l2, l3)) & ~15;
    let c0: u64 = 0;
    let c1: u64 = 0;
    let c2: u64 = 0;
    let c3: u64 = 0;
    for (let k: u32 = 0; k < common; k += 16) {
      c0 = step16(c0, a0 + k);
      c1 = step16(c1, a1 + k);
      c2 = step16(c2, a2 + k);
      c3 = step16(c3, a3 + k);
    }
    store<u64>(a0 + l0, crc64(c0, a0 + common, l0 - common));
    store<u64>(a1 + l1, crc64(c1, a1 + common, l1 - common));
    store<u64>(a2 + l2, crc64(c2, a2 + common, l2 - common));
    store<u64>(a3 + l3, crc64(c3, a3 + common, l3 - common));
  }
  for (; j < n; j++) {
    const at = load<u32>(jobs + j * 8);
    const len = load<u32>(jobs + j * 8 + 4);
    store<u64>(at + len, crc64(0, at, len));
  }
}

/** Folds bytes [p, p+len) into the running CRC at STATE. */
export function update(p: u32, len: u32): void {
  store<u64>(STATE, crc64(load<u64>(STATE), p, len));
}

/** For each of `n` jobs at JOBS (offset, length of the bytes before the footer), the footer gets their CRC. */
export function seal(n: u32): void {
  sealMany(JOBS, n);
}

// ---- The lane -------------------------------------------------------------------------------------------------

const RDB_TYPE_STRING: u32 = 0;
const RDB_TYPE_ZSET: u32 = 3;
const RDB_TYPE_HASH: u32 = 4;
const RDB_TYPE_ZSET_2: u32 = 5;
const RDB_TYPE_LIST_ZIPLIST: u32 = 10;
const RDB_TYPE_SET_INTSET: u32 = 11;
const RDB_TYPE_ZSET_ZIPLIST: u32 = 12;
const RDB_TYPE_HASH_ZIPLIST: u32 = 13;
const RDB_TYPE_LIST_QUICKLIST: u32 = 14;
const RDB_TYPE_HASH_LISTPACK: u32 = 16;
const RDB_TYPE_ZSET_LISTPACK: u32 = 17;
const RDB_TYPE_LIST_QUICKLIST_2: u32 = 18;
const RDB_TYPE_SET_LISTPACK: u32 = 20;
const RDB_OPCODE_EXPIRETIME_MS: u32 = 0xfc;
const RDB_OPCODE_IDLE: u32 = 0xf8;
const RDB_OPCODE_FREQ: u32 = 0xf9;
const MAX_SAFE: f64 = 9007199254740991;

// What the last `str` parse found: the header's size, the payload's size in the input (raw length, int width or
// compressed length) and the bytes it stands for (0 for ints).
let hdrSize: u32 = 0;
let payload: u32 = 0;
let rawLen: u32 = 0;
let isLzf = false;
let isInt = false;
// Elements counted by the last blob check.
let count: u32 = 0;

/**
 * An RDB length at `p` (no special encoding, at most 2^32-1), its field's size in `hdrSize`; -1 when it is not
 * such a length or not whole before `end`.
 */
function len(p: u32, end: u32): i64 {
  if (p >= end) return -1;
  const b = <u32>load<u8>(p);
  const kind = b >> 6;
  if (kind == 0) {
    hdrSize = 1;
    return b & 0x3f;
  }
  if (kind == 1) {
    if (p + 2 > end) return -1;
    hdrSize = 2;
    return ((b & 0x3f) << 8) | load<u8>(p + 1);
  }
  if (b == 0x80) {
    if (p + 5 > end) return -1;
    hdrSize = 5;
    return bswap<u32>(load<u32>(p + 1));
  }
  return -1; // 64-bit lengths are never this small; special encodings are not lengths
}

/**
 * The string header at `p` (raw, INT8/16/32, or LZF with both lengths): true and hdrSize/payload/rawLen/isLzf set,
 * or false when it is anything else or not whole before `end`. Payloads above `maxItem` are refused.
 */
function str(p: u32, end: u32, maxItem: u32): bool {
  if (p >= end) return false;
  const b = <u32>load<u8>(p);
  if (b >> 6 != 3) {
    const n = len(p, end);
    if (n < 0 || <u64>n > maxItem) return false;
    payload = <u32>n;
    rawLen = payload;
    isLzf = false;
    isInt = false;
    return true;
  }
  const enc = b & 0x3f;
  if (enc <= 2) {
    hdrSize = 1;
    payload = 1 << enc;
    rawLen = 0;
    isLzf = false;
    isInt = true;
    return true;
  }
  if (enc != 3) return false;
  const c = len(p + 1, end);
  if (c < 0) return false;
  const s1 = hdrSize;
  const r = len(p + 1 + s1, end);
  if (r < 0) return false;
  hdrSize = 1 + s1 + hdrSize;
  if (<u64>c > maxItem || <u64>r > maxItem || <u64>r > <u64>c * 88 + 32) return false;
  payload = <u32>c;
  rawLen = <u32>r;
  isLzf = true;
  isInt = false;
  return true;
}

/**
 * Copies n bytes from `src` to `dst` 8 at a time (most copies here are tiny; memory.copy is a call). Writes up to
 * 7 bytes past dst+n, which the piece's next bytes or the area's slack absorb, and reads up to 7 past src+n.
 */
@inline
function copy8(dst: u32, src: u32, n: u32): void {
  for (let i: u32 = 0; i < n; i += 8) store<u64>(dst + i, load<u64>(src + i));
}

/** A copy between distinct areas that may write up to 7 bytes past dst+n (as copy8), whatever its size. */
@inline
function copy(dst: u32, src: u32, n: u32): void {
  if (n <= 256) copy8(dst, src, n);
  else memory.copy(dst, src, n);
}

/** LZF-expands [ip, ipEnd) into `out`, which it must fill exactly with `outLen` bytes (lzf_d.c CHECK_INPUT). */
function lzf(ip: u32, ipEnd: u32, out: u32, outLen: u32): bool {
  let op: u32 = 0;
  while (ip < ipEnd) {
    let ctrl = <u32>load<u8>(ip++);
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outLen || ip + ctrl > ipEnd) return false;
      copy8(out + op, ip, ctrl);
      op += ctrl;
      ip += ctrl;
    } else {
      let n = ctrl >> 5;
      if (ip >= ipEnd) return false;
      if (n == 7) {
        n += load<u8>(ip++);
        if (ip >= ipEnd) return false;
      }
      const back = ((ctrl & 0x1f) << 8) + <u32>load<u8>(ip++) + 1;
      n += 2;
      if (op + n > outLen || back > op) return false;
      let ref = out + op - back;
      // A reference may overlap the bytes it produces (the format means byte by byte): 8 at a time is the same
      // when they are 8 or more apart, a run of one byte is a fill.
      if (back >= 8) copy8(out + op, ref, n);
      else if (back == 1) memory.fill(out + op, load<u8>(ref), n);
      else {
        const stop = out + op + n;
        for (let q = out + op; q < stop; q++) store<u8>(q, load<u8>(ref++));
      }
      op += n;
    }
  }
  return op == outLen;
}

/** The blob at [p, p+n) expanded when LZF (into SCRATCH); returns its start, or 0 when it does not expand. */
function blob(p: u32, n: u32): u32 {
  if (!isLzf) return p;
  return rawLen <= SCRATCH_CAP && lzf(p, p + n, SCRATCH, rawLen) ? SCRATCH : 0;
}

/** Size of the back-length of a listpack entry of `l` bytes (lpEncodeBacklen). */
@inline
function backlenSize(l: u32): u32 {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/**
 * Listpack integrity, deep (listpack.c lpValidateIntegrity + lpValidateNext, as encodings/listpack.ts): header
 * size, terminator, every entry and its back-length inside the blob, the element count; the count in `count`.
 */
function listpack(lp: u32, n: u32): bool {
  if (n < 7 || load<u32>(lp) != n || load<u8>(lp + n - 1) != 0xff) return false;
  const numele = <u32>load<u16>(lp + 4);
  const last = lp + n - 1;
  let p = lp + 6;
  let c: u32 = 0;
  while (p < last) {
    const b = <u32>load<u8>(p);
    let entry: u32;
    if ((b & 0x80) == 0) entry = 1;
    else if ((b & 0xc0) == 0x80) entry = 1 + (b & 0x3f);
    else if ((b & 0xe0) == 0xc0) entry = 2;
    else if ((b & 0xf0) == 0xe0) {
      if (p + 2 > last) return false;
      entry = 2 + (((b & 0x0f) << 8) | load<u8>(p + 1));
    } else if (b == 0xf1) entry = 3;
    else if (b == 0xf2) entry = 4;
    else if (b == 0xf3) entry = 5;
    else if (b == 0xf4) entry = 9;
    else if (b == 0xf0) {
      if (p + 5 > last) return false;
      const l = load<u32>(p + 1);
      if (l > n) return false;
      entry = 5 + l;
    } else return false;
    const bl = backlenSize(entry);
    if (<u64>p + entry + bl > <u64>last) return false;
    const next = p + entry + bl;
    // The back-length, read backwards from its last byte, must give the entry's length.
    let v: u32 = 0;
    let shift: u32 = 0;
    let q = next - 1;
    for (;;) {
      const x = <u32>load<u8>(q);
      v |= (x & 127) << shift;
      if (!(x & 128)) break;
      shift += 7;
      if (shift > 28 || q == p + entry) return false;
      q--;
    }
    if (v != entry || q != p + entry) return false;
    p = next;
    c++;
  }
  if (p != last) return false;
  if (numele != 0xffff && numele != c) return false;
  count = c;
  return true;
}

/**
 * Ziplist integrity, deep (ziplist.c ziplistValidateIntegrity, as encodings/ziplist.ts): header bytes, tail
 * offset, terminator, every entry inside the blob with its prevlen, the entry count; the count in `count`.
 */
function ziplist(zl: u32, n: u32): bool {
  if (n < 11 || load<u32>(zl) != n || load<u8>(zl + n - 1) != 0xff || load<u32>(zl + 4) > n - 1) return false;
  const numele = <u32>load<u16>(zl + 8);
  const last = zl + n - 1;
  let p = zl + 10;
  let prevRaw: u32 = 0;
  let prevStart: u32 = 0;
  let c: u32 = 0;
  while (p < last) {
    if (load<u8>(p) == 0xff) return false; // an end marker before the end (ziplist.c stops there)
    let prevlen: u32;
    let q: u32;
    if (load<u8>(p) < 254) {
      prevlen = load<u8>(p);
      q = p + 1;
    } else {
      if (p + 5 > last) return false;
      prevlen = load<u32>(p + 1);
      q = p + 5;
    }
    if (prevlen != prevRaw || q >= last) return false;
    const enc = <u32>load<u8>(q);
    let data: u32;
    let l: u32;
    if ((enc & 0xc0) != 0xc0) {
      const kind = enc & 0xc0;
      if (kind == 0) {
        l = enc & 0x3f;
        data = q + 1;
      } else if (kind == 0x40) {
        if (q + 2 > last) return false;
        l = ((enc & 0x3f) << 8) | load<u8>(q + 1);
        data = q + 2;
      } else if (enc == 0x80) {
        if (q + 5 > last) return false;
        l = bswap<u32>(load<u32>(q + 1));
        if (l > n) return false;
        data = q + 5;
      } else return false;
    } else {
      data = q + 1;
      if (enc == 0xfe) l = 1;
      else if (enc == 0xc0) l = 2;
      else if (enc == 0xf0) l = 3;
      else if (enc == 0xd0) l = 4;
      else if (enc == 0xe0) l = 8;
      else if (enc >= 0xf1 && enc <= 0xfd) l = 0;
      else return false;
    }
    if (data + l > last) return false;
    prevStart = p;
    prevRaw = data + l - p;
    p = data + l;
    c++;
  }
  if (p != last) return false;
  if (c > 0 && prevStart - zl != load<u32>(zl + 4)) return false;
  if (numele != 0xffff && numele != c) return false;
  count = c;
  return true;
}

/**
 * Intset integrity, deep (intset.c intsetValidateIntegrity, as encodings/intset.ts): encoding, size, not empty,
 * members strictly ascending.
 */
function intset(is: u32, n: u32): bool {
  if (n < 8) return false;
  const enc = load<u32>(is);
  if (enc != 2 && enc != 4 && enc != 8) return false;
  const c = load<u32>(is + 4);
  if (c == 0 || <u64>c * enc + 8 != <u64>n) return false;
  const end = is + n;
  if (enc == 2) {
    for (let p = is + 10; p < end; p += 2) if (load<i16>(p) <= load<i16>(p - 2)) return false;
  } else if (enc == 4) {
    for (let p = is + 12; p < end; p += 4) if (load<i32>(p) <= load<i32>(p - 4)) return false;
  } else {
    for (let p = is + 16; p < end; p += 8) if (load<i64>(p) <= load<i64>(p - 8)) return false;
  }
  count = c;
  return true;
}

const SHAPE_STRING: u32 = 1;
const SHAPE_PAIR: u32 = 2;
const SHAPE_SCORED: u32 = 3;

/**
 * Up to `max` elements of a collection from `p`, while they are whole before `end`: `shape` SHAPE_STRING = one
 * string each (list, set), SHAPE_PAIR = two (hash field and value), SHAPE_SCORED = a string and a binary double
 * that is not NaN (ZSET_2). Stops at the first element it does not take whole. Returns the offset after the last
 * one taken, their number in `count`.
 */
function elements(p: u32, end: u32, max: u32, shape: u32, maxItem: u32): u32 {
  let n: u32 = 0;
  while (n < max) {
    if (!str(p, end, maxItem)) break;
    let q = p + hdrSize + payload;
    if (shape == SHAPE_PAIR) {
      if (!str(q, end, maxItem)) break;
      q += hdrSize + payload;
    } else if (shape == SHAPE_SCORED) {
      if (q + 8 > end) break;
      const score = load<f64>(q);
      if (score != score) break;
      q += 8;
    }
    if (q > end) break;
    p = q;
    n++;
  }
  count = n;
  return p;
}

/**
 * The value of type `type` at [p, end): its end offset when it is whole and passes the checks (elements in
 * `count`), else 0.
 */
function value(type: u32, p: u32, end: u32, maxItem: u32): u32 {
  if (type == RDB_TYPE_STRING) {
    if (!str(p, end, maxItem)) return 0;
    const e = p + hdrSize + payload;
    count = 1;
    return e <= end ? e : 0;
  }
  if (type <= RDB_TYPE_ZSET_2) {
    // Lists, sets, hashes and sorted sets in their plain encodings: a count, then the elements.
    if (type == RDB_TYPE_ZSET) return 0; // scores as text: left to the decoder
    const n = len(p, end);
    if (n < 0) return 0;
    const shape = type == RDB_TYPE_HASH ? SHAPE_PAIR : type == RDB_TYPE_ZSET_2 ? SHAPE_SCORED : SHAPE_STRING;
    const e = elements(p + hdrSize, end, <u32>n, shape, maxItem);
    return count == <u32>n ? e : 0;
  }
  if (type == RDB_TYPE_LIST_QUICKLIST) {
    const nodes = len(p, end);
    if (nodes < 0) return 0;
    p += hdrSize;
    let c: u32 = 0;
    for (let i: i64 = 0; i < nodes; i++) {
      if (!str(p, end, maxItem)) return 0;
      const at = p + hdrSize;
      p = at + payload;
      if (p > end || rawLen == 0) return 0;
      const zl = blob(at, payload);
      if (zl == 0 || !ziplist(zl, rawLen)) return 0;
      c += count;
    }
    count = c;
    return p;
  }
  if (type == RDB_TYPE_LIST_QUICKLIST_2) {
    const nodes = len(p, end);
    if (nodes < 0) return 0;
    p += hdrSize;
    let c: u32 = 0;
    for (let i: i64 = 0; i < nodes; i++) {
      const container = len(p, end);
      if (container != 1 && container != 2) return 0;
      p += hdrSize;
      if (!str(p, end, maxItem)) return 0;
      const at = p + hdrSize;
      p = at + payload;
      if (p > end || rawLen == 0) return 0;
      if (container == 1) c++;
      else {
        const lp = blob(at, payload);
        if (lp == 0 || !listpack(lp, rawLen)) return 0;
        c += count;
      }
    }
    count = c;
    return p;
  }
  if (!str(p, end, maxItem)) return 0;
  const at = p + hdrSize;
  const e = at + payload;
  if (e > end || rawLen == 0) return 0; // an empty or int-encoded string is no blob
  const b = blob(at, payload);
  if (b == 0) return 0;
  if (type == RDB_TYPE_SET_INTSET) return intset(b, rawLen) ? e : 0;
  if (type == RDB_TYPE_LIST_ZIPLIST || type == RDB_TYPE_ZSET_ZIPLIST || type == RDB_TYPE_HASH_ZIPLIST) {
    if (!ziplist(b, rawLen)) return 0;
  } else if (!listpack(b, rawLen)) return 0;
  // Hashes and sorted sets hold pairs; an odd count is corrupt (the decoder says so).
  if (type != RDB_TYPE_LIST_ZIPLIST && type != RDB_TYPE_SET_LISTPACK && count & 1) return 0;
  return e;
}

// The key of the key being taken: its encoding's payload at [keyFrom, keyFrom+keyIn), its text `keyLen` bytes.
let keyFrom: u32 = 0;
let keyIn: u32 = 0;
let keyLen: u32 = 0;
let keyLzf = false;
let keyInt: i64 = 0;
let keyIsInt = false;

/** The key's string at `p` (raw, integer or LZF, as the parser's r.string() reads it); false when not taken. */
function key(p: u32, end: u32, maxItem: u32): bool {
  if (!str(p, end, maxItem)) return false;
  keyFrom = p + hdrSize;
  keyIn = payload;
  keyLzf = isLzf;
  keyIsInt = isInt;
  if (isInt) {
    if (keyFrom + payload > end) return false;
    keyInt = payload == 1 ? <i64>load<i8>(keyFrom) : payload == 2 ? <i64>load<i16>(keyFrom) : <i64>load<i32>(keyFrom);
    keyLen = keyInt < 0 ? 1 + digits(<u64>-keyInt) : digits(<u64>keyInt);
  } else keyLen = rawLen;
  return true;
}

/** Writes the key's text at `o` (an integer as its decimal, LZF expanded); false when the LZF is corrupt. */
function putKey(o: u32): bool {
  if (keyLzf) return lzf(keyFrom, keyFrom + keyIn, o, keyLen);
  if (!keyIsInt) copy(o, keyFrom, keyLen);
  else if (keyInt < 0) {
    store<u8>(o, 0x2d);
    decimal(o + 1, <u64>-keyInt);
  } else decimal(o, <u64>keyInt);
  return true;
}

@inline
function digits(n: u64): u32 {
  let d: u32 = 1;
  while (n >= 10) {
    n /= 10;
    d++;
  }
  return d;
}

/** Writes `n` in decimal at `o`; returns the offset after it. */
function decimal(o: u32, n: u64): u32 {
  const d = digits(n);
  let q = o + d;
  do {
    q--;
    store<u8>(q, <u32>(n % 10) + 0x30);
    n /= 10;
  } while (q > o);
  return o + d;
}

/** `$<n>\r\n` at `o`. */
@inline
function bulkHead(o: u32, n: u64): u32 {
  store<u8>(o, 0x24);
  o = decimal(o + 1, n);
  store<u16>(o, 0x0a0d);
  return o + 2;
}

/** Copies the ASCII of a short protocol word; the words are written as u64 stores from their constants. */
@inline
function put(o: u32, s: string): u32 {
  const n = <u32>s.length;
  for (let i: u32 = 0; i < n; i++) store<u8>(o + i, <u32>s.charCodeAt(i));
  return o + n;
}

/**
 * Takes keys from IN[at, end) while they are whole there and of a type in the `types` bit mask (bit t for RDB
 * type t), with their EXPIRETIME_MS, IDLE or FREQ opcodes, writing each as a piece at OUT (`restore`: the writer's
 * `RESTORE key ttl dump REPLACE [ABSTTL] [FREQ f | IDLETIME s]`, else key bytes then dump) and its metadata at
 * META and META_EXP, offsets shifted by `base` (where the JS side will put OUT's bytes in its slab). Stops before
 * the piece that would pass `outCap` bytes, after `keyCap` keys, or at the first key it does not take. `expireIn`
 * is the expiry already read for the first key (0 = none). Expired
 * keys (`drop`, expiry at or before `now`) and empty collections are skipped and counted. Returns the offset in
 * IN where it stopped; R_* in RESULT tell what it wrote.
 */
export function lane(
  at: u32,
  end: u32,
  outCap: u32,
  keyCap: u32,
  base: u32,
  types: u32,
  restore: bool,
  ver: u32,
  maxItem: u32,
  maxPiece: u32,
  drop: bool,
  now: f64,
  expireIn: f64,
): u32 {
  let p = at;
  let o = OUT;
  const outEnd = OUT + outCap;
  let keys: u32 = 0;
  let expired: u32 = 0;
  let empty: u32 = 0;
  let exp = expireIn;
  while (p < end && keys < keyCap) {
    let q = p;
    let type = <u32>load<u8>(q);
    // The key's opcodes, as Redis writes them (rdbSaveKeyValuePair): expiry, then LRU idle time or LFU frequency.
    let idle: i32 = -1;
    let freq: i32 = -1;
    if (type == RDB_OPCODE_EXPIRETIME_MS) {
      if (q + 10 > end) break;
      const v = load<i64>(q + 1);
      if (<f64>v > MAX_SAFE) break; // the JS side would round it: its path writes it
      exp = v == -1 ? 0 : v <= 0 ? 1 : <f64>v;
      q += 9;
      type = load<u8>(q);
    }
    if (type == RDB_OPCODE_IDLE) {
      const v = len(q + 1, end);
      if (v < 0 || v > 0x7fffffff) break; // run fields are 32-bit (the parser keeps such keys out of runs)
      idle = <i32>v;
      q += 1 + hdrSize;
      if (q >= end) break;
      type = load<u8>(q);
    } else if (type == RDB_OPCODE_FREQ) {
      if (q + 2 >= end) break;
      freq = load<u8>(q + 1);
      q += 2;
      type = load<u8>(q);
    }
    if (type >= 32 || !((types >> type) & 1)) break;
    if (!key(q + 1, end, maxItem)) break;
    const valueAt = keyFrom + keyIn;
    if (valueAt >= end) break;
    const valueEnd = value(type, valueAt, end, maxItem);
    if (valueEnd == 0) break;
    if (drop && exp != 0 && exp <= now) {
      expired++;
    } else if (type != RDB_TYPE_STRING && count == 0) {
      empty++;
    } else {
      const dumpLen = 1 + (valueEnd - valueAt) + 10;
      let size: u32;
      let ttl: u64 = 0;
      // RESTORE's option for the LFU frequency or LRU idle time (resp.ts restoreOption): FREQ wins.
      const opt: i32 = freq >= 0 ? freq : idle;
      if (restore) {
        ttl = <u64>exp;
        size =
          4 + 13 + (1 + digits(keyLen) + 2 + keyLen + 2) + (1 + digits(digits(ttl)) + 2 + digits(ttl) + 2);
        size += 1 + digits(dumpLen) + 2 + dumpLen + 2 + 13 + (exp > 0 ? 12 : 0);
        if (opt >= 0) size += (freq >= 0 ? 10 : 14) + 1 + digits(digits(opt)) + 2 + digits(opt) + 2;
      } else size = keyLen + dumpLen;
      if (size > maxPiece) break;
      if (o + size > outEnd) break;
      const cmdAt = o;
      let keyAt = o;
      if (restore) {
        store<u8>(o, 0x2a);
        store<u8>(o + 1, 0x35 + (exp > 0 ? 1 : 0) + (opt >= 0 ? 2 : 0));
        store<u16>(o + 2, 0x0a0d);
        o = put(o + 4, '$7\r\nRESTORE\r\n');
        o = bulkHead(o, keyLen);
        keyAt = o;
        if (!putKey(o)) {
          o = cmdAt;
          break;
        }
        o += keyLen;
        store<u16>(o, 0x0a0d);
        o = bulkHead(o + 2, digits(ttl));
        o = decimal(o, ttl);
        store<u16>(o, 0x0a0d);
        o = bulkHead(o + 2, dumpLen);
      } else {
        if (!putKey(o)) break;
        o += keyLen;
      }
      const dumpAt = o;
      store<u8>(o, type);
      copy(o + 1, valueAt, valueEnd - valueAt);
      o += 1 + (valueEnd - valueAt);
      store<u16>(o, <u16>ver);
      store<u32>(SEALS + keys * 8, dumpAt);
      store<u32>(SEALS + keys * 8 + 4, dumpLen - 8);
      o += 10;
      if (restore) {
        store<u16>(o, 0x0a0d);
        o = put(o + 2, '$7\r\nREPLACE\r\n');
        if (exp > 0) o = put(o, '$6\r\nABSTTL\r\n');
        if (opt >= 0) {
          o = put(o, freq >= 0 ? '$4\r\nFREQ\r\n' : '$8\r\nIDLETIME\r\n');
          o = bulkHead(o, digits(opt));
          o = decimal(o, opt);
          store<u16>(o, 0x0a0d);
          o += 2;
        }
      }
      const m = META + keys * (META_STRIDE * 4);
      store<u32>(m + M_CMD_AT * 4, base + cmdAt - OUT);
      store<u32>(m + M_CMD_LEN * 4, size);
      store<u32>(m + M_KEY_AT * 4, base + keyAt - OUT);
      store<u32>(m + M_KEY_LEN * 4, keyLen);
      store<u32>(m + M_DUMP_AT * 4, base + dumpAt - OUT);
      store<u32>(m + M_DUMP_LEN * 4, dumpLen);
      store<i32>(m + M_IDLE * 4, idle);
      store<i32>(m + M_FREQ * 4, freq);
      store<f64>(META_EXP + keys * 8, exp);
      keys++;
    }
    exp = 0;
    p = valueEnd;
  }
  sealMany(SEALS, keys);
  store<u32>(RESULT + R_KEYS * 4, keys);
  store<u32>(RESULT + R_OUT * 4, o - OUT);
  store<u32>(RESULT + R_EXPIRED * 4, expired);
  store<u32>(RESULT + R_EMPTY * 4, empty);
  return p;
}

// Blob kinds of `check`.
const CHECK_ZIPLIST: u32 = 0;
const CHECK_LISTPACK: u32 = 1;
const CHECK_INTSET: u32 = 2;

/**
 * Deep integrity check of the blob of `n` bytes copied to DATA (ziplist, listpack or intset, by `kind`; LZF that
 * expands to `raw` bytes when `raw` is not 0), for the parser's dump path beyond the lane: its element count, or
 * -1 when it fails or does not fit SCRATCH expanded (the parser then checks it itself and names the failure).
 */
export function check(kind: u32, n: u32, raw: u32): i32 {
  let at = DATA;
  let len = n;
  if (raw > 0) {
    if (raw > SCRATCH_CAP || !lzf(DATA, DATA + n, SCRATCH, raw)) return -1;
    at = SCRATCH;
    len = raw;
  }
  let ok = false;
  if (kind == CHECK_ZIPLIST) ok = ziplist(at, len);
  else if (kind == CHECK_LISTPACK) ok = listpack(at, len);
  else if (kind == CHECK_INTSET) ok = intset(at, len);
  return ok ? <i32>count : -1;
}

/**
 * Skips up to `max` elements of a big collection in IN[at, end) while they are whole there (see `elements`).
 * Returns the offset where it stopped; RESULT[R_KEYS] says how many elements it skipped.
 */
export function skip(at: u32, end: u32, max: u32, shape: u32, maxItem: u32): u32 {
  const p = elements(at, end, max, shape, maxItem);
  store<u32>(RESULT + R_KEYS * 4, count);
  return p;
}
