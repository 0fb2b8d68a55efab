/**
 * Format of a byte stream from its first bytes (magic numbers), never from its name alone: a backup named
 * `dump.rdb` that is really gzip is still read, and a file that is none of the formats is refused at once.
 */

export type ContainerFormat = 'gzip' | 'zip' | 'tar';
export type DataFormat = 'rdb' | 'aof' | 'manifest';
export type Format = ContainerFormat | DataFormat | 'empty' | 'unknown';

/** Bytes `detectFormat` wants to see (a tar header's magic sits at 257). */
export const DETECT_BYTES = 512;

function startsWith(b: Buffer, ascii: string, at = 0): boolean {
  if (b.length < at + ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (b[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
}

export function detectFormat(head: Buffer): Format {
  if (head.length === 0) return 'empty';
  if (head[0] === 0x1f && head.length >= 2 && head[1] === 0x8b) return 'gzip';
  if (startsWith(head, 'PK\x03\x04') || startsWith(head, 'PK\x05\x06')) return 'zip';
  if (startsWith(head, 'REDIS') || startsWith(head, 'VALKEY')) return 'rdb';
  // A tar header: "ustar" magic (POSIX "ustar\0", GNU "ustar  ").
  if (startsWith(head, 'ustar', 257)) return 'tar';
  // RESP command ("*<digit>") or a "#TS:" style annotation line, as Redis writes AOFs.
  if (head[0] === 0x2a && head.length >= 2 && head[1] >= 0x30 && head[1] <= 0x39) return 'aof';
  if (head[0] === 0x23) return 'aof';
  // Redis 7 multi-part AOF manifest: "file <name> seq <n> type <b|i|h>" lines.
  if (startsWith(head, 'file ')) return 'manifest';
  return 'unknown';
}

/** The first bytes as hex, for "unsupported format" messages. */
export function headHex(head: Buffer, n = 8): string {
  return [...head.subarray(0, n)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
