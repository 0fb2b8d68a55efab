/**
 * Redis 7 multi-part AOF manifest (redis `aof.c` aofLoadManifestFromFile): one line per file,
 * `file <name> seq <n> type <b|h|i>`, names quoted like sdssplitargs when they need it, `#` comments. Loading
 * order is the base (`b`) then the incr files (`i`) as listed; history files (`h`) are not loaded.
 */
import { AofError } from './errors.ts';

export interface ManifestFile {
  name: string;
  seq: number;
  type: 'base' | 'incr' | 'history';
}

export interface AofManifest {
  base: ManifestFile | null;
  incrs: ManifestFile[];
  /** Files to load, in order. */
  load: ManifestFile[];
}

/** Splits a line like sdssplitargs: spaces separate, "…" with \-escapes and '…' quote. */
function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length) break;
    let cur = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return null;
        const c = line[i];
        if (c === '\\' && i + 1 < line.length) {
          const n = line[i + 1];
          if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
            cur += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          cur += ({ n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' } as Record<string, string>)[n] ?? n;
          i += 2;
          continue;
        }
        if (c === '"') {
          i++;
          break;
        }
        cur += c;
        i++;
      }
    } else if (line[i] === "'") {
      i++;
      for (;;) {
        if (i >= line.length) return null;
        if (line[i] === '\\' && line[i + 1] === "'") {
          cur += "'";
          i += 2;
          continue;
        }
        if (line[i] === "'") {
          i++;
          break;
        }
        cur += line[i++];
      }
    } else {
      while (i < line.length && !/\s/.test(line[i])) cur += line[i++];
    }
    out.push(cur);
  }
  return out;
}

export function parseManifest(text: string, file?: string): AofManifest {
  const files: ManifestFile[] = [];
  let offset = 0;
  for (const raw of text.split('\n')) {
    const at = offset;
    offset += Buffer.byteLength(raw) + 1;
    const line = raw.replace(/\r$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    const args = splitArgs(line);
    if (!args || args.length % 2 !== 0) {
      throw new AofError('AOF_ERR_MANIFEST', 'invalid manifest line', { file, offset: at });
    }
    const kv = new Map<string, string>();
    for (let i = 0; i < args.length; i += 2) kv.set(args[i], args[i + 1]);
    const name = kv.get('file');
    const seq = Number(kv.get('seq'));
    const type = kv.get('type');
    if (!name || !Number.isSafeInteger(seq) || (type !== 'b' && type !== 'i' && type !== 'h')) {
      throw new AofError('AOF_ERR_MANIFEST', 'manifest line needs "file <name> seq <n> type <b|i|h>"', {
        file,
        offset: at,
      });
    }
    if (name.includes('/') || name.includes('\\')) {
      throw new AofError('AOF_ERR_MANIFEST', `manifest names a path, not a file name: ${name}`, {
        file,
        offset: at,
      });
    }
    files.push({ name, seq, type: type === 'b' ? 'base' : type === 'i' ? 'incr' : 'history' });
  }
  const bases = files.filter((f) => f.type === 'base');
  if (bases.length > 1)
    throw new AofError('AOF_ERR_MANIFEST', 'manifest lists more than one base file', { file });
  const incrs = files.filter((f) => f.type === 'incr');
  for (let i = 1; i < incrs.length; i++) {
    if (incrs[i].seq <= incrs[i - 1].seq) {
      throw new AofError('AOF_ERR_MANIFEST', 'manifest incr files are not in increasing seq order', { file });
    }
  }
  const base = bases[0] ?? null;
  const load = [...(base ? [base] : []), ...incrs];
  if (!load.length) throw new AofError('AOF_ERR_MANIFEST', 'manifest lists no base or incr file', { file });
  return { base, incrs, load };
}
