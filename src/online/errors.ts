/** Errors of the online-migration orchestration (configuration and source topology problems). */
import { type ErrorWhere, MigrationError } from '../errors.ts';

export type OnlineErrorCode =
  /** The task names no source, or a source address that is not host:port. */
  | 'ONLINE_ERR_CONFIG'
  /** The source's topology cannot be read (INFO / CLUSTER NODES failed). */
  | 'ONLINE_ERR_SOURCE';

export class OnlineError extends MigrationError {
  declare readonly code: OnlineErrorCode;
  constructor(code: OnlineErrorCode, message: string, where: ErrorWhere = {}, options?: { cause?: unknown }) {
    super(code, message, where, options);
  }
}
