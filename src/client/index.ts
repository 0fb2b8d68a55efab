/**
 * The typed client of this API, `import { createClient } from 'dcs-migrate/client'`: openapi-fetch over the types
 * generated from openapi/dcs-migration.yaml, so every path, parameter, body and answer is checked by the compiler
 * against the contract. Authentication is built in: an `X-Auth-Token`, or AK/SK request signing exactly as
 * Huawei's SDKs sign (signing.ts, which the server verifies with).
 */
import createFetchClient, { type Client, type Middleware } from 'openapi-fetch';
import type { paths } from '../api/generated/dcs-migration.ts';
import { type Credentials, signRequest } from './signing.ts';

export type { components, operations, paths } from '../api/generated/dcs-migration.ts';
export * from './signing.ts';

export type ClientAuth = { token: string } | Credentials;

export interface ClientOptions {
  /** Where the service is, e.g. `http://127.0.0.1:8080` (no trailing path). */
  baseUrl: string;
  /** Sent as `X-Project-Id` (the server refuses a request whose path names another project). */
  projectId?: string;
  /** None when the server runs without authentication. */
  auth?: ClientAuth;
  /** A fetch of your own (defaults to the global one). */
  fetch?: (input: Request) => Promise<Response>;
  /** Clock for signatures (tests). */
  now?: () => number;
}

export type DcsClient = Client<paths>;

/** Signs each request with an access key: `X-Sdk-Date` and `Authorization: SDK-HMAC-SHA256 …`. */
export function akskMiddleware(creds: Credentials, now: () => number = Date.now): Middleware {
  return {
    async onRequest({ request }) {
      const body = new Uint8Array(await request.clone().arrayBuffer());
      const headers: Record<string, string> = {};
      request.headers.forEach((v, k) => {
        headers[k] = v;
      });
      const added = signRequest(
        { method: request.method, url: new URL(request.url), headers, body },
        creds,
        now(),
      );
      const signed = new Headers(request.headers);
      for (const [k, v] of Object.entries(added)) signed.set(k, v);
      return new Request(request.url, {
        method: request.method,
        headers: signed,
        body: body.length ? body : undefined,
        signal: request.signal,
      });
    },
  };
}

export function createClient(opts: ClientOptions): DcsClient {
  const headers: Record<string, string> = {};
  if (opts.projectId !== undefined) headers['X-Project-Id'] = opts.projectId;
  if (opts.auth && 'token' in opts.auth) headers['X-Auth-Token'] = opts.auth.token;
  const client = createFetchClient<paths>({
    baseUrl: opts.baseUrl.replace(/\/+$/, ''),
    headers,
    ...(opts.fetch && { fetch: opts.fetch }),
  });
  if (opts.auth && 'ak' in opts.auth) client.use(akskMiddleware(opts.auth, opts.now));
  return client;
}
