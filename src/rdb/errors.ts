/**
 * Typed errors of the RDB decoder (STYLE habit 12). Identity is by `code`; `where` names the file, the absolute
 * byte offset in the input, the db and the key being decoded.
 */
import { type ErrorWhere, MigrationError } from '../errors.ts';

export const RDB_ERROR_CODES = [
  /** Input ended before the EOF opcode (and checksum) were read. */
  'RDB_ERR_TRUNCATED',
  /** Neither `REDIS` nor `VALKEY` magic. */
  'RDB_ERR_BAD_MAGIC',
  /** Header version not understood (e.g. REDIS0099, VALKEY987). */
  'RDB_ERR_UNSUPPORTED_VERSION',
  /** Stored CRC64 differs from the computed one. */
  'RDB_ERR_CHECKSUM',
  /** Unknown value type or opcode byte. */
  'RDB_ERR_UNKNOWN_TYPE',
  /** Invalid length encoding or a length too large to be real. */
  'RDB_ERR_BAD_LENGTH',
  /** Invalid special string encoding. */
  'RDB_ERR_BAD_STRING',
  /** Corrupt LZF payload. */
  'RDB_ERR_LZF',
  'RDB_ERR_ZIPLIST',
  'RDB_ERR_LISTPACK',
  'RDB_ERR_INTSET',
  'RDB_ERR_ZIPMAP',
  /** Invalid quicklist node container. */
  'RDB_ERR_QUICKLIST',
  /** Stream integrity check failed. */
  'RDB_ERR_STREAM',
  /** Module value not terminated properly / unknown module sub-opcode. */
  'RDB_ERR_MODULE',
  /** RDB_TYPE_MODULE_PRE_GA values cannot be skipped without the module. */
  'RDB_ERR_MODULE_PRE_GA',
  /** Invalid value content (NaN score, invalid double, bad TTL). */
  'RDB_ERR_BAD_VALUE',
  /** One item (key, member, encoded blob) is larger than `maxItemBytes`. */
  'RDB_ERR_ITEM_TOO_LARGE',
  /** Anything else that went wrong decoding corrupt input. */
  'RDB_ERR_CORRUPT',
] as const;

export type RdbErrorCode = (typeof RDB_ERROR_CODES)[number];

export class RdbError extends MigrationError {
  declare readonly code: RdbErrorCode;

  constructor(code: RdbErrorCode, message: string, where: ErrorWhere = {}, options?: { cause?: unknown }) {
    super(code, message, where, options);
  }
}
