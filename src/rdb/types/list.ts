/**
 * Lists: RDB_TYPE_LIST (strings), RDB_TYPE_LIST_ZIPLIST (one ziplist), RDB_TYPE_LIST_QUICKLIST (ziplist nodes),
 * RDB_TYPE_LIST_QUICKLIST_2 (container + listpack or plain nodes), following redis/src/rdb.c `rdbLoadObject()`.
 */
import type { Value } from '../../entry.ts';
import {
  QUICKLIST_NODE_CONTAINER_PACKED,
  QUICKLIST_NODE_CONTAINER_PLAIN,
  RDB_TYPE_LIST,
  RDB_TYPE_LIST_QUICKLIST,
  RDB_TYPE_LIST_QUICKLIST_2,
  RDB_TYPE_LIST_ZIPLIST,
} from '../constants.ts';
import { type Item, listpackCount, listpackDecode } from '../encodings/listpack.ts';
import { ziplistCount, ziplistDecode } from '../encodings/ziplist.ts';
import { RdbError } from '../errors.ts';
import { type Reader, SKIP_STRING } from '../reader.ts';
import { itemBuffer, type ValueDecoder, type ValueSink } from './common.ts';

class ListDecoder implements ValueDecoder {
  count = 0;
  private left = -1;
  private items: Buffer[] = [];
  private bytes = 0;
  private readonly scratch: Item[] = [];

  constructor(private readonly rdbType: number) {}

  private add(item: Buffer, sink: ValueSink): void {
    if (this.items.length > 0 && this.bytes + item.length > sink.maxChunkBytes) {
      sink.piece(this.value(), false);
      this.items = [];
      this.bytes = 0;
    }
    this.items.push(item);
    this.bytes += item.length;
    this.count++;
  }

  private value(): Value {
    return { type: 'list', items: this.items };
  }

  /** Decode one ziplist/listpack node into the current pieces (or just count it in skip mode). */
  private node(blob: Buffer, packed: 'ziplist' | 'listpack', sink: ValueSink): void {
    if (sink.skip) {
      this.count += packed === 'ziplist' ? ziplistCount(blob) : listpackCount(blob);
      return;
    }
    const s = this.scratch;
    s.length = 0;
    if (packed === 'ziplist') ziplistDecode(blob, s);
    else listpackDecode(blob, s);
    for (let i = 0; i < s.length; i++) this.add(itemBuffer(s[i]), sink);
  }

  step(r: Reader, sink: ValueSink): boolean {
    const t = this.rdbType;
    if (t === RDB_TYPE_LIST_ZIPLIST) {
      const blob = r.string();
      if (blob === null) return false;
      this.node(blob, 'ziplist', sink);
      return this.finish(sink);
    }
    if (this.left < 0) {
      const n = r.length();
      if (n < 0) return false;
      this.left = n;
    }
    while (this.left > 0) {
      if (t === RDB_TYPE_LIST) {
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
      } else if (t === RDB_TYPE_LIST_QUICKLIST) {
        // Once the key is known non-empty, dumps need no more than the node's bytes.
        if (sink.skip && this.count > 0) {
          if (!r.skipString()) return false;
        } else {
          const blob = r.string();
          if (blob === null) return false;
          this.node(blob, 'ziplist', sink);
        }
      } else {
        const mark = r.pos;
        const container = r.length();
        if (container < 0) return false;
        if (container !== QUICKLIST_NODE_CONTAINER_PACKED && container !== QUICKLIST_NODE_CONTAINER_PLAIN) {
          throw new RdbError('RDB_ERR_QUICKLIST', `quicklist integrity check failed: container ${container}`);
        }
        if (sink.skip && this.count > 0) {
          if (!r.skipString()) {
            r.pos = mark;
            return false;
          }
        } else {
          const blob = r.string();
          if (blob === null) {
            r.pos = mark;
            return false;
          }
          if (blob.length === 0)
            throw new RdbError('RDB_ERR_QUICKLIST', 'quicklist integrity check failed: empty node');
          if (container === QUICKLIST_NODE_CONTAINER_PLAIN) {
            if (sink.skip) this.count++;
            else this.add(blob, sink);
          } else this.node(blob, 'listpack', sink);
        }
      }
      this.left--;
    }
    return this.finish(sink);
  }

  private finish(sink: ValueSink): boolean {
    if (!sink.skip) sink.piece(this.value(), true);
    return true;
  }
}

export function createListDecoder(rdbType: number): ValueDecoder {
  switch (rdbType) {
    case RDB_TYPE_LIST:
    case RDB_TYPE_LIST_ZIPLIST:
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2:
      return new ListDecoder(rdbType);
    default:
      throw new RdbError('RDB_ERR_UNKNOWN_TYPE', `not a list type: ${rdbType}`);
  }
}
