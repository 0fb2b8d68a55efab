/**
 * Streaming tar reader: POSIX ustar and GNU headers, GNU long names (`L`) and pax `path`/`size` records, one
 * regular file after another. A member's body must be read (or is skipped) before the next header is read; nothing
 * but headers is buffered. Follows the layout in POSIX pax(1) "ustar Interchange Format".
 */
import type { ByteReader } from './byte-reader.ts';
import { SourceError } from './errors.ts';

const BLOCK = 512;

export interface ArchiveMember {
  /** Path inside the archive. */
  name: string;
  /** Uncompressed size when known before reading. */
  size: number | null;
  body: AsyncIterable<Buffer>;
}

function text(b: Buffer, start: number, len: number): string {
  let end = start;
  while (end < start + len && b[end] !== 0) end++;
  return b.toString('utf8', start, end);
}

function octal(b: Buffer, start: number, len: number): number {
  // GNU base-256 for sizes ≥ 8 GiB: high bit of the first byte set.
  if (b[start] & 0x80) {
    let n = b[start] & 0x7f;
    for (let i = start + 1; i < start + len; i++) n = n * 256 + b[i];
    return n;
  }
  const s = text(b, start, len).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) return Number.NaN;
  return Number.parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = octal(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === stored;
}

/** pax extended header records: "<len> <key>=<value>\n". */
function paxRecords(b: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < b.length) {
    const sp = b.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(b.toString('latin1', i, sp));
    if (!Number.isInteger(len) || len <= 0 || i + len > b.length) break;
    const rec = b.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

export async function* readTar(r: ByteReader, archive: string): AsyncGenerator<ArchiveMember> {
  let longName: string | null = null;
  let pax = new Map<string, string>();
  for (;;) {
    if (await r.atEnd()) return; // some writers omit the two zero blocks
    const at = r.position;
    const h = await r.readExact(BLOCK, 'a tar header');
    if (h.every((x) => x === 0)) return;
    if (!checksumOk(h)) {
      throw new SourceError(
        'SOURCE_ERR_ARCHIVE',
        'tar header checksum mismatch (not a tar file or corrupt)',
        {
          file: archive,
          offset: at,
        },
      );
    }
    const type = h[156];
    let size = octal(h, 124, 12);
    if (pax.has('size')) size = Number(pax.get('size'));
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new SourceError('SOURCE_ERR_ARCHIVE', 'tar header has an invalid size', {
        file: archive,
        offset: at,
      });
    }
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    // 'L' GNU long name, 'x' pax header for the next member, 'g' global pax header.
    if (type === 0x4c || type === 0x78 || type === 0x67) {
      if (size > 1 << 20) {
        throw new SourceError('SOURCE_ERR_ARCHIVE', 'tar extended header too large', {
          file: archive,
          offset: at,
        });
      }
      const data = await r.readExact(size, 'a tar extended header');
      await r.skip(padded - size, 'tar padding');
      if (type === 0x4c) longName = text(data, 0, data.length);
      else if (type === 0x78) pax = paxRecords(data);
      continue;
    }
    const prefix = text(h, 345, 155);
    const base = text(h, 0, 100);
    const name = pax.get('path') ?? longName ?? (prefix ? `${prefix}/${base}` : base);
    longName = null;
    pax = new Map();
    // '0' or NUL: regular file; '7' contiguous file. Directories, links, devices carry no data we import.
    if (type !== 0x30 && type !== 0 && type !== 0x37) {
      await r.skip(padded, 'a tar member');
      continue;
    }
    let consumed = 0;
    const body = (async function* () {
      for await (const b of r.take(size, `tar member ${name}`)) {
        consumed += b.length;
        yield b;
      }
    })();
    yield { name, size, body };
    // Whatever the consumer did not read is skipped.
    if (consumed < size) await r.skip(size - consumed, `tar member ${name}`);
    await r.skip(padded - size, 'tar padding');
  }
}
