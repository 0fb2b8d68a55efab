/**
 * Authentication and tenancy (src/api/auth.ts, src/server.ts): X-Auth-Token bound to a project, each project's
 * tasks invisible to the others, /healthz open, auth off without tokens and then loopback only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'dcs-migrate/client';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { type ControlledExecutor, controlledExecutors } from '../helpers/executors.ts';
import { startTestService, type TestService, testEnv, waitForStatus } from '../helpers/service.ts';
import {
  assertClientError,
  assertDcsError,
  BUG_AUTH_AFTER_JSON_PARSE,
  backupImportBody,
  freshProject,
  NOT_FOUND_MSG,
  onlineCreateBody,
} from './support.ts';

const A = { 'X-Auth-Token': 'tokA' };
const B = { 'X-Auth-Token': 'tokB' };

describe('with DCS_AUTH_TOKENS="tokA:projA,tokB:projB"', () => {
  let svc: TestService;
  let backup: ControlledExecutor;
  const api = () => svc.agent;
  before(async () => {
    const ex = controlledExecutors();
    backup = ex.backup_import;
    svc = await startTestService({ tokens: 'tokA:projA,tokB:projB', executors: ex });
  });
  after(() => svc.dispose());

  test('ListMigrationTask without a token is 401 DCS.1003', async () => {
    assertDcsError(await api().get('/v2/projA/migration-tasks'), 401, 'DCS.1003');
  });

  test('ListMigrationTask with an unknown token is 401 DCS.1001', async () => {
    const res = await api().get('/v2/projA/migration-tasks').set('X-Auth-Token', 'tokC');
    assertDcsError(res, 401, 'DCS.1001');
  });

  test("ListMigrationTask with another project's token is 401 DCS.1004", async () => {
    assertDcsError(await api().get('/v2/projB/migration-tasks').set(A), 401, 'DCS.1004');
    assertDcsError(await api().get('/v2/projA/migration-tasks').set(B), 401, 'DCS.1004');
  });

  test('CreateMigrationTask: auth is checked before body validation (no token, invalid body → DCS.1003)', async () => {
    assertDcsError(await api().post('/v2/projA/migration-task').send({ task_name: 1 }), 401, 'DCS.1003');
  });

  test('CreateMigrationTask: auth is checked before JSON parsing (no token, bad JSON → DCS.1003)', {
    skip: BUG_AUTH_AFTER_JSON_PARSE,
  }, async () => {
    const res = await api()
      .post('/v2/projA/migration-task')
      .set('Content-Type', 'application/json')
      .send('{');
    assertDcsError(res, 401, 'DCS.1003');
  });

  test('an unknown route without a token is 401 DCS.1003 (nothing is revealed)', async () => {
    assertDcsError(await api().get('/v2/projA/nothing'), 401, 'DCS.1003');
  });

  test('Healthz needs no token', async () => {
    const res = await api().get('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  // Through the typed client (dcs-migrate/client), as a program using the package would call it.
  test("ShowMigrationTask: projA's task is invisible to projB (DCS.4133, list empty, stop/delete untouched)", async () => {
    const a = createClient({ baseUrl: svc.url, projectId: 'projA', auth: { token: 'tokA' } });
    const b = createClient({ baseUrl: svc.url, projectId: 'projB', auth: { token: 'tokB' } });
    const created = await a.POST('/v2/{project_id}/migration-task', {
      params: { path: { project_id: 'projA' } },
      body: backupImportBody() as never,
    });
    assert.equal(created.response.status, 200, JSON.stringify(created.error));
    const id = created.data!.id;
    await backup.runOf(id);
    // tokB on its own project, naming projA's task.
    const path = { project_id: 'projB', task_id: id };
    assertClientError(
      await b.GET('/v2/{project_id}/migration-task/{task_id}/stats', { params: { path } }),
      400,
      'DCS.4133',
      NOT_FOUND_MSG,
    );
    assertClientError(
      await b.GET('/v2/{project_id}/migration-task/{task_id}/logs', { params: { path } }),
      400,
      'DCS.4133',
      NOT_FOUND_MSG,
    );
    assertClientError(
      await b.POST('/v2/{project_id}/migration-task/{task_id}/stop', { params: { path } }),
      400,
      'DCS.4133',
      NOT_FOUND_MSG,
    );
    assertClientError(
      await b.POST('/v2/{project_id}/migration-task/{task_id}/sync-stop', { params: { path } }),
      400,
      'DCS.4133',
    );
    assertClientError(
      await b.PUT('/v2/{project_id}/migration-task/{task_id}', { params: { path }, body: {} }),
      400,
      'DCS.4133',
    );
    const list = await b.GET('/v2/{project_id}/migration-tasks', {
      params: { path: { project_id: 'projB' } },
    });
    assert.deepEqual(list.data, { count: 0, migration_tasks: [] });
    const stop = await b.POST('/v2/{project_id}/migration-task/batch-stop', {
      params: { path: { project_id: 'projB' } },
      body: { migration_tasks: [id] },
    });
    assert.equal(stop.data?.migration_tasks[0].error_code, 'DCS.4855');
    const del = await b.DELETE('/v2/{project_id}/migration-tasks/delete', {
      params: { path: { project_id: 'projB' } },
      body: { task_id_list: [id] },
    });
    assert.equal(del.response.status, 200, JSON.stringify(del.error));
    // Still there, still running, for projA.
    const mine = await waitForStatus(api(), 'projA', id, 'MIGRATING', { token: 'tokA' });
    assert.equal(mine.task_id, id);
    (await backup.runOf(id)).succeed();
    await waitForStatus(api(), 'projA', id, 'SUCCESS', { token: 'tokA' });
  });

  test("ShowJobInfo: projA's job is invisible to projB", async () => {
    const res = await api().post('/v2/projA/migration/instance').set(A).send(onlineCreateBody());
    assert.equal(res.status, 200, res.text);
    assert.equal((await api().get(`/v2/projA/jobs/${res.body.job_id}`).set(A)).status, 200);
    assertDcsError(
      await api().get(`/v2/projB/jobs/${res.body.job_id}`).set(B),
      400,
      'DCS.4133',
      NOT_FOUND_MSG,
    );
  });
});

describe('without tokens', () => {
  test('CreateOnlineMigrationTask: auth is off on loopback, any project works without a token', async () => {
    const svc = await startTestService();
    try {
      const p = freshProject();
      const res = await svc.agent.post(`/v2/${p}/migration/instance`).send(onlineCreateBody());
      assert.equal(res.status, 200, res.text);
      const withToken = await svc.agent.get(`/v2/${p}/migration-tasks`).set('X-Auth-Token', 'whatever');
      assert.equal(withToken.body.count, 1);
    } finally {
      await svc.dispose();
    }
  });

  test('startServer refuses HOST=0.0.0.0 without DCS_AUTH_TOKENS, naming the variable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcs-auth-'));
    try {
      const config = loadConfig(testEnv(dir, { env: { HOST: '0.0.0.0' } }));
      await assert.rejects(startServer(config, { executors: controlledExecutors() }), (err: Error) =>
        /DCS_AUTH_TOKENS/.test(err.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('startServer serves HOST=0.0.0.0 when tokens are set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcs-auth-'));
    const server = await startServer(
      loadConfig(testEnv(dir, { tokens: 'tok:p', env: { HOST: '0.0.0.0' } })),
      {
        executors: controlledExecutors(),
      },
    );
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/v2/p/migration-tasks`, {
        headers: { 'X-Auth-Token': 'tok' },
      });
      assert.equal(res.status, 200);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
