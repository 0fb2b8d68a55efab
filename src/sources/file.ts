/** Backup files in a local directory: the same reading path as a bucket (benchmarks, CLI, tests). */
import { createReadStream, promises as fs } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { SourceError } from './errors.ts';
import type { ObjectInfo, ObjectReader, ObjectStore, OpenOptions } from './store.ts';

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
        const stream = createReadStream(path, { highWaterMark: 1 << 20, end: Math.max(0, info.size - 1) });
        try {
          if (info.size === 0) return;
          for await (const chunk of stream) {
            if (opts.signal?.aborted) return;
            reader.position += (chunk as Buffer).length;
            yield chunk as Buffer;
          }
        } finally {
          stream.destroy();
        }
      },
    };
    return reader;
  }

  close(): void {}
}
