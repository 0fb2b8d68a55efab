/** Picks the logical-type decoder for an RDB type byte (one module per logical type, STYLE habit 2). */
import type { ValueType } from '../../entry.ts';
import type { Flavor } from '../constants.ts';
import type { ValueDecoder } from './common.ts';
import { createHashDecoder } from './hash.ts';
import { createListDecoder } from './list.ts';
import { createModuleDecoder } from './module.ts';
import { createSetDecoder } from './set.ts';
import { createStreamDecoder } from './stream.ts';
import { createStringDecoder } from './string.ts';
import { createZsetDecoder } from './zset.ts';

export type { ValueDecoder, ValueSink } from './common.ts';
export { ModuleValueSkipper, moduleNameFromId } from './module.ts';
export { StringDecoder } from './string.ts';

export function createValueDecoder(valueType: ValueType, rdbType: number, flavor: Flavor): ValueDecoder {
  switch (valueType) {
    case 'string':
      return createStringDecoder(rdbType);
    case 'list':
      return createListDecoder(rdbType);
    case 'set':
      return createSetDecoder(rdbType);
    case 'zset':
      return createZsetDecoder(rdbType);
    case 'hash':
      return createHashDecoder(rdbType, flavor);
    case 'stream':
      return createStreamDecoder(rdbType);
    case 'module':
      return createModuleDecoder(rdbType);
  }
}
