/**
 * How SDK failures read to a user: each maps to a specific code and message, and only network trouble and
 * 5xx/408/429 are retried. (The real-server cases — NoSuchBucket, NoSuchKey, cuts, ETag changes — are exercised
 * against s3rver in test/backup-import; these are the ones s3rver cannot produce.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { s3Error } from '../../src/sources/s3.ts';

const sdk = (name: string, status?: number) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });

test('no credentials in the chain: access denied, not retried, says which variables to set', () => {
  // The SDK's error carries this name (CredentialsProviderError from @smithy, not a stable import for us).
  const e = s3Error(sdk('CredentialsProviderError'), 'b', 'k');
  assert.equal(e.code, 'SOURCE_ERR_ACCESS_DENIED');
  assert.equal(e.retriable, false);
  assert.match(e.message, /S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY/);
});

test('AccessDenied, SignatureDoesNotMatch and InvalidAccessKeyId are refusals, not retried', () => {
  for (const [name, status] of [
    ['AccessDenied', 403],
    ['SignatureDoesNotMatch', 403],
    ['InvalidAccessKeyId', 403],
  ] as const) {
    const e = s3Error(sdk(name, status), 'b', 'k', 10);
    assert.equal(e.code, 'SOURCE_ERR_ACCESS_DENIED', name);
    assert.equal(e.retriable, false, name);
    assert.match(e.message, new RegExp(`refused \\(${name}\\)`));
  }
});

test('5xx, throttling and network errors are retried; other 4xx are not', () => {
  assert.equal(s3Error(sdk('InternalError', 500), 'b', 'k').retriable, true);
  assert.equal(s3Error(sdk('SlowDown', 503), 'b', 'k').retriable, true);
  assert.equal(s3Error(sdk('TooManyRequests', 429), 'b', 'k').retriable, true);
  assert.equal(s3Error(sdk('ECONNRESET'), 'b', 'k').retriable, true);
  assert.equal(s3Error(sdk('InvalidRequest', 400), 'b', 'k').retriable, false);
});
