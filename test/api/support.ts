/**
 * Shared pieces of the API suites: request bodies as the SDKs send them, the exact DCS error-body assertion, a
 * fresh project per test (no test reads another test's tasks), and known src bugs whose tests are skipped until
 * they are fixed (set a constant to `false` to run its tests).
 */
import assert from 'node:assert/strict';
import type { Response } from 'supertest';
import type { Agent } from '../helpers/service.ts';

/**
 * UpdateMigrationTask and ExchangeInstanceIp (requestBody required, schema without required properties) let a
 * request without any body through to the handler (DCS.4133 / 204) instead of DCS.4004 "Empty request body.".
 */
export const BUG_EMPTY_BODY_NO_REQUIRED_PROPS: string | false = false;

/** Unauthenticated requests should be refused before their body is parsed (no 4005 leak, no parsing cost). */
export const BUG_AUTH_AFTER_JSON_PARSE: string | false = false;

/** Spec (ExchangeInstanceIp): allowed only when source and target are both instances known by id. */
export const BUG_EXCHANGE_NEEDS_KNOWN_INSTANCES: string | false = false;

export const BACKUP_TASK_ID = /^[0-9a-f]{32}$/;

let projects = 0;
/** A project id no other test uses. */
export function freshProject(prefix = 'proj'): string {
  projects += 1;
  return `${prefix}-${process.pid}-${projects}`;
}

export const SOURCE_PASSWORD = 'Src-Pa55word-7f1c';
export const TARGET_PASSWORD = 'Tgt-Pa55word-93ab';

/** CreateMigrationTask body (bucket import) with a self-hosted target given by addrs. */
export function backupImportBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    task_name: 'import-task',
    description: 'nightly import',
    migration_type: 'backupfile_import',
    migration_method: 'full_amount_migration',
    backup_files: {
      file_source: 'self_build_obs',
      bucket_name: 'obs-bucket',
      files: [{ file_name: 'appendonly.aof', size: '754.0MB', update_at: '2022-04-11 09:40:00' }],
    },
    target_instance: { id: '', addrs: '10.0.0.5:6379', password: TARGET_PASSWORD },
    ...over,
  };
}

export function onlineCreateBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'online-task',
    description: 'migrate the session cache',
    vpc_id: 'vpc-1',
    subnet_id: 'subnet-1',
    security_group_id: 'sg-1',
    ...over,
  };
}

export function onlineConfigBody(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    migration_method: 'incremental_migration',
    resume_mode: 'auto',
    bandwidth_limit_mb: '123',
    source_instance: { addrs: '10.0.0.4:6379', password: SOURCE_PASSWORD },
    target_instance: { addrs: '10.0.0.5:6379', password: TARGET_PASSWORD },
    ...over,
  };
}

/** Instances known to the service (DCS_INSTANCES_FILE) for the suites that use ids. */
export const KNOWN_INSTANCES = [
  { id: 'src-inst-1', name: 'cache-old', addrs: '10.0.1.4:6379', password: SOURCE_PASSWORD },
  { id: 'tgt-inst-1', name: 'cache-new', addrs: '10.0.1.5:6379' },
];

/** Asserts status and that the body is exactly {error_code, error_msg, error_ext_msg: null}. */
export function assertDcsError(res: Response, status: number, code: string, msg?: string | RegExp): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.text}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  assert.deepEqual(Object.keys(res.body).sort(), ['error_code', 'error_ext_msg', 'error_msg']);
  assert.equal(res.body.error_code, code, res.text);
  assert.equal(res.body.error_ext_msg, null);
  assert.equal(typeof res.body.error_msg, 'string');
  if (typeof msg === 'string') assert.equal(res.body.error_msg, msg);
  else if (msg) assert.match(res.body.error_msg, msg);
  assert.doesNotMatch(res.text, /\n\s+at |\.ts:\d+/, 'no stack trace in an error body');
}

/** The typed client's answer (dcs-migrate/client) is exactly the DCS error body with this status and code. */
export function assertClientError(
  res: { error?: unknown; response: globalThis.Response },
  status: number,
  code: string,
  msg?: string | RegExp,
): void {
  const body = res.error as Record<string, unknown> | undefined;
  assert.equal(
    res.response.status,
    status,
    `expected ${status} ${code}, got ${res.response.status} ${JSON.stringify(body)}`,
  );
  assert.deepEqual(Object.keys(body ?? {}).sort(), ['error_code', 'error_ext_msg', 'error_msg']);
  assert.equal(body?.error_code, code);
  assert.equal(body?.error_ext_msg, null);
  if (typeof msg === 'string') assert.equal(body?.error_msg, msg);
  else if (msg) assert.match(String(body?.error_msg), msg);
}

/** DCS.4800 naming `field` first (as `Invalid <field> in the request`). */
export function assertInvalidField(res: Response, field: string): void {
  const esc = field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assertDcsError(res, 400, 'DCS.4800', new RegExp(`^Invalid ${esc} in the request`));
}

export const NOT_FOUND_MSG = 'Instance job is not found.';

export async function createBackupImport(agent: Agent, project: string, over: Record<string, unknown> = {}) {
  const res = await agent.post(`/v2/${project}/migration-task`).send(backupImportBody(over));
  assert.equal(res.status, 200, res.text);
  return res.body.id as string;
}

/** Online task created (RUNNING) and, when `config` is not null, configured (FULLMIGRATING). */
export async function createOnline(
  agent: Agent,
  project: string,
  config: Record<string, unknown> | null = {},
  over: Record<string, unknown> = {},
): Promise<string> {
  const res = await agent.post(`/v2/${project}/migration/instance`).send(onlineCreateBody(over));
  assert.equal(res.status, 200, res.text);
  const id = res.body.instance_id as string;
  if (config) {
    const set = await agent.post(`/v2/${project}/migration/${id}/task`).send(onlineConfigBody(config));
    assert.equal(set.status, 200, set.text);
  }
  return id;
}

/** The task as ListMigrationTask reports it. */
export async function listed(agent: Agent, project: string, taskId: string) {
  const res = await agent.get(`/v2/${project}/migration-tasks?limit=1000`);
  assert.equal(res.status, 200, res.text);
  return (res.body.migration_tasks as Record<string, unknown>[]).find((t) => t.task_id === taskId);
}
