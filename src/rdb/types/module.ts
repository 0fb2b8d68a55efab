/**
 * Module values: RDB_TYPE_MODULE_2 is skipped structurally like redis/src/rdb.c `rdbLoadCheckModuleValue()`
 * (typed sub-values until RDB_MODULE_OPCODE_EOF) and can only travel as a DUMP; RDB_TYPE_MODULE_PRE_GA cannot be
 * skipped without the module. The module name is decoded from the 64-bit id like `moduleTypeNameByID()`.
 * `ModuleValueSkipper` is shared with the MODULE_AUX and KEY_META opcodes.
 */
import {
  RDB_MODULE_OPCODE_DOUBLE,
  RDB_MODULE_OPCODE_EOF,
  RDB_MODULE_OPCODE_FLOAT,
  RDB_MODULE_OPCODE_SINT,
  RDB_MODULE_OPCODE_STRING,
  RDB_MODULE_OPCODE_UINT,
  RDB_TYPE_MODULE_2,
  RDB_TYPE_MODULE_PRE_GA,
} from '../constants.ts';
import { RdbError } from '../errors.ts';
import type { Reader } from '../reader.ts';
import type { ValueDecoder, ValueSink } from './common.ts';

const CHARSET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The 9-character module type name of a module id (the low 10 bits are the encoding version). */
export function moduleNameFromId(id: bigint): string {
  let v = id >> 10n;
  const chars: string[] = [];
  for (let j = 0; j < 9; j++) {
    chars.unshift(CHARSET[Number(v & 63n)]);
    v >>= 6n;
  }
  return chars.join('');
}

/** Skips opcode-typed module sub-values until RDB_MODULE_OPCODE_EOF (consumed). */
export class ModuleValueSkipper {
  /** Returns true once the EOF sub-opcode was consumed. */
  step(r: Reader): boolean {
    for (;;) {
      const mark = r.pos;
      const op = r.length();
      if (op < 0) return false;
      let ok: boolean;
      switch (op) {
        case RDB_MODULE_OPCODE_EOF:
          return true;
        case RDB_MODULE_OPCODE_SINT:
        case RDB_MODULE_OPCODE_UINT:
          ok = r.skipLength();
          break;
        case RDB_MODULE_OPCODE_FLOAT:
          ok = r.have(4);
          if (ok) r.pos += 4;
          break;
        case RDB_MODULE_OPCODE_DOUBLE:
          ok = r.have(8);
          if (ok) r.pos += 8;
          break;
        case RDB_MODULE_OPCODE_STRING:
          ok = r.skipString();
          break;
        default:
          throw new RdbError('RDB_ERR_MODULE', `unknown module value opcode ${op}`);
      }
      if (!ok) {
        r.pos = mark;
        return false;
      }
    }
  }
}

class ModuleDecoder implements ValueDecoder {
  count = 1;
  private moduleId: string | null = null;
  private readonly skipper = new ModuleValueSkipper();

  step(r: Reader, sink: ValueSink): boolean {
    if (this.moduleId === null) {
      const id = r.lengthBig();
      if (id === null) return false;
      this.moduleId = moduleNameFromId(id);
    }
    if (!this.skipper.step(r)) return false;
    if (!sink.skip) sink.piece({ type: 'module', moduleId: this.moduleId }, true);
    return true;
  }
}

export function createModuleDecoder(rdbType: number): ValueDecoder {
  if (rdbType === RDB_TYPE_MODULE_2) return new ModuleDecoder();
  if (rdbType === RDB_TYPE_MODULE_PRE_GA) {
    throw new RdbError(
      'RDB_ERR_MODULE_PRE_GA',
      'pre-release module format (RDB_TYPE_MODULE_PRE_GA) cannot be skipped',
    );
  }
  throw new RdbError('RDB_ERR_UNKNOWN_TYPE', `not a module type: ${rdbType}`);
}
