/**
 * The HTTP app: JSON parsing, authentication, request validation against the contract (openapi/), one router
 * per resource, and the one error mapper. No business logic lives here.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { AccessKey, AuthToken } from '../config.ts';
import type { Logger } from '../log.ts';
import type { TaskService } from '../tasks/index.ts';
import { type AkskOptions, AkskVerifier } from './aksk.ts';
import { authenticate, keepRawBody, verifySignature } from './auth.ts';
import { docsRouter } from './docs.ts';
import { emptyBody, errorHandler, hasNoBody, routeNotFound } from './errors.ts';
import { requestId } from './request-id.ts';
import { jobsRouter } from './routes/jobs.ts';
import { migrationTasksRouter } from './routes/migration-tasks.ts';
import { onlineMigrationRouter } from './routes/online-migration.ts';

export const SPEC_PATH = join(dirname(fileURLToPath(import.meta.url)), '../../openapi/dcs-migration.yaml');

const BODY_LIMIT = 1024 * 1024;

export interface AppDeps {
  tasks: TaskService;
  authTokens: AuthToken[];
  /** Access keys for AK/SK-signed requests. */
  accessKeys?: AccessKey[];
  /** Clock, skew and lock settings of AK/SK verification (tests). */
  aksk?: Partial<AkskOptions>;
  logger: Logger;
  /** False while starting or stopping: /healthz answers 503. */
  isReady: () => boolean;
  /** Validate every response against the spec (tests turn this on; a mismatch is a 500). */
  validateResponses?: boolean;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use(requestId(deps.logger));

  app.get('/healthz', (_req, res) => {
    if (deps.isReady()) res.status(200).json({ status: 'ok' });
    else res.status(503).json({ status: 'unavailable', reason: 'starting' });
  });

  // Public: the contract and its interactive reference.
  app.use(docsRouter(SPEC_PATH));

  // Authenticate before reading any body: an unauthenticated request gets 401, and its body is never parsed. A
  // signed request's header checks come first; its signature, which covers the raw body, right after reading it.
  const aksk = new AkskVerifier(deps.accessKeys ?? [], deps.aksk);
  app.use(authenticate(deps.authTokens, aksk));
  app.use(express.json({ limit: BODY_LIMIT, verify: keepRawBody }));
  app.use(verifySignature(aksk, BODY_LIMIT));
  app.use(
    OpenApiValidator.middleware({
      apiSpec: SPEC_PATH,
      validateRequests: { allowUnknownQueryParameters: false, coerceTypes: false },
      validateResponses: deps.validateResponses ?? false,
      validateSecurity: false,
      ignoreUndocumented: false,
    }),
  );

  // Operations whose body is required but has no required properties pass schema validation when empty.
  app.use((req, _res, next) => {
    const required = (req as { openapi?: { schema?: { requestBody?: { required?: boolean } } } }).openapi
      ?.schema?.requestBody?.required;
    next(required && hasNoBody(req) ? emptyBody() : undefined);
  });

  app.use(migrationTasksRouter(deps.tasks));
  app.use(onlineMigrationRouter(deps.tasks));
  app.use(jobsRouter(deps.tasks));

  app.use((_req, _res, next) => next(routeNotFound()));
  app.use(errorHandler(deps.logger));
  return app;
}
