/**
 * Sorted sets: RDB_TYPE_ZSET (member + ASCII score), RDB_TYPE_ZSET_2 (member + binary double),
 * RDB_TYPE_ZSET_ZIPLIST / RDB_TYPE_ZSET_LISTPACK (member, score pairs), following redis/src/rdb.c
 * `rdbLoadObject()` (NaN scores are corrupt input).
 */
import {
  RDB_TYPE_ZSET,
  RDB_TYPE_ZSET_2,
  RDB_TYPE_ZSET_LISTPACK,
  RDB_TYPE_ZSET_ZIPLIST,
} from '../constants.ts';
import { type Item, listpackCount, listpackDecode } from '../encodings/listpack.ts';
import { ziplistCount, ziplistDecode } from '../encodings/ziplist.ts';
import { RdbError } from '../errors.ts';
import { CHECK_LISTPACK, CHECK_ZIPLIST } from '../kernel.ts';
import { type Reader, SKIP_STRING_DOUBLE } from '../reader.ts';
import { checkScore, itemBuffer, itemNumber, type ValueDecoder, type ValueSink } from './common.ts';

class ZsetDecoder implements ValueDecoder {
  count = 0;
  private left = -1;
  private members: Buffer[] = [];
  private scores: number[] = [];
  private bytes = 0;

  constructor(private readonly rdbType: number) {}

  private add(m: Buffer, score: number, sink: ValueSink): void {
    if (this.members.length > 0 && this.bytes + m.length + 8 > sink.maxChunkBytes) {
      sink.piece({ type: 'zset', members: this.members, scores: this.scores }, false);
      this.members = [];
      this.scores = [];
      this.bytes = 0;
    }
    this.members.push(m);
    this.scores.push(checkScore(score));
    this.bytes += m.length + 8;
    this.count++;
  }

  step(r: Reader, sink: ValueSink): boolean {
    const t = this.rdbType;
    if (t === RDB_TYPE_ZSET_ZIPLIST || t === RDB_TYPE_ZSET_LISTPACK) {
      let n: number | null;
      let items: Item[] | null = null;
      if (sink.skip) {
        n =
          t === RDB_TYPE_ZSET_ZIPLIST
            ? r.blobCount(CHECK_ZIPLIST, ziplistCount)
            : r.blobCount(CHECK_LISTPACK, listpackCount);
        if (n === null) return false;
      } else {
        const blob = r.string();
        if (blob === null) return false;
        items = [];
        n = t === RDB_TYPE_ZSET_ZIPLIST ? ziplistDecode(blob, items) : listpackDecode(blob, items);
      }
      if (n % 2 !== 0) {
        throw new RdbError(
          t === RDB_TYPE_ZSET_ZIPLIST ? 'RDB_ERR_ZIPLIST' : 'RDB_ERR_LISTPACK',
          'zset with an odd number of elements',
        );
      }
      if (items === null) this.count = n >> 1;
      else {
        for (let i = 0; i < n; i += 2) this.add(itemBuffer(items[i]), itemNumber(items[i + 1]), sink);
      }
    } else {
      if (this.left < 0) {
        const n = r.length();
        if (n < 0) return false;
        this.left = n;
      }
      while (this.left > 0) {
        if (sink.skip && t === RDB_TYPE_ZSET_2) {
          const n = r.skipElements(this.left, SKIP_STRING_DOUBLE);
          this.left -= n;
          this.count += n;
          if (this.left === 0) break;
        }
        const mark = r.pos;
        const m = sink.skip ? (r.skipString() ? null : undefined) : r.string();
        if (m === undefined || (m === null && !sink.skip)) return false;
        let score: number | null;
        if (t === RDB_TYPE_ZSET_2) {
          score = r.have(8) ? r.f64le() : null;
        } else {
          score = r.asciiDouble();
        }
        if (score === null) {
          r.pos = mark;
          return false;
        }
        if (sink.skip) {
          checkScore(score);
          this.count++;
        } else this.add(m as Buffer, score, sink);
        this.left--;
      }
    }
    if (!sink.skip) sink.piece({ type: 'zset', members: this.members, scores: this.scores }, true);
    return true;
  }
}

export function createZsetDecoder(rdbType: number): ValueDecoder {
  switch (rdbType) {
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2:
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK:
      return new ZsetDecoder(rdbType);
    default:
      throw new RdbError('RDB_ERR_UNKNOWN_TYPE', `not a zset type: ${rdbType}`);
  }
}
