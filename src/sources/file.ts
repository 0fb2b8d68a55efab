/** Backup files in a local directory: the same reading path as a bucket (benchmarks, CLI, tests). */
import { promises as fs } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { SourceError } from './errors.ts';
import type { ObjectInfo, ObjectReader, ObjectStore, OpenOptions } from './store.ts';

const CHUNK_BYTES = 1 << 20;

/**
 * The bytes [0, end) of a file (end: its size when opened) as chunks of 1 MiB, the next read in flight while the
 * consumer works on the current chunk. (fs.createReadStream starts the next read only once the consumer asks for
 * more, so reading and decoding would take turns.) Each chunk is a Buffer of its own: consumers may keep views.
 * A file that shrinks while read ends early; the caller compares what it got with what it expected.
 */
export async function* readFileChunks(path: string, opts: { end?: number } = {}): AsyncGenerator<Buffer> {
  const fh = await fs.open(path, 'r');
  let inFlight: Promise<Buffer> | null = null;
  try {
    const end = opts.end ?? (await fh.stat()).size;
    let pos = 0;
    const next = (): Promise<Buffer> | null => {
      if (pos >= end) return null;
      const n = Math.min(CHUNK_BYTES, end - pos);
      const at = pos;
      pos += n;
      const b = Buffer.allocUnsafe(n);
      return fh.read(b, 0, n, at).then((r) => (r.bytesRead === n ? b : b.subarray(0, r.bytesRead)));
    };
    inFlight = next();
    while (inFlight !== null) {
      const chunk: Buffer = await inFlight;
      const whole = chunk.length === CHUNK_BYTES || pos >= end;
      inFlight = whole ? next() : null;
      if (chunk.length > 0) yield chunk;
      if (!whole) return;
    }
  } finally {
    // A read still in flight when the consumer stops must finish before its file handle closes.
    await inFlight?.catch(() => undefined);
    await fh.close();
  }
}

export class FileStore implements ObjectStore {
  readonly label: string;
  constructor(private readonly root: string) {
    this.label = root;
  }

  private path(name: string): string {
    const p = resolve(this.root, name);
    const rel = relative(this.root, p);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new SourceError('SOURCE_ERR_NO_OBJECT', `"${name}" is outside ${this.root}`, { file: name });
    }
    return p;
  }

  async head(name: string): Promise<ObjectInfo> {
    try {
      const st = await fs.stat(this.path(name));
      if (!st.isFile())
        throw new SourceError('SOURCE_ERR_NO_OBJECT', `"${name}" is not a file`, { file: name });
      return { size: st.size, etag: `${st.size}-${st.mtimeMs}` };
    } catch (err) {
      if (err instanceof SourceError) throw err;
      const code = (err as { code?: string }).code;
      throw new SourceError(
        code === 'EACCES'
          ? 'SOURCE_ERR_ACCESS_DENIED'
          : code === 'ENOENT'
            ? 'SOURCE_ERR_NO_OBJECT'
            : 'SOURCE_ERR_READ',
        `cannot read ${name}: ${code ?? (err as Error).message}`,
        { file: name },
        { cause: err },
      );
    }
  }

  open(name: string, info: ObjectInfo, opts: OpenOptions = {}): ObjectReader {
    const path = this.path(name);
    const reader = {
      position: 0,
      async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
        for await (const chunk of readFileChunks(path, { end: info.size })) {
          if (opts.signal?.aborted) return;
          reader.position += chunk.length;
          yield chunk;
        }
      },
    };
    return reader;
  }

  close(): void {}
}
