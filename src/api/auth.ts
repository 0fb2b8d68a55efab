/**
 * X-Auth-Token authentication and tenancy. With tokens configured, every /v2 request needs a token, and the
 * token's project must be the path's project. Without tokens auth is off (the server then binds loopback only,
 * see server.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { AuthToken } from '../config.ts';
import { authErrors } from './errors.ts';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function tokenAuth(tokens: AuthToken[]) {
  const known = tokens.map((t) => ({ digest: digest(t.token), projectId: t.projectId }));
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!known.length || !req.path.startsWith('/v2/')) return next();
    const token = req.get('x-auth-token');
    if (!token) return next(authErrors.missing());
    const d = digest(token);
    // Compare against every token in constant time each, so timing does not reveal which one is close.
    let match: (typeof known)[number] | undefined;
    for (const k of known) if (timingSafeEqual(k.digest, d)) match = k;
    if (!match) return next(authErrors.invalid());
    const project = /^\/v2\/([^/]+)/.exec(req.path)?.[1];
    if (project !== undefined && decodeURIComponent(project) !== match.projectId)
      return next(authErrors.otherProject());
    next();
  };
}
