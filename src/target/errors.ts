/**
 * Errors of the target writer (STYLE habit 12): stable codes `TARGET_ERR_<PROBLEM>`, where = {node, db, key}.
 * Identity is by `code`; a target's own error reply keeps Redis's error code (first word) in `where.reply`.
 */
import { type ErrorWhere, MigrationError } from '../errors.ts';

export type TargetErrorCode =
  /** The target cannot be reached (refused, timeout, DNS) or the connection kept failing past maxRetries. */
  | 'TARGET_ERR_CONNECT'
  /** Wrong password, unknown or disabled user, AUTH needed. */
  | 'TARGET_ERR_AUTH'
  /** The ACL user lacks a permission (NOPERM). */
  | 'TARGET_ERR_NOPERM'
  /** The target is out of memory (`-OOM`); not retried. */
  | 'TARGET_ERR_OOM'
  /** onConflict=fail and the key exists on the target. */
  | 'TARGET_ERR_BUSYKEY'
  /** A cluster target holds db 0 only; an entry maps to another db. */
  | 'TARGET_ERR_CLUSTER_DB'
  /** A multi-key command whose keys span slots and that cannot be split. */
  | 'TARGET_ERR_CROSSSLOT'
  /** Some slot is not served by any master. */
  | 'TARGET_ERR_CLUSTER_SLOTS'
  /** The target cannot take this entry (no usable dump and no decoded value, functions on < 7.0, field TTLs < 7.4). */
  | 'TARGET_ERR_UNSUPPORTED'
  /** Entries out of order (a chunk without its key, …). */
  | 'TARGET_ERR_SEQUENCE'
  /** The state found after a reconnect does not match what was acknowledged; the key cannot be resumed safely. */
  | 'TARGET_ERR_RECOVERY'
  /** Retriable errors (LOADING, TRYAGAIN, CLUSTERDOWN, redirects) persisted past maxRetries. */
  | 'TARGET_ERR_RETRIES'
  /** Any other error reply from the target (the reply's code is in `where.reply`). */
  | 'TARGET_ERR_REPLY'
  /** The writer was used after close(). */
  | 'TARGET_ERR_CLOSED';

export class TargetError extends MigrationError {
  declare readonly code: TargetErrorCode;
  constructor(code: TargetErrorCode, message: string, where: ErrorWhere = {}, options?: { cause?: unknown }) {
    super(code, message, where, options);
  }
}
