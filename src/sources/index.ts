/**
 * Byte sources (DESIGN.md "sources/"): S3-compatible buckets with ranged resume, local files, and the containers
 * backups come in (gzip, tar, zip), opened into data members by content.
 */
export { ByteReader } from './byte-reader.ts';
export { type ContainerFormat, type DataFormat, DETECT_BYTES, detectFormat, type Format } from './detect.ts';
export { SourceError, type SourceErrorCode } from './errors.ts';
export { FileStore, readFileChunks } from './file.ts';
export {
  createS3Client,
  S3_STORE_DEFAULTS,
  type S3Settings,
  S3Store,
  type S3StoreOptions,
  s3Error,
} from './s3.ts';
export type { ObjectInfo, ObjectReader, ObjectStore, OpenOptions } from './store.ts';
export type { ArchiveMember } from './tar.ts';
export { type DataMember, unpack } from './unpack.ts';
