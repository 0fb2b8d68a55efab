/**
 * Objects of an S3-compatible bucket (AWS S3, MinIO, Huawei OBS, Ceph) through @aws-sdk/client-s3, streamed —
 * never downloaded whole. A connection that breaks mid-object is resumed with a ranged GET from the last byte
 * received, conditional on the ETag seen first (If-Match, and checked on the answer since some servers ignore
 * the header); an object that changed meanwhile fails with SOURCE_ERR_CHANGED rather than mixing two versions.
 */
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { SourceError } from './errors.ts';
import type { ObjectInfo, ObjectReader, ObjectStore, OpenOptions } from './store.ts';

export interface S3Settings {
  /** Endpoint URL of a non-AWS service (MinIO, OBS, …); AWS's own when unset. */
  endpoint?: string;
  region: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most self-hosted servers need. */
  forcePathStyle: boolean;
  /** Static credentials; the SDK's default chain (env, profile, instance role) when unset. */
  accessKeyId?: string;
  secretAccessKey?: string;
}

export interface S3StoreOptions {
  /** Consecutive failed attempts (no byte received in between) before a read fails. */
  maxRetries?: number;
  /** Delay before the first retry, doubled each time (capped at 5 s). */
  retryDelayMs?: number;
  connectTimeoutMs?: number;
  /** A connection idle this long is dropped (and the read resumed). */
  idleTimeoutMs?: number;
}

export const S3_STORE_DEFAULTS = {
  maxRetries: 8,
  retryDelayMs: 100,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
} as const satisfies S3StoreOptions;

type Sdk = typeof import('@aws-sdk/client-s3');
let sdk: Promise<Sdk> | undefined;
/** Loaded on first use: the SDK costs ~15 MB of RSS and 0.2 s of start-up that file imports never need. */
const loadSdk = (): Promise<Sdk> => {
  sdk ??= import('@aws-sdk/client-s3');
  return sdk;
};

export async function createS3Client(s: S3Settings, o: S3StoreOptions = {}): Promise<S3Client> {
  const { S3Client } = await loadSdk();
  return new S3Client({
    region: s.region,
    ...(s.endpoint && { endpoint: s.endpoint }),
    forcePathStyle: s.forcePathStyle,
    ...(s.accessKeyId &&
      s.secretAccessKey && {
        credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
      }),
    requestHandler: {
      connectionTimeout: o.connectTimeoutMs ?? S3_STORE_DEFAULTS.connectTimeoutMs,
      socketTimeout: o.idleTimeoutMs ?? S3_STORE_DEFAULTS.idleTimeoutMs,
    },
    // Whole-object checksums cannot be checked on ranged reads; integrity is the decoders' (CRC64, framing).
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const DENIED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'Forbidden',
  'AllAccessDisabled',
]);

/** An SDK failure as a SourceError; `retriable` for network trouble and 5xx/408/429. */
export function s3Error(
  err: unknown,
  bucket: string,
  key: string,
  offset?: number,
): SourceError & { retriable: boolean } {
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? e.code ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const where = { bucket, file: key, ...(offset !== undefined && { offset }) };
  let out: SourceError;
  let retriable = false;
  if (name === 'NoSuchBucket') {
    out = new SourceError('SOURCE_ERR_NO_BUCKET', `bucket "${bucket}" does not exist (NoSuchBucket)`, where, {
      cause: err,
    });
  } else if (name === 'NoSuchKey' || name === 'NotFound' || status === 404) {
    out = new SourceError(
      'SOURCE_ERR_NO_OBJECT',
      `object "${key}" does not exist in bucket "${bucket}" (${name})`,
      where,
      {
        cause: err,
      },
    );
  } else if (DENIED.has(name) || status === 403 || status === 401) {
    out = new SourceError(
      'SOURCE_ERR_ACCESS_DENIED',
      `access to s3://${bucket}/${key} was refused (${name})`,
      where,
      {
        cause: err,
      },
    );
  } else if (name === 'CredentialsProviderError') {
    // No credentials anywhere in the chain: retrying cannot help, and the fix is configuration.
    out = new SourceError(
      'SOURCE_ERR_ACCESS_DENIED',
      `no credentials for s3://${bucket}/${key}: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or the standard AWS credential variables, profile or instance role)`,
      where,
      { cause: err },
    );
  } else if (name === 'PreconditionFailed' || status === 412 || name === 'InvalidRange' || status === 416) {
    out = new SourceError(
      'SOURCE_ERR_CHANGED',
      `object "${key}" changed while it was being read (${name})`,
      where,
      {
        cause: err,
      },
    );
  } else {
    retriable = status === undefined || status >= 500 || status === 408 || status === 429;
    out = new SourceError(
      'SOURCE_ERR_READ',
      `reading s3://${bucket}/${key} failed: ${name}: ${e.message ?? ''}`.trim(),
      where,
      {
        cause: err,
      },
    );
  }
  return Object.assign(out, { retriable });
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

export class S3Store implements ObjectStore {
  readonly label: string;
  private readonly o: Required<S3StoreOptions>;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    opts: S3StoreOptions = {},
  ) {
    this.label = `s3://${bucket}`;
    this.o = { ...S3_STORE_DEFAULTS, ...opts };
  }

  /** A one-byte ranged GET: unlike HEAD, its error body tells NoSuchBucket from NoSuchKey. */
  async head(key: string, signal?: AbortSignal): Promise<ObjectInfo> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { GetObjectCommand } = await loadSdk();
        const res = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: 'bytes=0-0' }),
          { abortSignal: signal },
        );
        (res.Body as Readable | undefined)?.destroy();
        const total = /\/(\d+)$/.exec(res.ContentRange ?? '');
        const size = total ? Number(total[1]) : (res.ContentLength ?? 0);
        return { size, etag: res.ETag ?? null };
      } catch (err) {
        const e = err as SdkError;
        if (e.name === 'InvalidRange' || e.$metadata?.httpStatusCode === 416) return { size: 0, etag: null };
        const mapped = s3Error(err, this.bucket, key);
        if (!mapped.retriable || attempt >= this.o.maxRetries || signal?.aborted) throw mapped;
        await sleep(this.backoff(attempt), signal);
      }
    }
  }

  open(key: string, info: ObjectInfo, opts: OpenOptions = {}): ObjectReader {
    const store = this;
    const reader = {
      position: 0,
      async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
        let failures = 0;
        while (reader.position < info.size) {
          if (opts.signal?.aborted) return;
          const from = reader.position;
          let body: Readable | undefined;
          try {
            const { GetObjectCommand } = await loadSdk();
            const res = await store.client.send(
              new GetObjectCommand({
                Bucket: store.bucket,
                Key: key,
                ...(from > 0 && { Range: `bytes=${from}-` }),
                ...(info.etag && { IfMatch: info.etag }),
              }),
              { abortSignal: opts.signal },
            );
            body = res.Body as Readable;
            if (from > 0 && !res.ContentRange?.startsWith(`bytes ${from}-`)) {
              // A server that ignores Range would send the object from its start again.
              throw new SourceError(
                'SOURCE_ERR_READ',
                `the server did not honour a ranged read of "${key}" from byte ${from} (Content-Range: ${res.ContentRange ?? 'none'})`,
                { bucket: store.bucket, file: key, offset: from },
              );
            }
            if (info.etag && res.ETag && res.ETag !== info.etag) {
              throw new SourceError(
                'SOURCE_ERR_CHANGED',
                `object "${key}" changed while it was being read (ETag ${info.etag} became ${res.ETag})`,
                { bucket: store.bucket, file: key, offset: from },
              );
            }
            for await (const chunk of body) {
              const b = chunk as Buffer;
              const room = info.size - reader.position;
              if (b.length > room) {
                throw new SourceError('SOURCE_ERR_CHANGED', `object "${key}" is longer than announced`, {
                  bucket: store.bucket,
                  file: key,
                  offset: info.size,
                });
              }
              reader.position += b.length;
              failures = 0;
              yield b;
            }
            if (reader.position < info.size && !opts.signal?.aborted) {
              throw Object.assign(
                new SourceError('SOURCE_ERR_READ', 'response ended early', { offset: reader.position }),
                {
                  retriable: true,
                },
              );
            }
          } catch (err) {
            if (opts.signal?.aborted) return;
            if (err instanceof SourceError && !(err as { retriable?: boolean }).retriable) throw err;
            const mapped =
              err instanceof SourceError ? err : s3Error(err, store.bucket, key, reader.position);
            const retriable = (mapped as { retriable?: boolean }).retriable ?? true;
            if (!retriable) throw mapped;
            if (++failures > store.o.maxRetries) {
              throw new SourceError(
                'SOURCE_ERR_READ',
                `reading s3://${store.bucket}/${key} failed ${failures} times in a row: ${mapped.bare}`,
                { bucket: store.bucket, file: key, offset: reader.position },
                { cause: err },
              );
            }
            opts.onResume?.(reader.position, err);
            await sleep(store.backoff(failures - 1), opts.signal);
          } finally {
            body?.destroy();
          }
        }
      },
    };
    return reader;
  }

  private backoff(attempt: number): number {
    return Math.min(5000, this.o.retryDelayMs * 2 ** attempt);
  }

  close(): void {
    this.client.destroy();
  }
}
