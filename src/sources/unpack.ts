/**
 * Opens whatever a backup object is — a plain RDB/AOF/manifest, or gzip, tar, tar.gz or zip holding them — into
 * the data members it contains, in stream order. Formats come from content (detect.ts); a member of an archive
 * that is no backup format is reported as `unknown` for the caller to warn about and skip.
 */
import { ByteReader } from './byte-reader.ts';
import { type DataFormat, DETECT_BYTES, detectFormat, headHex } from './detect.ts';
import { SourceError } from './errors.ts';
import { gunzip } from './gzip.ts';
import { readTar } from './tar.ts';
import { readZip } from './zip.ts';

export interface DataMember {
  /** Object name, then `:path` per archive level (for messages). */
  name: string;
  /** Name of this member itself (last path segment): matched against multi-part AOF manifests. */
  baseName: string;
  format: DataFormat | 'unknown' | 'empty';
  /** Must be read (or abandoned) before the next member is asked for. */
  body: AsyncIterable<Buffer>;
}

const MAX_DEPTH = 4;

function baseNameOf(path: string): string {
  const parts = path.split(/[/\\]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** `x.tar.gz`/`x.tgz` → `x.tar`, `x.rdb.gz` → `x.rdb`. */
function gunzippedName(name: string): string {
  if (/\.tgz$/i.test(name)) return name.replace(/\.tgz$/i, '.tar');
  return name.replace(/\.gz$/i, '');
}

export async function* unpack(
  src: AsyncIterable<Buffer>,
  name: string,
  opts: { inArchive?: boolean; depth?: number; path?: string } = {},
): AsyncGenerator<DataMember> {
  const depth = opts.depth ?? 0;
  const path = opts.path ?? name;
  const r = new ByteReader(src, name);
  try {
    const head = await r.peek(DETECT_BYTES);
    const fmt = detectFormat(head);
    if (depth >= MAX_DEPTH && (fmt === 'gzip' || fmt === 'tar' || fmt === 'zip')) {
      throw new SourceError('SOURCE_ERR_UNSUPPORTED_FORMAT', `archives nested more than ${MAX_DEPTH} deep`, {
        file: name,
      });
    }
    switch (fmt) {
      case 'gzip': {
        yield* unpack(gunzip(r.rest(), name), name, { ...opts, depth: depth + 1, path: gunzippedName(path) });
        return;
      }
      case 'tar':
        for await (const m of readTar(r, name)) {
          yield* unpack(m.body, `${name}:${m.name}`, { inArchive: true, depth: depth + 1, path: m.name });
        }
        return;
      case 'zip':
        for await (const m of readZip(r, name)) {
          yield* unpack(m.body, `${name}:${m.name}`, { inArchive: true, depth: depth + 1, path: m.name });
        }
        return;
      case 'empty':
      case 'unknown':
        if (opts.inArchive) {
          yield { name, baseName: baseNameOf(path), format: fmt, body: r.rest() };
          return;
        }
        throw new SourceError(
          'SOURCE_ERR_UNSUPPORTED_FORMAT',
          fmt === 'empty'
            ? 'the file is empty'
            : `unsupported format (first bytes ${headHex(head)}): expected RDB, AOF, a multi-part AOF manifest, or gzip/tar/zip holding them`,
          { file: name, offset: 0 },
        );
      default:
        yield { name, baseName: baseNameOf(path), format: fmt, body: r.rest() };
    }
  } finally {
    await r.close();
  }
}
