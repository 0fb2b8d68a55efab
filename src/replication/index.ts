/**
 * The PSYNC replica client (DESIGN.md "replication/"): handshake, RDB transfer framing, command stream with exact
 * offsets, bandwidth limit. Joining it to the RDB decoder and the target writer is src/online/.
 */
export { CommandStream, type StreamCounters, type StreamPoint } from './command-stream.ts';
export { ReplicationError, type ReplicationErrorCode } from './errors.ts';
export {
  CERT_ERROR,
  HANDSHAKE_DEFAULTS,
  type HandshakeOptions,
  type MasterLink,
  openMasterLink,
  type PsyncReply,
  type SourceOptions,
} from './handshake.ts';
export { ABORTED, SocketReader, TIMEOUT } from './socket-reader.ts';
export { bucketForMb, TokenBucket } from './throttle.ts';
export { RdbTransfer, type TransferOptions } from './transfer.ts';
