/**
 * What every logical-type decoder shares: the sink it hands value pieces to, the decoder interface the parser
 * drives, and the conversion of encoded elements (bytes or integers) to Buffers and scores.
 */
import type { Value } from '../../entry.ts';
import type { Item } from '../encodings/listpack.ts';
import { decimal, parseAsciiDouble } from '../encodings/string.ts';
import { RdbError } from '../errors.ts';
import type { Reader } from '../reader.ts';

export interface ValueSink {
  /** Structure-only mode: validate and find the end of the value, materialize nothing (dumps, skipped keys). */
  readonly skip: boolean;
  /** A piece holds about this many bytes of items before the next one starts. */
  readonly maxChunkBytes: number;
  /** Unix ms used to drop already-expired hash fields (when dropExpiredFields). */
  readonly now: number;
  readonly dropExpiredFields: boolean;
  /** A decoded piece of the value; `last` on the final one. */
  piece(v: Value, last: boolean): void;
}

export interface ValueDecoder {
  /** Elements kept so far; 0 at the end means an empty key (Redis skips those on load). */
  count: number;
  /** Advance; true when the value is complete, false when the reader needs more bytes. */
  step(r: Reader, sink: ValueSink): boolean;
}

export function itemBuffer(it: Item): Buffer {
  return typeof it === 'number' ? decimal(it) : it;
}

export function itemNumber(it: Item): number {
  if (typeof it === 'number') return it;
  return parseAsciiDouble(it, 0, it.length);
}

export function checkScore(score: number): number {
  if (Number.isNaN(score)) throw new RdbError('RDB_ERR_BAD_VALUE', 'zset with NaN score');
  return score;
}
