/**
 * The one place errors become DCS error bodies (STYLE habit 12): `{"error_code","error_msg","error_ext_msg":null}`.
 * Every DCS code the service answers with is in this file and nowhere else in src/.
 */
import type { NextFunction, Request, Response } from 'express';
import { MigrationError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { requestIdOf, requestLogger } from './request-id.ts';

export interface DcsErrorBody {
  error_code: string;
  error_msg: string;
  error_ext_msg: null;
}

/** Huawei's API gateway answers authentication failures in its own shape, with the request's id. */
export interface GatewayErrorBody {
  error_code: string;
  error_msg: string;
  request_id: string;
}

export class ApiError extends MigrationError {
  readonly status: number;
  readonly dcsCode: string;
  /** Answered in the gateway's shape (`GatewayErrorBody`) rather than DCS's. */
  readonly gateway: boolean;
  constructor(status: number, dcsCode: string, message: string, opts: { gateway?: boolean } = {}) {
    super(`API_ERR_${dcsCode.replace('.', '_')}`, message);
    this.status = status;
    this.dcsCode = dcsCode;
    this.gateway = opts.gateway ?? false;
  }
}

export const authErrors = {
  missing: () => new ApiError(401, 'DCS.1003', 'No token in the request: send X-Auth-Token.'),
  invalid: () => new ApiError(401, 'DCS.1001', 'Invalid token.'),
  otherProject: () => new ApiError(401, 'DCS.1004', 'Project ID does not match the token.'),
  akOtherProject: () => new ApiError(401, 'DCS.1004', 'Project ID does not match the access key.'),
  projectHeader: () => new ApiError(401, 'DCS.1004', 'Project ID does not match the X-Project-Id header.'),
};

const IAM = 'Incorrect IAM authentication information';
/** AK/SK refusals, worded as Huawei's API gateway words them (its "Common Errors Related to IAM Authentication"). */
export const akskErrors = {
  /** Bad signature; `reason` says what, when it is not a plain mismatch (date, malformed header). */
  signature: (reason?: string) =>
    new ApiError(401, 'APIG.0301', `${IAM}: verify aksk signature fail${reason ? `, ${reason}` : ''}`, {
      gateway: true,
    }),
  unknownKey: (ak: string) =>
    new ApiError(401, 'APIG.0301', `${IAM}: Get secretKey failed,ak:${ak.slice(0, 128)},err:ak not exist`, {
      gateway: true,
    }),
  locked: () =>
    new ApiError(401, 'APIG.0301', `${IAM}: AK access failed to reach the limit,forbidden.`, {
      gateway: true,
    }),
};

export const routeNotFound = () => new ApiError(404, 'DCS.4001', 'URL does not exist.');
export const bodyTooLarge = () => new ApiError(400, 'DCS.4800', 'Invalid body in the request: too large.');
export const emptyBody = () => new ApiError(400, 'DCS.4004', 'Empty request body.');
export const notReady = () => new ApiError(503, 'DCS.5000', 'Service is starting.');

/** Service error codes → HTTP status and DCS code. */
const BY_CODE: Record<string, [number, string]> = {
  TASK_ERR_NOT_FOUND: [400, 'DCS.4133'],
  TASK_ERR_JOB_NOT_FOUND: [400, 'DCS.4133'],
  TASK_ERR_STATE: [400, 'DCS.4957'],
  TASK_ERR_INVALID_FIELD: [400, 'DCS.4800'],
  TASK_ERR_UNKNOWN_INSTANCE: [400, 'DCS.4061'],
};

/** Batch items carry their own code: an unknown id is DCS.4855, as the vendor's batch-stop example shows. */
export function batchItemError(err: MigrationError): { error_code: string; error_msg: string } {
  if (err.code === 'TASK_ERR_NOT_FOUND')
    return { error_code: 'DCS.4855', error_msg: 'invalid migration task id in the request.' };
  const { error_code, error_msg } = toDcs(err).body;
  return { error_code, error_msg };
}

interface ValidatorError {
  status?: number;
  errors?: { path?: string; message?: string; errorCode?: string }[];
  type?: string;
  expose?: boolean;
}

/** `emptyBody`: the request carried no body bytes at all (then a body error is DCS.4004 "Empty request body."). */
export function toDcs(
  err: unknown,
  ctx: { emptyBody?: boolean; requestId?: string } = {},
): { status: number; body: DcsErrorBody | GatewayErrorBody } {
  const body = (code: string, msg: string): DcsErrorBody => ({
    error_code: code,
    error_msg: msg,
    error_ext_msg: null,
  });
  if (err instanceof ApiError && err.gateway) {
    return {
      status: err.status,
      body: { error_code: err.dcsCode, error_msg: err.message, request_id: ctx.requestId ?? '' },
    };
  }
  if (err instanceof ApiError) return { status: err.status, body: body(err.dcsCode, err.message) };
  if (err instanceof MigrationError) {
    const m = BY_CODE[err.code];
    if (m) return { status: m[0], body: body(m[1], err.bare) };
    return { status: 500, body: body('DCS.5000', 'Internal error.') };
  }
  const e = (err ?? {}) as ValidatorError;
  if (e.type === 'entity.parse.failed') {
    return { status: 400, body: body('DCS.4005', 'Body contains invalid characters or is not JSON.') };
  }
  if (e.type === 'entity.too.large') return toDcs(bodyTooLarge());
  if (e.status === 404 || e.status === 405)
    return { status: 404, body: body('DCS.4001', 'URL does not exist.') };
  const bodyError =
    e.status === 415 || (e.status === 400 && e.errors?.some((x) => (x.path ?? '').includes('body')));
  if (bodyError && ctx.emptyBody) return toDcs(emptyBody());
  if (e.status === 415) {
    return {
      status: 400,
      body: body(
        'DCS.4005',
        'Body contains invalid characters or is not JSON: send Content-Type application/json.',
      ),
    };
  }
  if (e.status === 400 && Array.isArray(e.errors) && e.errors.length) {
    const first = e.errors[0];
    const field = fieldName(first.path ?? '');
    return {
      status: 400,
      body: body('DCS.4800', `Invalid ${field} in the request: ${first.message ?? 'invalid value'}.`),
    };
  }
  return { status: 500, body: body('DCS.5000', 'Internal error.') };
}

/** `/body/backup_files/files/0/file_name` → `backup_files.files[0].file_name`; `/query/limit` → `limit`. */
function fieldName(path: string): string {
  const parts = path
    .replace(/^\.?\/?/, '')
    .split(/[/.]/)
    .filter(Boolean);
  if (parts[0] === 'body' && parts.length === 1) return 'body';
  const rest = ['body', 'query', 'params', 'path', 'headers'].includes(parts[0]) ? parts.slice(1) : parts;
  return rest.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || 'body';
}

/** The request carried no body bytes at all. */
export function hasNoBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return !req.headers['transfer-encoding'] && (length === undefined || length === '0');
}

export function errorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const log = requestLogger(req, logger);
    const { status, body } = toDcs(err, { emptyBody: hasNoBody(req), requestId: requestIdOf(req) });
    if (status >= 500) log.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    else log.debug({ code: body.error_code, method: req.method, url: req.originalUrl }, body.error_msg);
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}
