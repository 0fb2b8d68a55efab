/** AOF reader (DESIGN.md "aof/"): RESP command streams, RDB preambles, Redis 7 multi-part manifests. */
export { AofError, type AofErrorCode } from './errors.ts';
export { type AofManifest, type ManifestFile, parseManifest } from './manifest.ts';
export { type AofEnd, AofParser, type AofParserOptions, type AofStatus } from './parser.ts';
