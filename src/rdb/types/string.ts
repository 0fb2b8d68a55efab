/**
 * RDB_TYPE_STRING values (redis/src/rdb.c `rdbLoadObject()` → `rdbLoadEncodedStringObject()`). Raw strings
 * bigger than maxChunkBytes are streamed in pieces; integer- and LZF-encoded ones are read whole.
 */
import { RDB_TYPE_STRING } from '../constants.ts';
import { STR_RAW } from '../encodings/string.ts';
import { RdbError } from '../errors.ts';
import type { Reader } from '../reader.ts';
import type { ValueDecoder, ValueSink } from './common.ts';

export class StringDecoder implements ValueDecoder {
  count = 1;
  /** Bytes of a streamed raw string still to come; -1 before the header. */
  private left = -1;

  /** Ready for the next key (the parser reuses one instance: strings are most keys). */
  reset(): this {
    this.left = -1;
    return this;
  }

  step(r: Reader, sink: ValueSink): boolean {
    if (this.left < 0) {
      const h = r.peekStringHeader();
      if (h === null) return false;
      const streamed = h.kind === STR_RAW && (sink.skip || h.payloadSize > sink.maxChunkBytes);
      if (!streamed) {
        if (sink.skip) return r.skipString();
        const v = r.string();
        if (v === null) return false;
        sink.piece({ type: 'string', value: v }, true);
        return true;
      }
      r.stringHeader();
      this.left = h.payloadSize;
      if (this.left === 0) {
        if (!sink.skip) sink.piece({ type: 'string', value: Buffer.alloc(0) }, true);
        return true;
      }
    }
    while (this.left > 0) {
      if (sink.skip) {
        const k = r.skipUpTo(this.left);
        if (k === 0) return false;
        this.left -= k;
        continue;
      }
      const n = Math.min(this.left, sink.maxChunkBytes);
      const part = r.take(n);
      if (part === null) return false;
      this.left -= n;
      sink.piece({ type: 'string', value: part }, this.left === 0);
    }
    return true;
  }
}

export function createStringDecoder(rdbType: number): ValueDecoder {
  if (rdbType !== RDB_TYPE_STRING)
    throw new RdbError('RDB_ERR_UNKNOWN_TYPE', `not a string type: ${rdbType}`);
  return new StringDecoder();
}
