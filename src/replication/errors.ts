/**
 * Errors of the replica client (STYLE habit 12): stable codes `REPL_ERR_<PROBLEM>`, where = {node, offset}.
 * `retriable` says whether reconnecting (with PSYNC from the applied offset) may get past the problem.
 */
import { type ErrorWhere, MigrationError } from '../errors.ts';

export type ReplicationErrorCode =
  /** The source cannot be reached (refused, timeout, DNS). */
  | 'REPL_ERR_CONNECT'
  /** Wrong password, unknown or disabled user, AUTH needed. */
  | 'REPL_ERR_AUTH'
  /** The source refuses to act as a master for us (SYNC/PSYNC renamed, disabled or not permitted). */
  | 'REPL_ERR_SYNC_REFUSED'
  /** The source is busy (LOADING, NOMASTERLINK of a replica source, MASTERDOWN): try again later. */
  | 'REPL_ERR_BUSY'
  /** The connection dropped or went silent past the timeout. */
  | 'REPL_ERR_LOST'
  /** The bytes from the source are not the replication protocol. */
  | 'REPL_ERR_PROTOCOL'
  /** A partial resync was refused (backlog no longer covers the offset) and resume_mode is manual. */
  | 'REPL_ERR_RESYNC_REQUIRED';

const RETRIABLE: ReadonlySet<ReplicationErrorCode> = new Set([
  'REPL_ERR_CONNECT',
  'REPL_ERR_BUSY',
  'REPL_ERR_LOST',
]);

export class ReplicationError extends MigrationError {
  declare readonly code: ReplicationErrorCode;
  constructor(
    code: ReplicationErrorCode,
    message: string,
    where: ErrorWhere = {},
    options?: { cause?: unknown },
  ) {
    super(code, message, where, options);
  }

  get retriable(): boolean {
    return RETRIABLE.has(this.code);
  }
}
