/** Public surface of the streaming RDB decoder: everything other folders import comes from here. */
export type { Flavor, RdbTypeInfo } from './constants.ts';
export { RDB_VERSION_MAX_REDIS, RDB_VERSION_MAX_VALKEY, rdbTypeInfo } from './constants.ts';
export { Crc64, crc64 } from './crc64.ts';
export { decodeDump } from './dump-decode.ts';
export { stringDumpLength, stringDumpOf, writeStringDump } from './dump-string.ts';
export { RDB_ERROR_CODES, RdbError, type RdbErrorCode } from './errors.ts';
export { RDB_PARSER_DEFAULTS, RdbParser, type RdbParserOptions, type RdbStatus, readRdb } from './parser.ts';
