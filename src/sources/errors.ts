/**
 * Errors of the byte sources (STYLE habit 12): buckets, files, archives. Identity is by `code`; `where` names the
 * bucket, the object or archive member, and the byte offset where the problem was seen.
 */
import { type ErrorWhere, MigrationError } from '../errors.ts';

export type SourceErrorCode =
  /** The bucket does not exist. */
  | 'SOURCE_ERR_NO_BUCKET'
  /** The object (or local file) does not exist. */
  | 'SOURCE_ERR_NO_OBJECT'
  /** The credentials were refused or lack permission (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch). */
  | 'SOURCE_ERR_ACCESS_DENIED'
  /** The object changed (ETag) between the first read and a resumed read. */
  | 'SOURCE_ERR_CHANGED'
  /** Reading kept failing (network, endpoint down) past the retry budget. */
  | 'SOURCE_ERR_READ'
  /** The object ended before the size the store announced. */
  | 'SOURCE_ERR_TRUNCATED'
  /** The content is none of the supported formats. */
  | 'SOURCE_ERR_UNSUPPORTED_FORMAT'
  /** A gzip, tar or zip container is corrupt or truncated. */
  | 'SOURCE_ERR_ARCHIVE'
  /** A source option is not usable (backup_record, missing bucket, …). */
  | 'SOURCE_ERR_CONFIG';

export class SourceError extends MigrationError {
  declare readonly code: SourceErrorCode;
  constructor(code: SourceErrorCode, message: string, where: ErrorWhere = {}, options?: { cause?: unknown }) {
    super(code, message, where, options);
  }
}
