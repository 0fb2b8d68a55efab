/** Where backup objects come from: an S3-compatible bucket (s3.ts) or a local directory (file.ts). */

export interface ObjectInfo {
  /** Size in bytes as the store announces it. */
  size: number;
  /** Entity tag (S3) or a size+mtime stamp (files); a resumed read must see the same one. */
  etag: string | null;
}

export interface OpenOptions {
  signal?: AbortSignal;
  /** Told each time a broken read is resumed from `offset` (for the task log). */
  onResume?: (offset: number, cause: unknown) => void;
}

/** The bytes of one object, read front to back once. `position` = bytes delivered so far. */
export interface ObjectReader extends AsyncIterable<Buffer> {
  readonly position: number;
}

export interface ObjectStore {
  /** For messages: `s3://bucket`, a directory. */
  readonly label: string;
  /** Size and version of an object; a SourceError naming it when it cannot be read. */
  head(name: string, signal?: AbortSignal): Promise<ObjectInfo>;
  /** Streams the object as it was at `head` (a changed object fails with SOURCE_ERR_CHANGED). */
  open(name: string, info: ObjectInfo, opts?: OpenOptions): ObjectReader;
  close(): void;
}
