/**
 * Hashes, following redis/src/rdb.c `rdbLoadObject()`: RDB_TYPE_HASH (field, value strings), HASH_ZIPMAP,
 * HASH_ZIPLIST and HASH_LISTPACK (field, value pairs), the field-TTL types HASH_METADATA_PRE_GA (absolute TTL
 * before each field), HASH_METADATA (min-expire prefix, TTL+1 relative to it, 0 = none), HASH_LISTPACK_EX_PRE_GA
 * / HASH_LISTPACK_EX (field, value, absolute TTL triples; the GA one after a min-expire prefix), and Valkey's
 * VALKEY_RDB_TYPE_HASH_2 (valkey/src/rdb.c: field, value, ms expiry with -1 = none).
 * Already-expired fields are dropped when asked (as Redis does on load).
 */
import type { Value } from '../../entry.ts';
import {
  EB_EXPIRE_TIME_MAX,
  type Flavor,
  RDB_TYPE_HASH,
  RDB_TYPE_HASH_LISTPACK,
  RDB_TYPE_HASH_LISTPACK_EX,
  RDB_TYPE_HASH_LISTPACK_EX_PRE_GA,
  RDB_TYPE_HASH_METADATA,
  RDB_TYPE_HASH_METADATA_PRE_GA,
  RDB_TYPE_HASH_ZIPLIST,
  RDB_TYPE_HASH_ZIPMAP,
  VALKEY_RDB_TYPE_HASH_2,
} from '../constants.ts';
import { type Item, listpackCount, listpackDecode } from '../encodings/listpack.ts';
import { ziplistCount, ziplistDecode } from '../encodings/ziplist.ts';
import { zipmapDecode } from '../encodings/zipmap.ts';
import { RdbError } from '../errors.ts';
import { type Reader, SKIP_STRING_PAIR } from '../reader.ts';
import { itemBuffer, type ValueDecoder, type ValueSink } from './common.ts';

const K_PLAIN = 0; // field, value strings
const K_ZIPMAP = 1;
const K_ZIPLIST = 2;
const K_LISTPACK = 3;
const K_META_PRE_GA = 4; // ttl(abs), field, value
const K_META = 5; // minExpire; ttl(rel), field, value
const K_LP_EX_PRE_GA = 6; // listpack triples
const K_LP_EX = 7; // minExpire; listpack triples
const K_VALKEY_HASH_2 = 8; // field, value, i64 expiry

/** Elements per field in a packed hash of kind `k` (field, value[, TTL]), once `n` elements are known whole. */
function tupleOf(k: number, n: number): number {
  const tuple = k === K_LP_EX_PRE_GA || k === K_LP_EX ? 3 : 2;
  if (n % tuple !== 0) {
    throw new RdbError(
      k === K_ZIPLIST ? 'RDB_ERR_ZIPLIST' : 'RDB_ERR_LISTPACK',
      'hash with a partial field tuple',
    );
  }
  return tuple;
}

class HashDecoder implements ValueDecoder {
  count = 0;
  private left = -1;
  private minExpire = -1;
  private fields: Buffer[] = [];
  private values: Buffer[] = [];
  private expires: number[] = [];
  private anyTtl = false;
  private bytes = 0;
  private readonly withTtl: boolean;

  constructor(private readonly kind: number) {
    this.withTtl = kind >= K_META_PRE_GA;
  }

  private value(): Value {
    const v: Value = { type: 'hash', fields: this.fields, values: this.values };
    if (this.anyTtl) v.expires = this.expires;
    return v;
  }

  private add(f: Buffer, v: Buffer, exp: number, sink: ValueSink): void {
    if (exp !== 0 && sink.dropExpiredFields && exp <= sink.now) return;
    if (sink.skip) {
      this.count++;
      return;
    }
    if (this.fields.length > 0 && this.bytes + f.length + v.length > sink.maxChunkBytes) {
      sink.piece(this.value(), false);
      this.fields = [];
      this.values = [];
      this.expires = [];
      this.anyTtl = false;
      this.bytes = 0;
    }
    this.fields.push(f);
    this.values.push(v);
    if (this.withTtl) {
      this.expires.push(exp);
      if (exp !== 0) this.anyTtl = true;
    }
    this.bytes += f.length + v.length;
    this.count++;
  }

  private checkTtl(exp: number): number {
    if (exp < 0 || exp > EB_EXPIRE_TIME_MAX)
      throw new RdbError('RDB_ERR_BAD_VALUE', `invalid hash field TTL ${exp}`);
    return exp;
  }

  step(r: Reader, sink: ValueSink): boolean {
    const k = this.kind;
    if ((k === K_META || k === K_LP_EX) && this.minExpire < 0) {
      if (!r.have(8)) return false;
      this.minExpire = r.i64le();
      if (this.minExpire < 0 || this.minExpire > EB_EXPIRE_TIME_MAX + 1) {
        throw new RdbError('RDB_ERR_BAD_VALUE', 'hash with an invalid min-expire value');
      }
    }
    if (k === K_ZIPMAP || k === K_ZIPLIST || k === K_LISTPACK || k === K_LP_EX_PRE_GA || k === K_LP_EX) {
      const blob = r.string();
      if (blob === null) return false;
      if (sink.skip && !sink.dropExpiredFields) {
        if (k === K_ZIPMAP) this.count = zipmapDecode(blob, []);
        else {
          this.count = k === K_ZIPLIST ? ziplistCount(blob) : listpackCount(blob);
          tupleOf(k, this.count);
        }
      } else if (k === K_ZIPMAP) {
        const out: Buffer[] = [];
        const n = zipmapDecode(blob, out);
        for (let i = 0; i < n * 2; i += 2) this.add(out[i], out[i + 1], 0, sink);
      } else {
        const items: Item[] = [];
        const n = k === K_ZIPLIST ? ziplistDecode(blob, items) : listpackDecode(blob, items);
        const tuple = tupleOf(k, n);
        for (let i = 0; i < n; i += tuple) {
          let exp = 0;
          if (tuple === 3) {
            const t = items[i + 2];
            if (typeof t !== 'number')
              throw new RdbError('RDB_ERR_LISTPACK', 'hash field TTL is not an integer');
            exp = this.checkTtl(t);
          }
          this.add(itemBuffer(items[i]), itemBuffer(items[i + 1]), exp, sink);
        }
      }
      return this.finish(sink);
    }
    if (this.left < 0) {
      const n = r.length();
      if (n < 0) return false;
      this.left = n;
    }
    // Without field TTLs there is nothing to drop: dumps need only the structure.
    const structural = sink.skip && (!sink.dropExpiredFields || !this.withTtl);
    while (this.left > 0) {
      if (structural && k === K_PLAIN) {
        const n = r.skipElements(this.left, SKIP_STRING_PAIR);
        this.left -= n;
        this.count += n;
        if (this.left === 0) break;
      }
      const mark = r.pos;
      let exp = 0;
      if (k === K_META_PRE_GA || k === K_META) {
        const ttl = r.length();
        if (ttl < 0) return false;
        exp = k === K_META ? (ttl !== 0 ? ttl + this.minExpire - 1 : 0) : ttl;
        this.checkTtl(exp);
      }
      let f: Buffer | null;
      let v: Buffer | null;
      if (structural) {
        f = r.skipString() ? EMPTY : null;
        v = f && r.skipString() ? EMPTY : null;
      } else {
        f = r.string();
        v = f && r.string();
      }
      if (f === null || v === null) {
        r.pos = mark;
        return false;
      }
      if (k === K_VALKEY_HASH_2) {
        if (!r.have(8)) {
          r.pos = mark;
          return false;
        }
        const e = r.i64le();
        // valkey EXPIRY_NONE = -1; other non-positive values are long past.
        exp = e === -1 ? 0 : Math.max(e, 1);
      }
      this.add(f, v, exp, sink);
      this.left--;
    }
    return this.finish(sink);
  }

  private finish(sink: ValueSink): boolean {
    if (!sink.skip) sink.piece(this.value(), true);
    return true;
  }
}

const EMPTY = Buffer.alloc(0);

export function createHashDecoder(rdbType: number, flavor: Flavor): ValueDecoder {
  if (flavor === 'valkey' && rdbType === VALKEY_RDB_TYPE_HASH_2) return new HashDecoder(K_VALKEY_HASH_2);
  switch (rdbType) {
    case RDB_TYPE_HASH:
      return new HashDecoder(K_PLAIN);
    case RDB_TYPE_HASH_ZIPMAP:
      return new HashDecoder(K_ZIPMAP);
    case RDB_TYPE_HASH_ZIPLIST:
      return new HashDecoder(K_ZIPLIST);
    case RDB_TYPE_HASH_LISTPACK:
      return new HashDecoder(K_LISTPACK);
  }
  if (flavor === 'redis') {
    switch (rdbType) {
      case RDB_TYPE_HASH_METADATA_PRE_GA:
        return new HashDecoder(K_META_PRE_GA);
      case RDB_TYPE_HASH_METADATA:
        return new HashDecoder(K_META);
      case RDB_TYPE_HASH_LISTPACK_EX_PRE_GA:
        return new HashDecoder(K_LP_EX_PRE_GA);
      case RDB_TYPE_HASH_LISTPACK_EX:
        return new HashDecoder(K_LP_EX);
    }
  }
  throw new RdbError('RDB_ERR_UNKNOWN_TYPE', `not a hash type: ${rdbType}`);
}
