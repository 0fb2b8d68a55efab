/**
 * Verifies AK/SK-signed requests (`Authorization: SDK-HMAC-SHA256 …`) as Huawei's API gateway does: the access
 * key must be configured, `X-Sdk-Date` within 15 minutes of the server clock, the signature the one the SDK computes
 * over method, path, query, the signed headers and the raw body bytes; an access key that fails five times in a row
 * is locked for five minutes. The canonical request is built by the same code the client signs with.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type AuthorizationHeader,
  CANONICAL_STYLES,
  CONTENT_SHA256_HEADER,
  DATE_HEADER,
  parseAuthorization,
  parseSdkDate,
  type SignedParts,
  sha256Hex,
  signature,
} from '../client/index.ts';
import type { AccessKey } from '../config.ts';
import { akskErrors } from './errors.ts';

export interface AkskOptions {
  /** Largest accepted distance between X-Sdk-Date and the server clock. */
  maxSkewMs: number;
  /** Consecutive failures that lock an access key. */
  maxFailures: number;
  lockMs: number;
  /** The clock (tests inject one). */
  now: () => number;
}

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export const AKSK_DEFAULTS: AkskOptions = {
  maxSkewMs: 15 * 60_000,
  maxFailures: 5,
  lockMs: 5 * 60_000,
  now: Date.now,
};

interface KnownKey {
  sk: string;
  projects: Set<string>;
  failures: number;
  lockedUntil: number;
}

/** A request whose header checks passed; its signature is checked once the body bytes are known. */
export interface PendingSignature {
  ak: string;
  auth: AuthorizationHeader;
  date: string;
}

/** What of the request the signature covers, except the body. */
export interface RequestShape {
  method: string;
  path: string;
  query: [string, string][];
  headers: Record<string, string | undefined>;
}

export class AkskVerifier {
  private readonly keys = new Map<string, KnownKey>();
  private readonly opts: AkskOptions;
  /** Per-process key for comparing signatures as HMACs: equal-length digests, no early exit on a prefix. */
  private readonly compareKey = randomBytes(32);

  constructor(keys: AccessKey[], opts: Partial<AkskOptions> = {}) {
    this.opts = { ...AKSK_DEFAULTS, ...opts };
    for (const k of keys) {
      const known = this.keys.get(k.ak);
      if (known) known.projects.add(k.projectId);
      else this.keys.set(k.ak, { sk: k.sk, projects: new Set([k.projectId]), failures: 0, lockedUntil: 0 });
    }
  }

  get enabled(): boolean {
    return this.keys.size > 0;
  }

  /** Checks everything that needs no body: header syntax, known key, lock, date. Throws an ApiError. */
  begin(authorization: string, headers: Record<string, string | undefined>): PendingSignature {
    const auth = parseAuthorization(authorization);
    if (!auth)
      throw akskErrors.signature(
        'the Authorization header is not "SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…"',
      );
    const key = this.keys.get(auth.ak);
    if (!key) throw akskErrors.unknownKey(auth.ak);
    const now = this.opts.now();
    if (key.lockedUntil > now) throw akskErrors.locked();
    const date = headers[DATE_HEADER];
    if (date === undefined || !auth.signedHeaders.includes(DATE_HEADER)) {
      throw this.fail(key, now, 'X-Sdk-Date must be sent and signed');
    }
    const at = parseSdkDate(date);
    if (at === undefined) throw this.fail(key, now, 'X-Sdk-Date is not in the format YYYYMMDDTHHmmssZ');
    if (Math.abs(now - at) > this.opts.maxSkewMs) {
      throw this.fail(key, now, 'X-Sdk-Date is more than 15 minutes away from the server time');
    }
    return { ak: auth.ak, auth, date };
  }

  /**
   * Checks the signature over the request and its raw body bytes; returns the projects the key may act on.
   * Throws an ApiError (and counts a failure towards the lock).
   */
  finish(pending: PendingSignature, req: RequestShape, body: Uint8Array): Set<string> {
    const key = this.keys.get(pending.ak)!;
    const now = this.opts.now();
    if (key.lockedUntil > now) throw akskErrors.locked();
    const bodyHash = sha256Hex(body);
    // The SDKs sign a declared X-Sdk-Content-Sha256 in place of the body's hash. Accept it only when it is that
    // hash, or UNSIGNED-PAYLOAD on an empty body: every byte that reaches a handler is signed.
    const declared = req.headers[CONTENT_SHA256_HEADER];
    if (declared !== undefined) {
      const ok = declared.toLowerCase() === bodyHash || (declared === UNSIGNED_PAYLOAD && body.length === 0);
      if (!ok) throw this.fail(key, now, 'X-Sdk-Content-Sha256 must be the SHA-256 of the body');
    }
    const parts: SignedParts = {
      ...req,
      signedHeaders: pending.auth.signedHeaders,
      payloadHash: declared ?? bodyHash,
    };
    const given = this.digest(pending.auth.signature);
    let ok = false;
    for (const style of CANONICAL_STYLES) {
      const expected = this.digest(signature(key.sk, parts, pending.date, style));
      if (timingSafeEqual(expected, given)) ok = true;
    }
    if (!ok) throw this.fail(key, now);
    key.failures = 0;
    return key.projects;
  }

  private digest(hex: string): Buffer {
    return createHmac('sha256', this.compareKey).update(hex, 'utf8').digest();
  }

  private fail(key: KnownKey, now: number, reason?: string) {
    key.failures += 1;
    if (key.failures >= this.opts.maxFailures) {
      key.failures = 0;
      key.lockedUntil = now + this.opts.lockMs;
    }
    return akskErrors.signature(reason);
  }
}
