/**
 * Base of every typed error (STYLE habit 12). Each area defines its own subclasses in its `errors.ts`
 * (`src/rdb/errors.ts`, `src/target/errors.ts`, …) with stable `code`s of the form `<AREA>_<PROBLEM>`; identity is
 * by `code`, never by message text. `src/api/errors.ts` is the one place that maps them to DCS bodies.
 */
export interface ErrorWhere {
  /** File or object name being read. */
  file?: string;
  /** Byte offset in the input where the problem was detected. */
  offset?: number;
  db?: number;
  /** Key involved, printable form (see `printableKey`). */
  key?: string;
  /** Target node host:port. */
  node?: string;
  [extra: string]: string | number | undefined;
}

export class MigrationError extends Error {
  readonly code: string;
  readonly where: ErrorWhere;
  /** The message without the `(where…)` suffix, for bodies that must read exactly as the vendor's. */
  readonly bare: string;

  constructor(code: string, message: string, where: ErrorWhere = {}, options?: { cause?: unknown }) {
    super(withWhere(message, where), options);
    this.name = new.target.name;
    this.code = code;
    this.where = where;
    this.bare = message;
  }
}

function withWhere(message: string, where: ErrorWhere): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(where)) if (v !== undefined) parts.push(`${k}=${v}`);
  return parts.length ? `${message} (${parts.join(', ')})` : message;
}

/**
 * A key as it may appear in an error message or log: printable ASCII kept, everything else escaped, long keys
 * cut. Only for messages — never used on the data path.
 */
export function printableKey(key: Buffer, max = 128): string {
  let out = '';
  const n = Math.min(key.length, max);
  for (let i = 0; i < n; i++) {
    const b = key[i];
    out +=
      b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return key.length > max ? `${out}…(${key.length} bytes)` : out;
}
