/**
 * LZF decompression, following redis/src/lzf_d.c `lzf_decompress()` with CHECK_INPUT: every literal run and
 * back reference is bounds-checked against input and output; the output must be filled exactly.
 */
import { RdbError } from '../errors.ts';

/**
 * Decompress `src[start..end)` into a new buffer of exactly `outLen` bytes.
 * Throws RDB_ERR_LZF when the payload is corrupt or does not expand to `outLen`.
 */
export function lzfDecompress(src: Buffer, start: number, end: number, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  lzfDecompressInto(src, start, end, out, 0, outLen);
  return out;
}

/**
 * Decompress `src[start..end)` into `out[outAt..outAt+outLen)`, which it must fill exactly (the bytes around that
 * range are never read or written). Throws RDB_ERR_LZF as `lzfDecompress`.
 */
export function lzfDecompressInto(
  src: Buffer,
  start: number,
  end: number,
  out: Buffer,
  outAt: number,
  outLen: number,
): void {
  let ip = start;
  let op = outAt;
  const outEnd = outAt + outLen;
  while (ip < end) {
    let ctrl = src[ip++];
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outEnd) throw new RdbError('RDB_ERR_LZF', 'LZF literal run overflows the output');
      if (ip + ctrl > end) throw new RdbError('RDB_ERR_LZF', 'LZF literal run overruns the input');
      if (ctrl <= 16) {
        for (let k = 0; k < ctrl; k++) out[op++] = src[ip++];
      } else {
        out.set(src.subarray(ip, ip + ctrl), op);
        op += ctrl;
        ip += ctrl;
      }
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (ip >= end) throw new RdbError('RDB_ERR_LZF', 'LZF back reference overruns the input');
      if (len === 7) {
        len += src[ip++];
        if (ip >= end) throw new RdbError('RDB_ERR_LZF', 'LZF back reference overruns the input');
      }
      ref -= src[ip++];
      len += 2;
      if (op + len > outEnd) throw new RdbError('RDB_ERR_LZF', 'LZF back reference overflows the output');
      if (ref < outAt) throw new RdbError('RDB_ERR_LZF', 'LZF back reference before the output start');
      const dist = op - ref;
      if (dist === 1) {
        // Run of one repeated byte (the common case for padding).
        out.fill(out[ref], op, op + len);
        op += len;
      } else if (len <= 8) {
        for (let k = 0; k < len; k++) out[op++] = out[ref++];
      } else if (dist >= len) {
        out.copyWithin(op, ref, ref + len);
        op += len;
      } else {
        // Overlapping: the pattern of `dist` bytes repeats; copy it in growing blocks.
        let done = 0;
        while (done < len) {
          const n = Math.min(dist + done, len - done);
          out.copyWithin(op + done, ref, ref + n);
          done += n;
        }
        op += len;
      }
    }
  }
  if (op !== outEnd)
    throw new RdbError('RDB_ERR_LZF', `LZF payload expands to ${op - outAt} bytes, header says ${outLen}`);
}

/** Largest output a `clen`-byte LZF payload can expand to (a 3-byte back reference yields at most 264 bytes). */
export function lzfMaxExpansion(clen: number): number {
  return clen * 88 + 32;
}
