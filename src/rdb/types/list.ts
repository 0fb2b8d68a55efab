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
import { CHECK_LISTPACK, CHECK_ZIPLIST } from '../kernel.ts';
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

  /**
   * One ziplist/listpack node from `r` into the current pieces; in skip mode (dumps) it is only checked, as deeply
   * as when decoding (a target restores it as it is, and a corrupt node can crash it when read later), and
   * counted. False when more bytes are needed.
   */
  private node(r: Reader, packed: 'ziplist' | 'listpack', sink: ValueSink): boolean {
    if (sink.skip) {
      const n =
        packed === 'ziplist'
          ? r.blobCount(CHECK_ZIPLIST, ziplistCount)
          : r.blobCount(CHECK_LISTPACK, packedNodeCount);
      if (n === null) return false;
      this.count += n;
      return true;
    }
    const blob = r.string();
    if (blob === null) return false;
    const s = this.scratch;
    s.length = 0;
    if (packed === 'ziplist') ziplistDecode(blob, s);
    else listpackDecode(nonEmpty(blob), s);
    for (let i = 0; i < s.length; i++) this.add(itemBuffer(s[i]), sink);
    return true;
  }

  step(r: Reader, sink: ValueSink): boolean {
    const t = this.rdbType;
    if (t === RDB_TYPE_LIST_ZIPLIST) {
      if (!this.node(r, 'ziplist', sink)) return false;
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
        if (!this.node(r, 'ziplist', sink)) return false;
      } else {
        const mark = r.pos;
        const container = r.length();
        if (container < 0) return false;
        let ok: boolean;
        if (container === QUICKLIST_NODE_CONTAINER_PACKED) ok = this.node(r, 'listpack', sink);
        else if (container !== QUICKLIST_NODE_CONTAINER_PLAIN) {
          throw new RdbError('RDB_ERR_QUICKLIST', `quicklist integrity check failed: container ${container}`);
        } else if (sink.skip && this.count > 0) {
          // A plain node is one element, with no structure to check: skipped in dumps, whatever its size.
          ok = r.skipString();
        } else {
          const blob = r.string();
          ok = blob !== null;
          if (blob !== null) {
            nonEmpty(blob);
            if (sink.skip) this.count++;
            else this.add(blob, sink);
          }
        }
        if (!ok) {
          r.pos = mark;
          return false;
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

function nonEmpty(node: Buffer): Buffer {
  if (node.length === 0)
    throw new RdbError('RDB_ERR_QUICKLIST', 'quicklist integrity check failed: empty node');
  return node;
}

function packedNodeCount(node: Buffer): number {
  return listpackCount(nonEmpty(node));
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
