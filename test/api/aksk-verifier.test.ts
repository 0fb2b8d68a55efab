/**
 * AkskVerifier (src/api/aksk.ts) without HTTP: a signature computed by hand the way the Go and Python SDKs build
 * the canonical request (decoded path segments RFC 3986-encoded, Go's lower-cased query keys, header block in
 * SignedHeaders order) is accepted beside the Node.js SDK's form; the lock counts only consecutive failures and
 * lifts after five minutes of the verifier's clock.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { AkskVerifier } from '../../src/api/aksk.ts';
import { ApiError } from '../../src/api/errors.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const AK = 'AKGO';
const SK = 'go-secret';
const DATE = '20261123T184500Z';
const NOW = Date.UTC(2026, 10, 23, 18, 45, 30);

/** The Go SDK's canonical request for GET /v2/my%20proj/migration-tasks?Limit=5 with host and x-sdk-date signed. */
function goStyleAuthorization(sk = SK): string {
  const canonical = [
    'GET',
    '/v2/my%20proj/migration-tasks/', // decoded "my proj", RFC 3986-encoded again
    'limit=5', // key lower-cased
    'host:127.0.0.1:8080\nx-sdk-date:20261123T184500Z\n',
    'host;x-sdk-date',
    sha(''),
  ].join('\n');
  const toSign = `SDK-HMAC-SHA256\n${DATE}\n${sha(canonical)}`;
  const sig = createHmac('sha256', sk).update(toSign).digest('hex');
  return `SDK-HMAC-SHA256 Access=${AK}, SignedHeaders=host;x-sdk-date, Signature=${sig}`;
}

const request = {
  method: 'GET',
  path: '/v2/my%20proj/migration-tasks',
  query: [['Limit', '5']] as [string, string][],
  headers: { host: '127.0.0.1:8080', 'x-sdk-date': DATE },
};

test('a Go/Python-style signature is accepted', () => {
  const v = new AkskVerifier([{ ak: AK, sk: SK, projectId: 'my proj' }], { now: () => NOW });
  const pending = v.begin(goStyleAuthorization(), request.headers);
  assert.deepEqual([...v.finish(pending, request, Buffer.alloc(0))], ['my proj']);
});

test('five consecutive failures lock the key; the lock lifts after five minutes', () => {
  let now = NOW;
  const v = new AkskVerifier([{ ak: AK, sk: SK, projectId: 'p' }], { now: () => now });
  const attempt = (sk: string) => {
    try {
      v.finish(v.begin(goStyleAuthorization(sk), request.headers), request, Buffer.alloc(0));
      return 'ok';
    } catch (e) {
      assert.ok(e instanceof ApiError);
      return e.message.replace('Incorrect IAM authentication information: ', '');
    }
  };
  for (let i = 0; i < 4; i++) assert.equal(attempt('bad'), 'verify aksk signature fail');
  assert.equal(attempt(SK), 'ok');
  for (let i = 0; i < 5; i++) assert.equal(attempt('bad'), 'verify aksk signature fail');
  assert.equal(attempt(SK), 'AK access failed to reach the limit,forbidden.');
  now += 5 * 60_000 - 1000;
  assert.equal(attempt(SK), 'AK access failed to reach the limit,forbidden.');
  now += 2000;
  // The signed date is now 5 minutes old: still within the 15-minute window.
  assert.equal(attempt(SK), 'ok');
});
