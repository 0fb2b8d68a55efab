/**
 * The target writer stage (DESIGN.md "target/"): consumes entries, writes them to a standalone or cluster target
 * with byte-bounded pipelining, RESTORE-or-rewrite, slot routing and retries. Only this folder touches sockets to
 * the target (STYLE habit 9).
 */
export { TargetError, type TargetErrorCode } from './errors.ts';
export { infoField, keyspaceTotal } from './info.ts';
export {
  type Argv,
  commandSize,
  encodeCommand,
  encodeCommands,
  NEED_MORE,
  type RespArg,
  RespError,
  RespParser,
  RespProtocolError,
  type RespValue,
  writeCommand,
} from './resp.ts';
export { formatScore, KeyRewriter, type RewriteFeatures } from './rewrite.ts';
export { crc16, keySlot, SLOTS } from './slot-router.ts';
export {
  makeCapabilities,
  NO_RESTORE_NOTE,
  rdbVersionOf,
  TARGET_DEFAULTS,
  type TargetCapabilities,
  type TargetOptions,
  TargetWriter,
  type WriterStatus,
} from './writer.ts';
