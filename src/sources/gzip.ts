/** Streaming gunzip (node:zlib; concatenated members are read as one stream, as gzip(1) does). */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { SourceError } from './errors.ts';

export async function* gunzip(src: AsyncIterable<Buffer>, name: string): AsyncGenerator<Buffer> {
  const gz = createGunzip({ chunkSize: 256 * 1024 });
  const input = Readable.from(src, { objectMode: false });
  const piping = pipeline(input, gz).catch(() => {
    /* reported through the iteration below */
  });
  try {
    for await (const chunk of gz) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof SourceError) throw err;
    // A read error of the underlying source surfaces here as itself; zlib's own errors are corrupt data.
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('Z_') || code.startsWith('ERR_')) {
      throw new SourceError(
        'SOURCE_ERR_ARCHIVE',
        `gzip data is corrupt or truncated: ${(err as Error).message}`,
        { file: name, offset: gz.bytesWritten },
        { cause: err },
      );
    }
    throw err;
  } finally {
    input.destroy();
    gz.destroy();
    await piping;
  }
}
