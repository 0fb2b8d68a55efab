/**
 * The typed client (`dcs-migrate/client`, src/client): its signer gives the same Authorization header as Huawei's
 * SDK core (AKSKSigner from npm) for the same request; signed and token calls reach the real service (whose
 * responses are validated against the spec); refusals come back as the gateway's/DCS's error bodies.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner.js';
import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials.js';
import { createClient, formatSdkDate, parseSdkDate, signRequest } from 'dcs-migrate/client';
import { type ControlledExecutor, controlledExecutors } from '../helpers/executors.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

const AK = 'HPUACLIENTTESTAK00001';
const SK = 'client-sk-4b6d8f0a2c4e6b8d0f2a4c6e';

describe('signRequest equals the SDK core AKSKSigner', () => {
  const at = Date.UTC(2026, 10, 23, 18, 45, 0);
  const cases: {
    what: string;
    method: string;
    url: string;
    query?: Record<string, string>;
    body?: unknown;
    headers?: Record<string, string>;
  }[] = [
    { what: 'GET, no query', method: 'GET', url: 'http://127.0.0.1:8080/v2/p1/migration-tasks' },
    {
      what: 'GET with a query needing encoding',
      method: 'GET',
      url: 'http://127.0.0.1:8080/v2/p1/migration-tasks',
      query: { limit: '10', offset: '0', name: 'a b+c/d~é*' },
    },
    {
      what: 'POST with a JSON body and X-Project-Id',
      method: 'POST',
      url: 'http://dcs.example:9000/v2/0a1b2c/migration-task',
      body: { task_name: 'import-1', backup_files: { files: [{ file_name: 'x.rdb' }] } },
      headers: { 'X-Project-Id': '0a1b2c' },
    },
    {
      what: 'DELETE with a body',
      method: 'DELETE',
      url: 'http://127.0.0.1:8080/v2/p1/migration-tasks/delete',
      body: { task_id_list: ['a', 'b'] },
    },
  ];
  for (const c of cases) {
    test(c.what, () => {
      const headers = { 'content-type': 'application/json', ...c.headers };
      const sdk = AKSKSigner.sign(
        {
          endpoint: c.url,
          method: c.method,
          headers: { ...headers, 'X-Sdk-Date': formatSdkDate(at) },
          queryParams: c.query ?? {},
          data: c.body,
        },
        new BasicCredentials().withAk(AK).withSk(SK),
      ) as Record<string, string>;
      const url = new URL(c.url);
      for (const [k, v] of Object.entries(c.query ?? {})) url.searchParams.set(k, v);
      const ours = signRequest(
        { method: c.method, url, headers, body: c.body === undefined ? undefined : JSON.stringify(c.body) },
        { ak: AK, sk: SK },
        at,
      );
      assert.equal(ours['X-Sdk-Date'], '20261123T184500Z');
      assert.equal(ours.Authorization, sdk.Authorization);
    });
  }

  test('X-Sdk-Date round trip; impossible dates refused', () => {
    assert.equal(parseSdkDate('20261123T184500Z'), at);
    assert.equal(parseSdkDate('20261323T184500Z'), undefined);
    assert.equal(parseSdkDate('20261123T254500Z'), undefined);
    assert.equal(parseSdkDate('2026-11-23T18:45:00Z'), undefined);
  });
});

describe('createClient against the service', () => {
  let svc: TestService;
  let backup: ControlledExecutor;
  before(async () => {
    const ex = controlledExecutors();
    backup = ex.backup_import;
    svc = await startTestService({
      tokens: 'tokC:projC',
      executors: ex,
      env: { DCS_ACCESS_KEYS: `${AK}:${SK}:projC` },
    });
  });
  after(() => svc.dispose());

  const body = {
    task_name: 'client-import',
    migration_type: 'backupfile_import' as const,
    migration_method: 'full_amount_migration' as const,
    backup_files: {
      file_source: 'self_build_obs' as const,
      bucket_name: 'bucket',
      files: [{ file_name: 'dump.rdb' }],
    },
    target_instance: { id: '', addrs: '10.0.0.5:6379', password: 'pw' },
  };

  test('AK/SK: CreateMigrationTask, ShowMigrationTask, ListMigrationTask (query), DeleteMigrationTask (DELETE body)', async () => {
    const api = createClient({ baseUrl: svc.url, projectId: 'projC', auth: { ak: AK, sk: SK } });
    const path = { project_id: 'projC' };
    const created = await api.POST('/v2/{project_id}/migration-task', { params: { path }, body });
    assert.equal(created.response.status, 200, JSON.stringify(created.error));
    const id = created.data!.id;
    await backup.runOf(id);
    const shown = await api.GET('/v2/{project_id}/migration-task/{task_id}', {
      params: { path: { ...path, task_id: id } },
    });
    assert.equal(shown.data?.task_name, 'client-import');
    assert.equal(shown.data?.status, 'MIGRATING');
    const listed = await api.GET('/v2/{project_id}/migration-tasks', {
      params: { path, query: { limit: 5, name: 'client imp' } },
    });
    assert.equal(listed.error, undefined);
    assert.equal(listed.data?.count, 0, 'the name filter reached the server (no task named "client imp")');
    const all = await api.GET('/v2/{project_id}/migration-tasks', {
      params: { path, query: { name: 'client-imp' } },
    });
    assert.deepEqual(
      all.data?.migration_tasks.map((t) => t.task_id),
      [id],
    );
    (await backup.runOf(id)).succeed();
    for (let i = 0; i < 500; i++) {
      const s = await api.GET('/v2/{project_id}/migration-task/{task_id}', {
        params: { path: { ...path, task_id: id } },
      });
      if (s.data?.status === 'SUCCESS') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const del = await api.DELETE('/v2/{project_id}/migration-tasks/delete', {
      params: { path },
      body: { task_id_list: [id] },
    });
    assert.deepEqual(del.data, { task_id_list: [id] });
    assert.equal((await svc.server.tasks.list('projC', { offset: 0, limit: 10 })).count, 0);
  });

  test('token auth', async () => {
    const api = createClient({ baseUrl: svc.url, projectId: 'projC', auth: { token: 'tokC' } });
    const res = await api.GET('/v2/{project_id}/migration-tasks', {
      params: { path: { project_id: 'projC' } },
    });
    assert.equal(res.response.status, 200);
    assert.match(String(res.response.headers.get('x-request-id')), /^[0-9a-f]{32}$/);
  });

  test('a wrong SK: the error is the gateway body (APIG.0301) with the request id', async () => {
    const api = createClient({ baseUrl: svc.url, projectId: 'projC', auth: { ak: AK, sk: 'wrong' } });
    const res = await api.GET('/v2/{project_id}/migration-tasks', {
      params: { path: { project_id: 'projC' } },
    });
    assert.equal(res.response.status, 401);
    assert.deepEqual(res.error, {
      error_code: 'APIG.0301',
      error_msg: 'Incorrect IAM authentication information: verify aksk signature fail',
      request_id: res.response.headers.get('x-request-id'),
    });
  });

  test('a client whose clock is 16 minutes off is refused', async () => {
    const api = createClient({
      baseUrl: svc.url,
      projectId: 'projC',
      auth: { ak: AK, sk: SK },
      now: () => Date.now() - 16 * 60_000,
    });
    const res = await api.GET('/v2/{project_id}/migration-tasks', {
      params: { path: { project_id: 'projC' } },
    });
    assert.equal(res.response.status, 401);
    assert.match(
      String((res.error as { error_msg: string }).error_msg),
      /X-Sdk-Date is more than 15 minutes/,
    );
  });

  test('projectId naming another project than the path: 401 DCS.1004', async () => {
    const api = createClient({ baseUrl: svc.url, projectId: 'projX', auth: { token: 'tokC' } });
    const res = await api.GET('/v2/{project_id}/migration-tasks', {
      params: { path: { project_id: 'projC' } },
    });
    assert.equal(res.response.status, 401);
    assert.equal((res.error as { error_code: string }).error_code, 'DCS.1004');
  });
});
