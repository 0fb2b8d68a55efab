/**
 * Requests signed by Huawei's own SDK core (`@huaweicloud/huaweicloud-sdk-core` from npm), two ways:
 * - `sdkClient()`: the SDK's HcClient end to end (BasicCredentials, its request building, axios), given the
 *   operation as the DCS SDK's generated ParamCreater describes it (method, url template, params, data);
 * - `sdkSigned()` + `sendRaw()`: the SDK's AKSKSigner headers for a request, sent byte for byte with node:http so a
 *   test can change one byte after signing.
 */
import { request as httpRequest } from 'node:http';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials.js';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import type { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient.js';

export interface SdkOperation {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Template as in the DCS SDK, e.g. `/v2/{project_id}/migration-task/{task_id}`. */
  url: string;
  pathParams?: Record<string, string>;
  queryParams?: Record<string, string | number>;
  data?: unknown;
}

export interface SdkAnswer {
  status: number;
  body: Record<string, unknown>;
  requestId?: string;
  errorCode?: string;
  errorMsg?: string;
}

export function sdkClient(endpoint: string, ak: string, sk: string, projectId: string) {
  const credentials = new BasicCredentials().withAk(ak).withSk(sk).withProjectId(projectId);
  const client = new ClientBuilder<HcClient>((c) => c)
    .withCredential(credentials)
    .withEndpoint(endpoint)
    .build();
  // The SDK prints every error answer (with its request) to stdout; the tests assert on the answers instead.
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  (client as unknown as { httpClient: { _logger: unknown } }).httpClient._logger = quiet;
  return async (op: SdkOperation): Promise<SdkAnswer> => {
    try {
      const res = (await client.sendRequest({
        method: op.method,
        url: op.url,
        contentType: 'application/json',
        queryParams: op.queryParams ?? {},
        pathParams: op.pathParams ?? {},
        headers: {},
        // The generated DCS client starts every request with `data: {}` (sent as "{}" even on a GET).
        data: op.data ?? {},
      })) as Record<string, unknown> & { httpStatusCode: number };
      const { httpStatusCode, ...body } = res;
      return { status: httpStatusCode, body };
    } catch (err) {
      const e = err as { httpStatusCode?: number; errorCode?: string; errorMsg?: string; requestId?: string };
      if (e.httpStatusCode === undefined) throw err;
      return {
        status: e.httpStatusCode,
        body: {},
        errorCode: e.errorCode,
        errorMsg: e.errorMsg,
        requestId: e.requestId,
      };
    }
  };
}

export interface RawRequest {
  method: string;
  /** Path and query as sent, e.g. `/v2/p/migration-tasks?limit=5`. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * The headers AKSKSigner computes for a request to `base` + `path` (query given separately, as the SDK takes it),
 * with a JSON body `data`. `date` overrides X-Sdk-Date (basic format).
 */
export function sdkSigned(
  base: string,
  opts: {
    method: string;
    path: string;
    query?: Record<string, string>;
    data?: unknown;
    ak: string;
    sk: string;
    headers?: Record<string, string>;
    date?: string;
  },
): RawRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  if (opts.date) headers['X-Sdk-Date'] = opts.date;
  const credential = new BasicCredentials().withAk(opts.ak).withSk(opts.sk);
  const signed = AKSKSigner.sign(
    {
      endpoint: `${base}${opts.path}`,
      method: opts.method,
      headers,
      queryParams: opts.query ?? {},
      data: opts.data,
    },
    credential,
  ) as Record<string, string>;
  const qs = new URLSearchParams(opts.query ?? {}).toString();
  return {
    method: opts.method,
    path: qs ? `${opts.path}?${qs}` : opts.path,
    headers: signed,
    body: opts.data === undefined ? undefined : JSON.stringify(opts.data),
  };
}

/** Sends exactly these bytes (node:http, so Host and every header are as given). */
export function sendRaw(
  base: string,
  req: RawRequest,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  text: string;
}> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers: {
          ...req.headers,
          ...(req.body !== undefined && { 'content-length': String(Buffer.byteLength(req.body)) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown> = {};
          try {
            body = text ? JSON.parse(text) : {};
          } catch {
            body = {};
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
        });
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}
