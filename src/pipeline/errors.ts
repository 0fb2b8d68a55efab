/**
 * Errors of the import pipelines. A failure while importing a file keeps its cause's code and message and gains
 * where it happened (file or archive member, byte offset), so the task's `error` names file, offset and cause.
 */
import { type ErrorWhere, MigrationError } from '../errors.ts';

export class ImportError extends MigrationError {
  /** `cause` with `where` filled in where it did not say already; the code stays the cause's. */
  static wrap(cause: unknown, where: ErrorWhere): ImportError {
    if (cause instanceof ImportError) return cause;
    if (cause instanceof MigrationError) {
      const merged: ErrorWhere = { ...where };
      for (const [k, v] of Object.entries(cause.where)) if (v !== undefined) merged[k] = v;
      return new ImportError(cause.code, cause.bare, merged, { cause });
    }
    const msg = cause instanceof Error ? cause.message : String(cause);
    return new ImportError('IMPORT_ERR_INTERNAL', `unexpected failure: ${msg}`, where, { cause });
  }
}
