/**
 * Every request gets an id, answered as `X-Request-Id` and carried by every log line about the request (a child
 * logger), so a user quoting the header (or a gateway error's `request_id`) finds the server's side of the story.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../log.ts';

export const REQUEST_ID_HEADER = 'X-Request-Id';

const ID = Symbol('requestId');
const LOG = Symbol('requestLog');

interface Tagged {
  [ID]?: string;
  [LOG]?: Logger;
}

export function requestIdOf(req: Request): string | undefined {
  return (req as Tagged)[ID];
}

/** The request's logger (tagged with `request_id`), or `fallback` for a request that never got one. */
export function requestLogger(req: Request, fallback: Logger): Logger {
  return (req as Tagged)[LOG] ?? fallback;
}

export function requestId(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    // 32 hex characters, the form of Huawei's request ids.
    const id = randomUUID().replaceAll('-', '');
    const log = logger.child({ request_id: id });
    (req as Tagged)[ID] = id;
    (req as Tagged)[LOG] = log;
    res.setHeader(REQUEST_ID_HEADER, id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info(
        {
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          ms: Math.round(ms),
        },
        'request',
      );
    });
    next();
  };
}
