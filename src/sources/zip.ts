/**
 * Streaming zip reader over local file headers (APPNOTE.TXT 4.3.7), front to back, without the central
 * directory. Stored and deflated members; sizes from the local header, its zip64 extra field, or — for members
 * written with a data descriptor (general purpose bit 3, sizes unknown up front) — from where the deflate stream
 * itself ends: zlib stops at the end of the deflate data, and `bytesWritten` says how much input it consumed.
 */
import { createInflateRaw, type InflateRaw } from 'node:zlib';
import type { ByteReader } from './byte-reader.ts';
import { SourceError } from './errors.ts';
import type { ArchiveMember } from './tar.ts';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_DESCRIPTOR = 0x08074b50;
const FLAG_ENCRYPTED = 0x1;
const FLAG_DESCRIPTOR = 0x8;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
/** Input slice fed to zlib at a time: bounds the output produced per step. */
const FEED = 64 * 1024;

interface Sizes {
  compressed: number;
  uncompressed: number;
}

function zip64Sizes(extra: Buffer, sizes: Sizes): Sizes {
  let i = 0;
  while (i + 4 <= extra.length) {
    const id = extra.readUInt16LE(i);
    const len = extra.readUInt16LE(i + 2);
    if (id === 0x0001) {
      let p = i + 4;
      const out = { ...sizes };
      if (sizes.uncompressed === 0xffffffff && p + 8 <= i + 4 + len) {
        out.uncompressed = Number(extra.readBigUInt64LE(p));
        p += 8;
      }
      if (sizes.compressed === 0xffffffff && p + 8 <= i + 4 + len)
        out.compressed = Number(extra.readBigUInt64LE(p));
      return out;
    }
    i += 4 + len;
  }
  return sizes;
}

/** Inflates one member whose compressed length is unknown; leaves the reader right after the deflate data. */
function hasZip64(extra: Buffer): boolean {
  for (let i = 0; i + 4 <= extra.length; i += 4 + extra.readUInt16LE(i + 2)) {
    if (extra.readUInt16LE(i) === 0x0001) return true;
  }
  return false;
}

/** A raw-deflate stream fed one write at a time: collects its output and turns its first error into a SourceError. */
class Inflater {
  readonly inf: InflateRaw = createInflateRaw({ chunkSize: 256 * 1024 });
  readonly out: Buffer[] = [];
  ended = false;
  private failure: Error | null = null;

  constructor(
    private readonly what: string,
    private readonly file: string,
  ) {
    this.inf.on('data', (d: Buffer) => this.out.push(d));
    this.inf.on('end', () => {
      this.ended = true;
    });
    this.inf.on('error', (e) => {
      this.failure = e;
    });
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** Runs one write (or end), lets the data events queued for the next tick arrive, then throws if zlib failed. */
  async step(fn: (cb: () => void) => void, offset?: () => number): Promise<void> {
    await new Promise<void>((resolve) => {
      fn(() => resolve());
      this.inf.once('error', () => resolve());
    });
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.failure) {
      throw new SourceError(
        'SOURCE_ERR_ARCHIVE',
        `corrupt deflate data in ${this.what}: ${this.failure.message}`,
        {
          file: this.file,
          ...(offset && { offset: offset() }),
        },
      );
    }
  }

  destroy(): void {
    this.inf.removeAllListeners('data');
    this.inf.destroy();
  }
}

async function* inflateToEnd(
  r: ByteReader,
  what: string,
  counted: { compressed: number },
  file: string,
): AsyncGenerator<Buffer> {
  const z = new Inflater(what, file);
  let fed = 0;
  try {
    for (;;) {
      const chunk = await r.read(FEED);
      if (!chunk)
        throw new SourceError('SOURCE_ERR_ARCHIVE', `input ended inside ${what}`, {
          file,
          offset: r.position,
        });
      fed += chunk.length;
      await z.step(
        (cb) => z.inf.write(chunk, cb),
        () => r.position,
      );
      while (z.out.length) yield z.out.shift()!;
      if (z.inf.bytesWritten < fed) {
        // The deflate stream ended inside this chunk: hand the rest back to the reader.
        r.unshift(chunk.subarray(chunk.length - (fed - z.inf.bytesWritten)));
        counted.compressed = z.inf.bytesWritten;
        return;
      }
    }
  } finally {
    z.destroy();
  }
}

async function* inflateKnown(src: AsyncIterable<Buffer>, what: string, file: string): AsyncGenerator<Buffer> {
  const z = new Inflater(what, file);
  try {
    for await (const chunk of src) {
      for (let i = 0; i < chunk.length; i += FEED) {
        await z.step((cb) => z.inf.write(chunk.subarray(i, i + FEED), cb));
        while (z.out.length) yield z.out.shift()!;
      }
    }
    await z.step((cb) => z.inf.end(cb));
    while (!z.ended && !z.failed) await new Promise<void>((resolve) => setImmediate(resolve));
    while (z.out.length) yield z.out.shift()!;
  } finally {
    z.destroy();
  }
}

const DESCRIPTOR_SIG = Buffer.from([0x50, 0x4b, 0x07, 0x08]);

/**
 * A stored member whose size is only in its data descriptor (what a writer on a pipe, e.g. Python's zipfile,
 * produces): its data ends where a descriptor signature is followed by sizes equal to the bytes seen so far. The
 * reader is left at that descriptor.
 */
async function* storedToDescriptor(
  r: ByteReader,
  what: string,
  file: string,
  zip64: boolean,
): AsyncGenerator<Buffer> {
  const need = zip64 ? 24 : 16;
  let n = 0; // data bytes before `carry`
  let carry: Buffer = Buffer.alloc(0);
  for (;;) {
    const chunk = await r.read(FEED);
    if (!chunk) {
      throw new SourceError('SOURCE_ERR_ARCHIVE', `input ended inside ${what}`, { file, offset: r.position });
    }
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    for (
      let i = buf.indexOf(DESCRIPTOR_SIG);
      i >= 0 && i + need <= buf.length;
      i = buf.indexOf(DESCRIPTOR_SIG, i + 1)
    ) {
      const cs = zip64 ? Number(buf.readBigUInt64LE(i + 8)) : buf.readUInt32LE(i + 8);
      const us = zip64 ? Number(buf.readBigUInt64LE(i + 16)) : buf.readUInt32LE(i + 12);
      if (cs === n + i && us === cs) {
        if (i > 0) yield buf.subarray(0, i);
        r.unshift(buf.subarray(i));
        return;
      }
    }
    // The last need-1 bytes may start a descriptor not yet checkable: keep them for the next round.
    const keep = Math.max(0, buf.length - (need - 1));
    if (keep > 0) yield buf.subarray(0, keep);
    n += keep;
    carry = buf.subarray(keep);
  }
}

export async function* readZip(r: ByteReader, archive: string): AsyncGenerator<ArchiveMember> {
  for (;;) {
    if (await r.atEnd()) return;
    const at = r.position;
    const sig = (await r.peek(4)).readUInt32LE(0);
    if (sig === SIG_CENTRAL || sig === SIG_END || sig === SIG_END64) return; // members done
    if (sig !== SIG_LOCAL) {
      throw new SourceError('SOURCE_ERR_ARCHIVE', 'zip local file header expected', {
        file: archive,
        offset: at,
      });
    }
    const h = await r.readExact(30, 'a zip local header');
    const flags = h.readUInt16LE(6);
    const method = h.readUInt16LE(8);
    let sizes: Sizes = { compressed: h.readUInt32LE(18), uncompressed: h.readUInt32LE(22) };
    const nameLen = h.readUInt16LE(26);
    const extraLen = h.readUInt16LE(28);
    const name = (await r.readExact(nameLen, 'a zip member name')).toString('utf8');
    const extra = await r.readExact(extraLen, 'a zip extra field');
    const zip64 = hasZip64(extra);
    sizes = zip64Sizes(extra, sizes);
    const where = { file: `${archive}:${name}`, offset: at };
    if (flags & FLAG_ENCRYPTED) {
      throw new SourceError(
        'SOURCE_ERR_UNSUPPORTED_FORMAT',
        'encrypted zip members are not supported',
        where,
      );
    }
    if (method !== METHOD_STORED && method !== METHOD_DEFLATE) {
      throw new SourceError(
        'SOURCE_ERR_UNSUPPORTED_FORMAT',
        `zip compression method ${method} is not supported (stored and deflate are)`,
        where,
      );
    }
    const descriptor = (flags & FLAG_DESCRIPTOR) !== 0;
    let known = !descriptor || sizes.compressed !== 0;
    if (!known && method === METHOD_STORED) {
      // An empty stored member is followed at once by its descriptor (signature, CRC 0, sizes 0).
      const d = await r.peek(16);
      if (d.length === 16 && d.readUInt32LE(0) === SIG_DESCRIPTOR && d.readUInt32LE(8) === 0) known = true;
    }
    const what = `zip member ${name}`;
    let pulled = 0;
    let done = false;
    const raw = (async function* () {
      for await (const b of r.take(sizes.compressed, what)) {
        pulled += b.length;
        yield b;
      }
    })();
    const counted = { compressed: 0 };
    const body: AsyncIterable<Buffer> = !known
      ? method === METHOD_STORED
        ? storedToDescriptor(r, what, where.file, zip64)
        : inflateToEnd(r, what, counted, where.file)
      : method === METHOD_STORED
        ? raw
        : inflateKnown(raw, what, where.file);
    // Iterated by hand so that a consumer that stops early does not close `body`: the rest is skipped below.
    const it = body[Symbol.asyncIterator]();
    const tracked = (async function* () {
      for (;;) {
        const n = await it.next();
        if (n.done) {
          done = true;
          return;
        }
        yield n.value;
      }
    })();
    if (!name.endsWith('/')) yield { name, size: known ? sizes.uncompressed : null, body: tracked };
    if (!done) {
      if (known) {
        await r.skip(sizes.compressed - pulled, what);
        await it.return?.();
      } else for (let n = await it.next(); !n.done; n = await it.next());
    }
    if (descriptor) {
      const head = await r.peek(4);
      if (head.length === 4 && head.readUInt32LE(0) === SIG_DESCRIPTOR)
        await r.skip(4, 'a zip data descriptor');
      await r.skip(zip64 ? 20 : 12, 'a zip data descriptor');
    }
  }
}
