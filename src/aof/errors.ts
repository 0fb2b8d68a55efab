/** Errors of the AOF reader (STYLE habit 12); `where` has the file and the byte offset of the bad command. */
import { type ErrorWhere, MigrationError } from '../errors.ts';

export type AofErrorCode =
  /** Not a RESP command stream (bad framing, a command that is not an array of bulk strings). */
  | 'AOF_ERR_CORRUPT'
  /** The file ends inside a command where that is not allowed (a multi-part base, or not the last file). */
  | 'AOF_ERR_TRUNCATED'
  /** A multi-part manifest that cannot be read or names no base/incr file. */
  | 'AOF_ERR_MANIFEST';

export class AofError extends MigrationError {
  declare readonly code: AofErrorCode;
  constructor(code: AofErrorCode, message: string, where: ErrorWhere = {}, options?: { cause?: unknown }) {
    super(code, message, where, options);
  }
}
