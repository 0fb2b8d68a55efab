/**
 * The one chunking harness every decoder suite uses (STYLE habit 4): the whole input, 1-byte chunks, and for
 * small inputs a split at every boundary. Decoders must give the same result for each.
 */
import { Readable } from 'node:stream';

export interface Chunking {
  name: string;
  chunks: Buffer[];
}

/** Every split point is tried only for inputs up to this size (the cost is quadratic). */
const EVERY_SPLIT_MAX = 4096;

export function chunkings(input: Buffer, opts: { everySplit?: boolean } = {}): Chunking[] {
  const out: Chunking[] = [{ name: 'whole', chunks: [input] }];
  const bytes: Buffer[] = [];
  for (let i = 0; i < input.length; i++) bytes.push(input.subarray(i, i + 1));
  out.push({ name: '1-byte', chunks: bytes });
  if (opts.everySplit ?? input.length <= EVERY_SPLIT_MAX) {
    for (let at = 1; at < input.length; at++) {
      out.push({ name: `split@${at}`, chunks: [input.subarray(0, at), input.subarray(at)] });
    }
  }
  return out;
}

/** A readable stream yielding the chunks as given (copies, so no decoder can rely on shared memory). */
export function chunkStream(chunks: Buffer[]): Readable {
  return Readable.from(
    chunks.map((c) => Buffer.from(c)),
    { objectMode: false },
  );
}

export async function* chunkIterable(chunks: Buffer[]): AsyncGenerator<Buffer> {
  for (const c of chunks) yield Buffer.from(c);
}
