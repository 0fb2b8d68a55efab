/**
 * The order in which a task's backup files are applied: as given, except that the files of a multi-part AOF set
 * whose manifest (`*.manifest`) is among the task's files are applied in the manifest's order (base, then incr
 * files by seq), at the position of the set's first file. Files the manifest names but the task does not list are
 * looked up beside the manifest in the bucket, so a task may name just the manifest.
 */
import { parseManifest } from '../aof/index.ts';
import { type ObjectInfo, type ObjectStore, SourceError } from '../sources/index.ts';

export interface PlannedFile {
  key: string;
  info: ObjectInfo;
  /** An AOF that may end inside a command (a plain AOF, or the last file of a multi-part set). */
  allowTruncated: boolean;
  /** Set when the file belongs to a multi-part set: the manifest's key. */
  manifest: string | null;
}

/** Largest manifest read (they are a few lines). */
const MAX_MANIFEST_BYTES = 1 << 20;

const baseName = (key: string) => key.slice(key.lastIndexOf('/') + 1);
const dirOf = (key: string) => (key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '');

export async function readSmall(body: AsyncIterable<Buffer>, max: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const b of body) {
    n += b.length;
    if (n > max) {
      throw new SourceError('SOURCE_ERR_UNSUPPORTED_FORMAT', `${what} is larger than ${max} bytes`, {
        file: what,
      });
    }
    parts.push(b);
  }
  return Buffer.concat(parts, n);
}

export async function planFiles(
  names: string[],
  store: ObjectStore,
  signal?: AbortSignal,
): Promise<PlannedFile[]> {
  const info = new Map<string, ObjectInfo>();
  const head = async (key: string) => {
    let i = info.get(key);
    if (!i) {
      i = await store.head(key, signal);
      info.set(key, i);
    }
    return i;
  };
  // Every named file must exist before anything is written.
  for (const n of names) await head(n);

  const sets = new Map<string, string[]>(); // manifest key → keys in load order
  const claimed = new Map<string, string>(); // key → manifest key
  for (const m of names.filter((n) => n.endsWith('.manifest'))) {
    const i = await head(m);
    const text = await readSmall(store.open(m, i, { signal }), MAX_MANIFEST_BYTES, m);
    const manifest = parseManifest(text.toString('utf8'), m);
    const keys = manifest.load.map(
      (f) => names.find((n) => baseName(n) === f.name) ?? `${dirOf(m)}${f.name}`,
    );
    for (const k of keys) {
      await head(k);
      claimed.set(k, m);
    }
    sets.set(m, keys);
  }

  const plan: PlannedFile[] = [];
  const placed = new Set<string>();
  const place = (key: string, allowTruncated: boolean, manifest: string | null) => {
    if (placed.has(key)) return;
    placed.add(key);
    plan.push({ key, info: info.get(key)!, allowTruncated, manifest });
  };
  for (const n of names) {
    const m = sets.has(n) ? n : claimed.get(n);
    if (m) {
      const keys = sets.get(m)!;
      for (const [i, k] of keys.entries()) place(k, i === keys.length - 1, m);
      placed.add(m);
      continue;
    }
    place(n, true, null);
  }
  return plan;
}
