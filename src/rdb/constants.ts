/**
 * RDB constants, spelled exactly as in redis/src/rdb.h, listpack.c, ziplist.c, intset.c, zipmap.c, t_stream.c,
 * quicklist.h and (for Valkey-only meanings, prefixed VALKEY_) valkey/src/rdb.h. STYLE habit 1.
 */
import type { ValueType } from '../entry.ts';

/* rdb.h: length encodings (first two bits of a length byte). */
export const RDB_6BITLEN = 0;
export const RDB_14BITLEN = 1;
export const RDB_32BITLEN = 0x80;
export const RDB_64BITLEN = 0x81;
export const RDB_ENCVAL = 3;

/* rdb.h: special string encodings (RDB_ENCVAL + these six bits). */
export const RDB_ENC_INT8 = 0;
export const RDB_ENC_INT16 = 1;
export const RDB_ENC_INT32 = 2;
export const RDB_ENC_LZF = 3;

/* rdb.h: value types. */
export const RDB_TYPE_STRING = 0;
export const RDB_TYPE_LIST = 1;
export const RDB_TYPE_SET = 2;
export const RDB_TYPE_ZSET = 3;
export const RDB_TYPE_HASH = 4;
export const RDB_TYPE_ZSET_2 = 5;
export const RDB_TYPE_MODULE_PRE_GA = 6;
export const RDB_TYPE_MODULE_2 = 7;
export const RDB_TYPE_HASH_ZIPMAP = 9;
export const RDB_TYPE_LIST_ZIPLIST = 10;
export const RDB_TYPE_SET_INTSET = 11;
export const RDB_TYPE_ZSET_ZIPLIST = 12;
export const RDB_TYPE_HASH_ZIPLIST = 13;
export const RDB_TYPE_LIST_QUICKLIST = 14;
export const RDB_TYPE_STREAM_LISTPACKS = 15;
export const RDB_TYPE_HASH_LISTPACK = 16;
export const RDB_TYPE_ZSET_LISTPACK = 17;
export const RDB_TYPE_LIST_QUICKLIST_2 = 18;
export const RDB_TYPE_STREAM_LISTPACKS_2 = 19;
export const RDB_TYPE_SET_LISTPACK = 20;
export const RDB_TYPE_STREAM_LISTPACKS_3 = 21;
export const RDB_TYPE_HASH_METADATA_PRE_GA = 22;
export const RDB_TYPE_HASH_LISTPACK_EX_PRE_GA = 23;
export const RDB_TYPE_HASH_METADATA = 24;
export const RDB_TYPE_HASH_LISTPACK_EX = 25;
/** Redis 8.6 (RDB 13): stream with IDMP producers (librdb PR #93, t_stream.c). */
export const RDB_TYPE_STREAM_LISTPACKS_4 = 26;

/* valkey/src/rdb.h: types whose number means something else in VALKEY-magic files. */
export const VALKEY_RDB_TYPE_HASH_2 = 22;
export const VALKEY_RDB_TYPE_PATH_HASH = 23;

/* rdb.h: opcodes. */
/** Redis 8.6 (RDB 13): key metadata prefix (module metadata classes) before a key's type byte. */
export const RDB_OPCODE_KEY_META = 243;
export const RDB_OPCODE_SLOT_INFO = 244;
export const RDB_OPCODE_FUNCTION2 = 245;
export const RDB_OPCODE_FUNCTION_PRE_GA = 246;
export const RDB_OPCODE_MODULE_AUX = 247;
export const RDB_OPCODE_IDLE = 248;
export const RDB_OPCODE_FREQ = 249;
export const RDB_OPCODE_AUX = 250;
export const RDB_OPCODE_RESIZEDB = 251;
export const RDB_OPCODE_EXPIRETIME_MS = 252;
export const RDB_OPCODE_EXPIRETIME = 253;
export const RDB_OPCODE_SELECTDB = 254;
export const RDB_OPCODE_EOF = 255;
/* valkey/src/rdb.h */
export const VALKEY_RDB_OPCODE_SLOT_IMPORT = 243;
/* Redis Enterprise only (librdb src/lib/defines.h __RDB_OPCODE_*). */
export const RDB_OPCODE_REDIS_ENT_RAM_LRU = 107;
export const RDB_OPCODE_REDIS_ENT_SLOT_NUM = 121;

/* rdb.h: module value sub-opcodes. */
export const RDB_MODULE_OPCODE_EOF = 0;
export const RDB_MODULE_OPCODE_SINT = 1;
export const RDB_MODULE_OPCODE_UINT = 2;
export const RDB_MODULE_OPCODE_FLOAT = 3;
export const RDB_MODULE_OPCODE_DOUBLE = 4;
export const RDB_MODULE_OPCODE_STRING = 5;

/** Highest RDB version of REDIS-magic files this decoder understands (Redis 8.6). */
export const RDB_VERSION_MAX_REDIS = 13;
/** VALKEY-magic versions this decoder understands (valkey/src/rdb.h RDB_VERSION_MAP: 80 = 9.0, 81 = 9.2). */
export const RDB_VERSION_MIN_VALKEY = 80;
export const RDB_VERSION_MAX_VALKEY = 81;

/* listpack.c */
export const LP_HDR_SIZE = 6;
export const LP_HDR_NUMELE_UNKNOWN = 0xffff;
export const LP_ENCODING_7BIT_UINT = 0;
export const LP_ENCODING_7BIT_UINT_MASK = 0x80;
export const LP_ENCODING_6BIT_STR = 0x80;
export const LP_ENCODING_6BIT_STR_MASK = 0xc0;
export const LP_ENCODING_13BIT_INT = 0xc0;
export const LP_ENCODING_13BIT_INT_MASK = 0xe0;
export const LP_ENCODING_12BIT_STR = 0xe0;
export const LP_ENCODING_12BIT_STR_MASK = 0xf0;
export const LP_ENCODING_16BIT_INT = 0xf1;
export const LP_ENCODING_24BIT_INT = 0xf2;
export const LP_ENCODING_32BIT_INT = 0xf3;
export const LP_ENCODING_64BIT_INT = 0xf4;
export const LP_ENCODING_32BIT_STR = 0xf0;
export const LP_EOF = 0xff;

/* ziplist.c */
export const ZIP_END = 255;
export const ZIP_BIG_PREVLEN = 254;
export const ZIP_STR_MASK = 0xc0;
export const ZIP_INT_MASK = 0x30;
export const ZIP_STR_06B = 0 << 6;
export const ZIP_STR_14B = 1 << 6;
export const ZIP_STR_32B = 2 << 6;
export const ZIP_INT_16B = 0xc0 | (0 << 4);
export const ZIP_INT_32B = 0xc0 | (1 << 4);
export const ZIP_INT_64B = 0xc0 | (2 << 4);
export const ZIP_INT_24B = 0xc0 | (3 << 4);
export const ZIP_INT_8B = 0xfe;
export const ZIP_INT_IMM_MASK = 0x0f;
export const ZIP_INT_IMM_MIN = 0xf1;
export const ZIP_INT_IMM_MAX = 0xfd;
export const ZIPLIST_HEADER_SIZE = 10;

/* intset.c */
export const INTSET_ENC_INT16 = 2;
export const INTSET_ENC_INT32 = 4;
export const INTSET_ENC_INT64 = 8;

/* zipmap.c */
export const ZIPMAP_BIGLEN = 254;
export const ZIPMAP_END = 255;

/* quicklist.h */
export const QUICKLIST_NODE_CONTAINER_PLAIN = 1;
export const QUICKLIST_NODE_CONTAINER_PACKED = 2;

/* t_stream.c */
export const STREAM_ITEM_FLAG_NONE = 0;
export const STREAM_ITEM_FLAG_DELETED = 1 << 0;
export const STREAM_ITEM_FLAG_SAMEFIELDS = 1 << 1;

/* t_hash.c */
export const HASH_LP_NO_TTL = 0;
/* ebuckets.h */
export const EB_EXPIRE_TIME_MAX = 0xffffffffffff;

export type Flavor = 'redis' | 'valkey';

export interface RdbTypeInfo {
  name: string;
  /** Lowest RDB version whose files may contain this type (the version that introduced it). */
  minVersion: number;
  valueType: ValueType;
}

/** REDIS-magic files: type byte → name, introducing RDB version and logical type. */
export const REDIS_RDB_TYPES: ReadonlyMap<number, RdbTypeInfo> = new Map<number, RdbTypeInfo>([
  [RDB_TYPE_STRING, { name: 'STRING', minVersion: 1, valueType: 'string' }],
  [RDB_TYPE_LIST, { name: 'LIST', minVersion: 1, valueType: 'list' }],
  [RDB_TYPE_SET, { name: 'SET', minVersion: 1, valueType: 'set' }],
  [RDB_TYPE_ZSET, { name: 'ZSET', minVersion: 1, valueType: 'zset' }],
  [RDB_TYPE_HASH, { name: 'HASH', minVersion: 1, valueType: 'hash' }],
  [RDB_TYPE_ZSET_2, { name: 'ZSET_2', minVersion: 8, valueType: 'zset' }],
  [RDB_TYPE_MODULE_PRE_GA, { name: 'MODULE_PRE_GA', minVersion: 8, valueType: 'module' }],
  [RDB_TYPE_MODULE_2, { name: 'MODULE_2', minVersion: 8, valueType: 'module' }],
  [RDB_TYPE_HASH_ZIPMAP, { name: 'HASH_ZIPMAP', minVersion: 2, valueType: 'hash' }],
  [RDB_TYPE_LIST_ZIPLIST, { name: 'LIST_ZIPLIST', minVersion: 2, valueType: 'list' }],
  [RDB_TYPE_SET_INTSET, { name: 'SET_INTSET', minVersion: 2, valueType: 'set' }],
  [RDB_TYPE_ZSET_ZIPLIST, { name: 'ZSET_ZIPLIST', minVersion: 2, valueType: 'zset' }],
  [RDB_TYPE_HASH_ZIPLIST, { name: 'HASH_ZIPLIST', minVersion: 4, valueType: 'hash' }],
  [RDB_TYPE_LIST_QUICKLIST, { name: 'LIST_QUICKLIST', minVersion: 7, valueType: 'list' }],
  [RDB_TYPE_STREAM_LISTPACKS, { name: 'STREAM_LISTPACKS', minVersion: 9, valueType: 'stream' }],
  [RDB_TYPE_HASH_LISTPACK, { name: 'HASH_LISTPACK', minVersion: 10, valueType: 'hash' }],
  [RDB_TYPE_ZSET_LISTPACK, { name: 'ZSET_LISTPACK', minVersion: 10, valueType: 'zset' }],
  [RDB_TYPE_LIST_QUICKLIST_2, { name: 'LIST_QUICKLIST_2', minVersion: 10, valueType: 'list' }],
  [RDB_TYPE_STREAM_LISTPACKS_2, { name: 'STREAM_LISTPACKS_2', minVersion: 10, valueType: 'stream' }],
  [RDB_TYPE_SET_LISTPACK, { name: 'SET_LISTPACK', minVersion: 11, valueType: 'set' }],
  [RDB_TYPE_STREAM_LISTPACKS_3, { name: 'STREAM_LISTPACKS_3', minVersion: 11, valueType: 'stream' }],
  [RDB_TYPE_HASH_METADATA_PRE_GA, { name: 'HASH_METADATA_PRE_GA', minVersion: 12, valueType: 'hash' }],
  [RDB_TYPE_HASH_LISTPACK_EX_PRE_GA, { name: 'HASH_LISTPACK_EX_PRE_GA', minVersion: 12, valueType: 'hash' }],
  [RDB_TYPE_HASH_METADATA, { name: 'HASH_METADATA', minVersion: 12, valueType: 'hash' }],
  [RDB_TYPE_HASH_LISTPACK_EX, { name: 'HASH_LISTPACK_EX', minVersion: 12, valueType: 'hash' }],
  [RDB_TYPE_STREAM_LISTPACKS_4, { name: 'STREAM_LISTPACKS_4', minVersion: 13, valueType: 'stream' }],
]);

/** VALKEY-magic files: types 0-21 as in Redis (RDB 11), then Valkey's own numbering. */
export const VALKEY_RDB_TYPES: ReadonlyMap<number, RdbTypeInfo> = new Map<number, RdbTypeInfo>([
  ...[...REDIS_RDB_TYPES].filter(([t]) => t <= RDB_TYPE_STREAM_LISTPACKS_3),
  [VALKEY_RDB_TYPE_HASH_2, { name: 'HASH_2', minVersion: 80, valueType: 'hash' }],
]);

export function rdbTypeInfo(rdbType: number, flavor: Flavor): RdbTypeInfo | undefined {
  return (flavor === 'valkey' ? VALKEY_RDB_TYPES : REDIS_RDB_TYPES).get(rdbType);
}
