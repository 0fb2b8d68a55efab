/**
 * Huawei Cloud API-gateway request signing, `SDK-HMAC-SHA256`, as the official SDKs compute it (read from the
 * Node.js SDK core's `auth/AKSKSigner` and the Go SDK's `core/auth/signer`). The one implementation of the rule:
 * the client signs with it and the server verifies with it.
 *
 *   canonical request = METHOD \n URI \n QUERY \n HEADERS \n SIGNED_HEADER_NAMES \n hex(sha256(body))
 *   string to sign    = SDK-HMAC-SHA256 \n X-Sdk-Date \n hex(sha256(canonical request))
 *   signature         = hex(hmac-sha256(SK, string to sign))
 *   Authorization: SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b;c, Signature=hex
 */
import { createHash, createHmac } from 'node:crypto';

export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';
export const DATE_HEADER = 'x-sdk-date';
export const CONTENT_SHA256_HEADER = 'x-sdk-content-sha256';

/** What is signed of a request. */
export interface SignedParts {
  method: string;
  /** The path as sent on the wire (percent-encoded as in the URL), without the query. */
  path: string;
  /** Query parameters, percent-decoded, in any order; a repeated key appears once per value. */
  query: [string, string][];
  /** Value of each header by lower-case name. */
  headers: Record<string, string | undefined>;
  /** Lower-case names of the signed headers, in the order of the `SignedHeaders` list. */
  signedHeaders: string[];
  /** hex(sha256(body bytes)). */
  payloadHash: string;
}

/**
 * The SDKs differ in details: the Node.js SDK (core 3.1.x) and the Java SDK RFC 3986-encode each segment of the
 * already-encoded URL path (Node.js orders the header block by `localeCompare`); the Go and Python SDKs RFC 3986-encode each decoded
 * segment and keep the header block in `SignedHeaders` order, and the Go SDK lower-cases query keys. They agree for
 * DCS's ids and parameters; a verifier accepts either style.
 */
export type CanonicalStyle = 'node' | 'go';
export const CANONICAL_STYLES: readonly CanonicalStyle[] = ['node', 'go'];

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmacHex(key: string, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

/** RFC 3986: everything but `A-Z a-z 0-9 - _ . ~` percent-encoded (UTF-8), upper-case hex. */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function canonicalUri(path: string, style: CanonicalStyle = 'node'): string {
  const segments = path.split('/');
  const encoded = segments.map((s) => rfc3986(style === 'node' ? s : decodeSegment(s)));
  const uri = encoded.join('/');
  return uri.endsWith('/') ? uri : `${uri}/`;
}

export function canonicalQuery(query: [string, string][], style: CanonicalStyle = 'node'): string {
  const byKey = new Map<string, string[]>();
  for (const [k, v] of query) {
    const key = style === 'go' ? k.toLowerCase() : k;
    const values = byKey.get(key);
    if (values) values.push(v);
    else byKey.set(key, [v]);
  }
  const out: string[] = [];
  for (const key of [...byKey.keys()].sort()) {
    for (const v of byKey.get(key)!.sort()) out.push(`${rfc3986(key)}=${rfc3986(v)}`);
  }
  return out.join('&');
}

export function canonicalRequest(parts: SignedParts, style: CanonicalStyle = 'node'): string {
  const names =
    style === 'node' ? [...parts.signedHeaders].sort((a, b) => a.localeCompare(b)) : parts.signedHeaders;
  const headers = names.map((h) => `${h}:${(parts.headers[h] ?? '').trim()}\n`).join('');
  return [
    parts.method.toUpperCase(),
    canonicalUri(parts.path, style),
    canonicalQuery(parts.query, style),
    headers,
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n');
}

export function stringToSign(canonical: string, sdkDate: string): string {
  return `${SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
}

export function signature(sk: string, parts: SignedParts, sdkDate: string, style: CanonicalStyle = 'node') {
  return hmacHex(sk, stringToSign(canonicalRequest(parts, style), sdkDate));
}

/** `20261123T184500Z` (ISO 8601 basic, UTC, whole seconds). */
export function formatSdkDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** Milliseconds since the epoch of an X-Sdk-Date value, or undefined when it is not `YYYYMMDDTHHmmssZ`. */
export function parseSdkDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  // Reject dates that Date.UTC silently rolls over (month 13, 25:00, …).
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || back.getUTCHours() !== h) return undefined;
  return ms;
}

export interface AuthorizationHeader {
  ak: string;
  signedHeaders: string[];
  signature: string;
}

export function formatAuthorization(a: AuthorizationHeader): string {
  return `${SIGNING_ALGORITHM} Access=${a.ak}, SignedHeaders=${a.signedHeaders.join(';')}, Signature=${a.signature}`;
}

const AUTHORIZATION =
  /^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([^,\s]+)$/;

/** The parts of an `Authorization: SDK-HMAC-SHA256 …` value, or undefined when it is malformed. */
export function parseAuthorization(value: string): AuthorizationHeader | undefined {
  const m = AUTHORIZATION.exec(value.trim());
  if (!m) return undefined;
  return { ak: m[1], signedHeaders: m[2].toLowerCase().split(';'), signature: m[3].toLowerCase() };
}

export interface SignInput {
  method: string;
  url: URL;
  /** Headers the request will carry (any case); all of them are signed, plus `host` and `x-sdk-date`. */
  headers: Record<string, string>;
  body?: Uint8Array | string;
}

export interface Credentials {
  ak: string;
  sk: string;
}

/**
 * The headers to add to a request so the server (or Huawei's gateway) accepts it: `X-Sdk-Date` and
 * `Authorization`. `now` fixes the clock (tests).
 */
export function signRequest(input: SignInput, creds: Credentials, now = Date.now()): Record<string, string> {
  const date = formatSdkDate(now);
  const headers: Record<string, string> = { host: input.url.host, [DATE_HEADER]: date };
  for (const [k, v] of Object.entries(input.headers)) headers[k.toLowerCase()] = v;
  const signedHeaders = Object.keys(headers).sort();
  const parts: SignedParts = {
    method: input.method,
    path: input.url.pathname,
    query: [...input.url.searchParams.entries()],
    headers,
    signedHeaders,
    payloadHash: sha256Hex(input.body ?? ''),
  };
  return {
    'X-Sdk-Date': date,
    Authorization: formatAuthorization({
      ak: creds.ak,
      signedHeaders,
      signature: signature(creds.sk, parts, date),
    }),
  };
}
