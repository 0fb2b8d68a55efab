/**
 * Authentication and tenancy for /v2: an `X-Auth-Token` bound to a project, or a request signed with an access
 * key (`Authorization: SDK-HMAC-SHA256 …`, see aksk.ts) bound to a project. With neither tokens nor keys configured
 * auth is off (the server then binds loopback only, see server.ts). `X-Project-Id`, when sent, must name the path's
 * project.
 *
 * Tokens are checked before any body is read. A signature covers the body, so a signed request is checked in two
 * steps: everything but the body first (`authenticate`), then the signature once express.json has read the raw
 * bytes (`verifySignature`, which also reads bodies express.json leaves alone). Nothing reaches validation or a
 * handler before both pass.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthToken } from '../config.ts';
import type { AkskVerifier, PendingSignature } from './aksk.ts';
import { authErrors, bodyTooLarge, hasNoBody } from './errors.ts';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

const PENDING = Symbol('pendingSignature');
const RAW = Symbol('rawBody');

interface Tagged {
  [PENDING]?: PendingSignature;
  [RAW]?: Buffer;
}

/** The path's project id (decoded), for /v2/{project_id}/… paths. */
function projectOf(req: Request): string | undefined {
  const p = /^\/v2\/([^/]+)/.exec(req.path)?.[1];
  if (p === undefined) return undefined;
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

export function authenticate(tokens: AuthToken[], aksk: AkskVerifier): RequestHandler {
  const known = tokens.map((t) => ({ digest: digest(t.token), projectId: t.projectId }));
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/v2/')) return next();
    const project = projectOf(req);
    const header = req.get('x-project-id');
    if (header !== undefined && project !== undefined && header !== project) {
      return next(authErrors.projectHeader());
    }
    if (!known.length && !aksk.enabled) return next();

    const authorization = req.get('authorization');
    if (authorization !== undefined && /^SDK-HMAC-SHA256\s/i.test(authorization)) {
      try {
        (req as Tagged)[PENDING] = aksk.begin(authorization, req.headers as Record<string, string>);
      } catch (err) {
        return next(err);
      }
      return next();
    }

    const token = req.get('x-auth-token');
    if (!token) return next(authErrors.missing());
    const d = digest(token);
    // Compare against every token in constant time each, so timing does not reveal which one is close.
    let match: (typeof known)[number] | undefined;
    for (const k of known) if (timingSafeEqual(k.digest, d)) match = k;
    if (!match) return next(authErrors.invalid());
    if (project !== undefined && project !== match.projectId) return next(authErrors.otherProject());
    next();
  };
}

/** express.json's `verify` hook: keeps the raw bytes of a signed request for `verifySignature`. */
export function keepRawBody(req: Request, _res: Response, buf: Buffer): void {
  if ((req as Tagged)[PENDING]) (req as Tagged)[RAW] = buf;
}

/** Reads a body express.json did not (not JSON), up to `limit` bytes. */
async function readBody(req: Request, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw bodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * After express.json: a signed request's signature over its raw body. As both a handler and an error handler, so
 * that a signed request whose JSON does not parse is still refused as unauthenticated when its signature is bad.
 */
export function verifySignature(aksk: AkskVerifier, limit: number): [RequestHandler, ErrorRequestHandler] {
  const check = async (req: Request, parseError: unknown, next: NextFunction) => {
    const t = req as Tagged;
    const pending = t[PENDING];
    if (!pending) return next(parseError);
    t[PENDING] = undefined;
    try {
      let body = t[RAW];
      t[RAW] = undefined;
      if (!body) {
        // express.json failed before reading it all (too large, bad charset): that answer stands.
        if (parseError) return next(parseError);
        body = hasNoBody(req) ? Buffer.alloc(0) : await readBody(req, limit);
      }
      const q = req.originalUrl.indexOf('?');
      const path = q < 0 ? req.originalUrl : req.originalUrl.slice(0, q);
      const query = q < 0 ? '' : req.originalUrl.slice(q + 1);
      const projects = aksk.finish(
        pending,
        {
          method: req.method,
          path,
          query: [...new URLSearchParams(query).entries()],
          headers: req.headers as Record<string, string>,
        },
        body,
      );
      const project = projectOf(req);
      if (project !== undefined && !projects.has(project)) return next(authErrors.akOtherProject());
      next(parseError);
    } catch (err) {
      next(err);
    }
  };
  return [
    (req, _res, next) => void check(req, undefined, next),
    (err, req, _res, next) => void check(req, err, next),
  ];
}
