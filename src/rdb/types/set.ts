/**
 * Sets: RDB_TYPE_SET (strings), RDB_TYPE_SET_INTSET (one intset), RDB_TYPE_SET_LISTPACK (one listpack),
 * following redis/src/rdb.c `rdbLoadObject()`.
 */
import { RDB_TYPE_SET, RDB_TYPE_SET_INTSET, RDB_TYPE_SET_LISTPACK } from '../constants.ts';
import { intsetCount, intsetDecode } from '../encodings/intset.ts';
import { type Item, listpackCount, listpackDecode } from '../encodings/listpack.ts';
import { RdbError } from '../errors.ts';
import { CHECK_INTSET, CHECK_LISTPACK } from '../kernel.ts';
import { type Reader, SKIP_STRING } from '../reader.ts';
import { itemBuffer, type ValueDecoder, type ValueSink } from './common.ts';

class SetDecoder implements ValueDecoder {
  count = 0;
  private left = -1;
  private members: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly rdbType: number) {}

  private add(m: Buffer, sink: ValueSink): void {
    if (this.members.length > 0 && this.bytes + m.length > sink.maxChunkBytes) {
      sink.piece({ type: 'set', members: this.members }, false);
      this.members = [];
      this.bytes = 0;
    }
    this.members.push(m);
    this.bytes += m.length;
    this.count++;
  }

  step(r: Reader, sink: ValueSink): boolean {
    const t = this.rdbType;
    if (t === RDB_TYPE_SET_INTSET || t === RDB_TYPE_SET_LISTPACK) {
      if (sink.skip) {
        const n =
          t === RDB_TYPE_SET_INTSET
            ? r.blobCount(CHECK_INTSET, intsetCount)
            : r.blobCount(CHECK_LISTPACK, listpackCount);
        if (n === null) return false;
        this.count = n;
      } else {
        const blob = r.string();
        if (blob === null) return false;
        const items: Item[] = [];
        if (t === RDB_TYPE_SET_INTSET) intsetDecode(blob, items);
        else listpackDecode(blob, items);
        for (let i = 0; i < items.length; i++) this.add(itemBuffer(items[i]), sink);
      }
    } else {
      if (this.left < 0) {
        const n = r.length();
        if (n < 0) return false;
        this.left = n;
      }
      while (this.left > 0) {
        if (sink.skip) {
          const n = r.skipElements(this.left, SKIP_STRING);
          this.left -= n;
          this.count += n;
          if (this.left === 0) break;
          if (!r.skipString()) return false;
          this.count++;
        } else {
          const s = r.string();
          if (s === null) return false;
          this.add(s, sink);
        }
        this.left--;
      }
    }
    if (!sink.skip) sink.piece({ type: 'set', members: this.members }, true);
    return true;
  }
}

export function createSetDecoder(rdbType: number): ValueDecoder {
  if (rdbType !== RDB_TYPE_SET && rdbType !== RDB_TYPE_SET_INTSET && rdbType !== RDB_TYPE_SET_LISTPACK) {
    throw new RdbError('RDB_ERR_UNKNOWN_TYPE', `not a set type: ${rdbType}`);
  }
  return new SetDecoder(rdbType);
}
