/**
 * AK/SK request signing (src/api/aksk.ts, src/api/auth.ts) against Huawei's own SDK core from npm: every /v2
 * operation of the contract called through the SDK's HcClient with an access key, and the refusals — one changed
 * byte of body, path, query or a signed header, a date 16 minutes off, an unknown AK, an AK on another project's
 * path, a mismatching X-Project-Id, the five-failures lock — each answered as Huawei's API gateway answers, with
 * nothing executed (the store is compared before and after).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { SPEC_PATH } from '../../src/api/app.ts';
import { formatSdkDate } from '../../src/client/index.ts';
import { type ControlledExecutor, controlledExecutors } from '../helpers/executors.ts';
import { startTestService, type TestService, waitForStatus } from '../helpers/service.ts';
import { type RawRequest, type SdkOperation, sdkClient, sdkSigned, sendRaw } from './sdk-signing.ts';
import { backupImportBody, onlineConfigBody, onlineCreateBody } from './support.ts';

const AK = 'HPUAEXAMPLEAKA0000001';
const SK = 'skA-9d1f3c0e7b2a4f6d8e0c1b3a5f7d9e1c';
const AK_B = 'HPUAEXAMPLEAKB0000002';
const SK_B = 'skB-0e2c4a6f8d1b3e5c7a9f0d2b4e6c8a1f';
const AK_LOCK = 'HPUAEXAMPLELOCK000003';
const SK_LOCK = 'skL-5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a';
const PROJ = 'projA';
const PROJ_B = 'projB';
const PROJ_LOCK = 'projL';
const VERIFY_FAIL = 'Incorrect IAM authentication information: verify aksk signature fail';

/** Every /v2 operation of the contract. */
const SPEC_OPS: string[] = (() => {
  const spec = parse(readFileSync(SPEC_PATH, 'utf8')) as {
    paths: Record<string, Record<string, { operationId?: string }>>;
  };
  const ids: string[] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    if (!path.startsWith('/v2/')) continue;
    for (const m of ['get', 'put', 'post', 'delete'])
      if (item[m]?.operationId) ids.push(item[m].operationId!);
  }
  return ids.sort();
})();

/** Asserts a gateway-shaped refusal: 401 {error_code: APIG.0301, error_msg, request_id = X-Request-Id}. */
function assertGateway(
  res: {
    status: number;
    body: Record<string, unknown>;
    headers: Record<string, string | string[] | undefined>;
    text: string;
  },
  msg: string | RegExp,
) {
  assert.equal(res.status, 401, res.text);
  assert.deepEqual(Object.keys(res.body).sort(), ['error_code', 'error_msg', 'request_id']);
  assert.equal(res.body.error_code, 'APIG.0301');
  if (typeof msg === 'string') assert.equal(res.body.error_msg, msg);
  else assert.match(String(res.body.error_msg), msg);
  assert.match(String(res.headers['x-request-id']), /^[0-9a-f]{32}$/);
  assert.equal(res.body.request_id, res.headers['x-request-id']);
}

describe('AK/SK signing (Huawei SDK core from npm)', () => {
  let svc: TestService;
  let backup: ControlledExecutor;
  let clockOffset = 0;
  const sdk = () => sdkClient(svc.url, AK, SK, PROJ);

  before(async () => {
    const ex = controlledExecutors();
    backup = ex.backup_import;
    svc = await startTestService({
      tokens: 'tokA:projA',
      executors: ex,
      env: {
        DCS_ACCESS_KEYS: `${AK}:${SK}:${PROJ},${AK_B}:${SK_B}:${PROJ_B},${AK_LOCK}:${SK_LOCK}:${PROJ_LOCK}`,
      },
      aksk: { now: () => Date.now() + clockOffset },
    });
  });
  after(() => svc.dispose());

  /** Everything the store holds for a project: tasks in full (status, counters, logs) — to prove nothing ran. */
  async function snapshot(project: string) {
    const { tasks } = await svc.server.tasks.list(project, { offset: 0, limit: 1000 });
    return JSON.stringify(tasks);
  }

  test('every /v2 operation of the spec, called through HcClient with AK/SK, is executed', async () => {
    const call = sdk();
    const seen = new Set<string>();
    const run = async (id: string, op: SdkOperation, status: number) => {
      const res = await call(op);
      assert.equal(res.status, status, `${id}: ${JSON.stringify(res)}`);
      seen.add(id);
      return res;
    };

    // CreateMigrationTask (body), ShowMigrationTask, ShowMigrationTaskStats, ListMigrationTaskLogs (query).
    const created = await run(
      'CreateMigrationTask',
      {
        method: 'POST',
        url: '/v2/{project_id}/migration-task',
        data: backupImportBody({ task_name: 'signed-import' }),
      },
      200,
    );
    const importId = created.body.id as string;
    await backup.runOf(importId);
    const shown = await run(
      'ShowMigrationTask',
      { method: 'GET', url: '/v2/{project_id}/migration-task/{task_id}', pathParams: { task_id: importId } },
      200,
    );
    assert.equal(shown.body.task_name, 'signed-import');
    await run(
      'ShowMigrationTaskStats',
      {
        method: 'GET',
        url: '/v2/{project_id}/migration-task/{task_id}/stats',
        pathParams: { task_id: importId },
      },
      200,
    );
    await run(
      'ListMigrationTaskLogs',
      {
        method: 'GET',
        url: '/v2/{project_id}/migration-task/{task_id}/logs',
        pathParams: { task_id: importId },
        queryParams: { offset: 0, limit: 5, log_level: 'INFO' },
      },
      200,
    );
    // ListMigrationTask with a query that needs encoding (space, +, /, unicode).
    const listed = await run(
      'ListMigrationTask',
      {
        method: 'GET',
        url: '/v2/{project_id}/migration-tasks',
        queryParams: { offset: 0, limit: 100, name: 'signed-import' },
      },
      200,
    );
    assert.equal(listed.body.count, 1);
    const odd = await call({
      method: 'GET',
      url: '/v2/{project_id}/migration-tasks',
      queryParams: { name: 'a b+c/d~é' },
    });
    assert.equal(odd.status, 200, JSON.stringify(odd));
    assert.equal(odd.body.count, 0);

    await run(
      'StopMigrationTask',
      {
        method: 'POST',
        url: '/v2/{project_id}/migration-task/{task_id}/stop',
        pathParams: { task_id: importId },
      },
      200,
    );
    await waitForStatus(svc.agent, PROJ, importId, 'TERMINATED', { token: 'tokA' });

    // Online task: create, job, configure, sync-stop, batch stop/restart, exchange/rollback IP.
    const online = await run(
      'CreateOnlineMigrationTask',
      { method: 'POST', url: '/v2/{project_id}/migration/instance', data: onlineCreateBody() },
      200,
    );
    const onlineId = online.body.instance_id as string;
    await run(
      'ShowJobInfo',
      {
        method: 'GET',
        url: '/v2/{project_id}/jobs/{job_id}',
        pathParams: { job_id: online.body.job_id as string },
      },
      200,
    );
    await waitForStatus(svc.agent, PROJ, onlineId, 'RUNNING', { token: 'tokA' });
    await run(
      'SetOnlineMigrationTask',
      {
        method: 'POST',
        url: '/v2/{project_id}/migration/{task_id}/task',
        pathParams: { task_id: onlineId },
        data: onlineConfigBody({ migration_method: 'full_amount_migration' }),
      },
      200,
    );
    await run(
      'UpdateMigrationTask',
      {
        method: 'PUT',
        url: '/v2/{project_id}/migration-task/{task_id}',
        pathParams: { task_id: onlineId },
        data: { resume_mode: 'manual' },
      },
      200,
    );
    const batchStop = await run(
      'BatchStopMigrationTasks',
      {
        method: 'POST',
        url: '/v2/{project_id}/migration-task/batch-stop',
        data: { migration_tasks: [onlineId] },
      },
      200,
    );
    assert.equal((batchStop.body.migration_tasks as { result: string }[])[0].result, 'success');
    await waitForStatus(svc.agent, PROJ, onlineId, 'TERMINATED', { token: 'tokA' });
    const restart = await run(
      'BatchRestartOnlineMigrationTasks',
      {
        method: 'POST',
        url: '/v2/{project_id}/migration-tasks/batch-restart',
        data: { migration_tasks: [onlineId] },
      },
      200,
    );
    assert.equal((restart.body.migration_tasks as { result: string }[])[0].result, 'success');
    await run(
      'StopMigrationTaskSync',
      {
        method: 'POST',
        url: '/v2/{project_id}/migration-task/{task_id}/sync-stop',
        pathParams: { task_id: onlineId },
      },
      204,
    );
    // Exchange needs instances known by id (DCS.4957 here): the handler ran and answered, past authentication.
    const exchange = await call({
      method: 'POST',
      url: '/v2/{project_id}/migration-task/{task_id}/exchange-ip',
      pathParams: { task_id: onlineId },
      data: { exchanged_ip: ['10.0.0.9'], is_exchange_domain: false },
    });
    assert.equal(exchange.status, 400, JSON.stringify(exchange));
    assert.match(String(exchange.errorCode), /^DCS\.4/);
    seen.add('ExchangeInstanceIp');
    const rollback = await call({
      method: 'POST',
      url: '/v2/{project_id}/migration-task/{task_id}/rollback-ip',
      pathParams: { task_id: onlineId },
    });
    assert.match(String(rollback.status), /^(204|400)$/, JSON.stringify(rollback));
    if (rollback.status === 400) assert.match(String(rollback.errorCode), /^DCS\.4/);
    seen.add('RollbackExchangeInstanceIp');

    // DeleteMigrationTask: DELETE with a JSON body.
    await run(
      'DeleteMigrationTask',
      {
        method: 'DELETE',
        url: '/v2/{project_id}/migration-tasks/delete',
        data: { task_id_list: [importId] },
      },
      200,
    );
    assert.equal(
      (await svc.server.tasks.list(PROJ, { offset: 0, limit: 100 })).tasks.some((t) => t.id === importId),
      false,
    );

    assert.deepEqual([...seen].sort(), SPEC_OPS, 'every /v2 operation of the spec was called signed');
  });

  test('the SDK refusal carries the gateway code, message and X-Request-Id (wrong SK)', async () => {
    const res = await sdkClient(
      svc.url,
      AK_B,
      'not-the-secret',
      PROJ_B,
    )({ method: 'GET', url: '/v2/{project_id}/migration-tasks' });
    assert.equal(res.status, 401);
    assert.equal(res.errorCode, 'APIG.0301');
    assert.equal(res.errorMsg, VERIFY_FAIL);
    assert.match(String(res.requestId), /^[0-9a-f]{32}$/);
  });

  describe('one changed byte after signing is refused, nothing executed', () => {
    let taskId: string;
    let otherId: string;
    const base = () => svc.url;
    before(async () => {
      taskId = (await svc.server.tasks.createBackupImport(PROJ, backupImportBody() as never)).id;
      otherId = (await svc.server.tasks.createBackupImport(PROJ, backupImportBody() as never)).id;
    });

    const createReq = () =>
      sdkSigned(base(), {
        method: 'POST',
        path: `/v2/${PROJ}/migration-task`,
        data: backupImportBody({ task_name: 'tamper-check' }),
        ak: AK,
        sk: SK,
        headers: { 'X-Project-Id': PROJ },
      });

    /**
     * Refused with `msg`, the store unchanged; then a correctly signed request with the same key succeeds, which
     * also resets the key's failure count (these refusals are not the lock test).
     */
    async function refused(req: RawRequest, msg: string | RegExp = VERIFY_FAIL) {
      const before = await snapshot(PROJ);
      assertGateway(await sendRaw(base(), req), msg);
      assert.equal(await snapshot(PROJ), before, 'the store is unchanged');
      const ak = /Access=([^,]+)/.exec(req.headers.Authorization)?.[1];
      const known = ak === AK ? [SK, PROJ] : ak === AK_B ? [SK_B, PROJ_B] : undefined;
      if (known) {
        const control = sdkSigned(base(), {
          method: 'GET',
          path: `/v2/${known[1]}/migration-tasks`,
          ak: ak!,
          sk: known[0],
        });
        assert.equal((await sendRaw(base(), control)).status, 200, 'the key still works');
      }
    }

    test('the untampered request is accepted (control)', async () => {
      const res = await sendRaw(base(), createReq());
      assert.equal(res.status, 200, res.text);
      const { tasks } = await svc.server.tasks.list(PROJ, { offset: 0, limit: 1000, name: 'tamper-check' });
      assert.equal(tasks.length, 1);
      await svc.server.tasks.delete(PROJ, [tasks[0].id]).catch(() => undefined);
    });

    test('body: one byte changed', async () => {
      const req = createReq();
      req.body = req.body!.replace('tamper-check', 'tamper-checK');
      await refused(req);
    });

    test('body: sent without its signature covering it (x-sdk-content-sha256 of other bytes)', async () => {
      const req = createReq();
      req.headers['x-sdk-content-sha256'] = 'UNSIGNED-PAYLOAD';
      await refused(req, /^Incorrect IAM authentication information: verify aksk signature fail, /);
    });

    test('path: the task id changed by one character (stop)', async () => {
      const req = sdkSigned(base(), {
        method: 'POST',
        path: `/v2/${PROJ}/migration-task/${taskId}/stop`,
        ak: AK,
        sk: SK,
      });
      req.path = `/v2/${PROJ}/migration-task/${otherId}/stop`;
      await refused(req);
      assert.equal((await svc.server.tasks.get(PROJ, otherId)).status, 'MIGRATING');
    });

    test('query: a value changed', async () => {
      const req = sdkSigned(base(), {
        method: 'GET',
        path: `/v2/${PROJ}/migration-tasks`,
        query: { limit: '5' },
        ak: AK,
        sk: SK,
      });
      req.path = req.path.replace('limit=5', 'limit=6');
      await refused(req);
    });

    test('query: a parameter added', async () => {
      const req = sdkSigned(base(), { method: 'GET', path: `/v2/${PROJ}/migration-tasks`, ak: AK, sk: SK });
      req.path += '?limit=1';
      await refused(req);
    });

    test('signed header: X-Project-Id changed (with the path changed to match)', async () => {
      const req = sdkSigned(base(), {
        method: 'GET',
        path: `/v2/${PROJ}/migration-tasks`,
        ak: AK,
        sk: SK,
        headers: { 'X-Project-Id': PROJ },
      });
      req.headers['X-Project-Id'] = 'projZ';
      req.path = '/v2/projZ/migration-tasks';
      await refused(req);
    });

    test('signed header: content-type changed', async () => {
      const req = createReq();
      req.headers['content-type'] = 'application/json; charset=utf-8';
      await refused(req);
    });

    test('X-Sdk-Date 16 minutes in the past, and 16 minutes ahead', async () => {
      for (const delta of [-16, 16]) {
        const req = sdkSigned(base(), {
          method: 'POST',
          path: `/v2/${PROJ}/migration-task/${taskId}/stop`,
          ak: AK_B,
          sk: SK_B,
          date: formatSdkDate(Date.now() + delta * 60_000),
        });
        // AK_B would be refused on projA anyway; sign for its own project to isolate the date.
        const own = sdkSigned(base(), {
          method: 'GET',
          path: `/v2/${PROJ_B}/migration-tasks`,
          ak: AK_B,
          sk: SK_B,
          date: formatSdkDate(Date.now() + delta * 60_000),
        });
        assertGateway(
          await sendRaw(base(), own),
          /verify aksk signature fail, X-Sdk-Date is more than 15 minutes/,
        );
        await refused(req, /verify aksk signature fail, X-Sdk-Date is more than 15 minutes/);
      }
      assert.equal((await svc.server.tasks.get(PROJ, taskId)).status, 'MIGRATING');
      // 14 minutes off is still accepted.
      const ok = sdkSigned(base(), {
        method: 'GET',
        path: `/v2/${PROJ_B}/migration-tasks`,
        ak: AK_B,
        sk: SK_B,
        date: formatSdkDate(Date.now() - 14 * 60_000),
      });
      assert.equal((await sendRaw(base(), ok)).status, 200);
    });

    test('an unknown AK: "Get secretKey failed … ak not exist"', async () => {
      const req = createReq();
      const forged = sdkSigned(base(), {
        method: 'POST',
        path: `/v2/${PROJ}/migration-task`,
        data: backupImportBody({ task_name: 'tamper-check' }),
        ak: 'HPUAUNKNOWNAK99999999',
        sk: SK,
      });
      assert.ok(req.headers.Authorization !== forged.headers.Authorization);
      await refused(
        forged,
        'Incorrect IAM authentication information: Get secretKey failed,ak:HPUAUNKNOWNAK99999999,err:ak not exist',
      );
    });

    test("an AK used on another project's path: 401 DCS.1004, nothing executed", async () => {
      const req = sdkSigned(base(), {
        method: 'POST',
        path: `/v2/${PROJ}/migration-task/${taskId}/stop`,
        ak: AK_B,
        sk: SK_B,
      });
      const before = await snapshot(PROJ);
      const res = await sendRaw(base(), req);
      assert.equal(res.status, 401, res.text);
      assert.deepEqual(res.body, {
        error_code: 'DCS.1004',
        error_msg: 'Project ID does not match the access key.',
        error_ext_msg: null,
      });
      assert.equal(await snapshot(PROJ), before);
      assert.equal((await svc.server.tasks.get(PROJ, taskId)).status, 'MIGRATING');
    });

    test('X-Project-Id naming another project than the path: 401 DCS.1004', async () => {
      const req = sdkSigned(base(), {
        method: 'POST',
        path: `/v2/${PROJ}/migration-task`,
        data: backupImportBody({ task_name: 'tamper-check' }),
        ak: AK,
        sk: SK,
        headers: { 'X-Project-Id': PROJ_B },
      });
      const before = await snapshot(PROJ);
      const res = await sendRaw(base(), req);
      assert.equal(res.status, 401, res.text);
      assert.equal(res.body.error_code, 'DCS.1004');
      assert.equal(await snapshot(PROJ), before);
    });

    test('a malformed Authorization header is refused', async () => {
      const req = createReq();
      req.headers.Authorization = `SDK-HMAC-SHA256 Access=${AK}, Signature=abc`;
      await refused(req, /^Incorrect IAM authentication information: verify aksk signature fail, /);
    });

    test('a signed request with unparseable JSON and a bad signature is 401, not 400', async () => {
      const req = createReq();
      req.body = `${req.body!.slice(0, -1)},`;
      await refused(req);
    });

    test('a correctly signed request with unparseable JSON is 400 DCS.4005 (signed over the raw bytes)', async () => {
      const body = '{"task_name": "x",';
      const req = sdkSigned(base(), {
        method: 'POST',
        path: `/v2/${PROJ}/migration-task`,
        ak: AK,
        sk: SK,
        // The SDK signs a declared body hash in place of its own JSON.stringify: here, of these exact bytes.
        headers: { 'X-Sdk-Content-Sha256': createHash('sha256').update(body).digest('hex') },
      });
      req.body = body;
      const before = await snapshot(PROJ);
      const res = await sendRaw(base(), req);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.error_code, 'DCS.4005');
      assert.equal(await snapshot(PROJ), before);
    });
  });

  test('five failures in a row lock the AK for five minutes, then it works again', async () => {
    const good = () =>
      sdkSigned(svc.url, {
        method: 'GET',
        path: `/v2/${PROJ_LOCK}/migration-tasks`,
        ak: AK_LOCK,
        sk: SK_LOCK,
      });
    const bad = () =>
      sdkSigned(svc.url, {
        method: 'GET',
        path: `/v2/${PROJ_LOCK}/migration-tasks`,
        ak: AK_LOCK,
        sk: 'wrong',
      });
    // A success resets the count: four failures, one success, four failures leave it unlocked.
    for (let i = 0; i < 4; i++) assertGateway(await sendRaw(svc.url, bad()), VERIFY_FAIL);
    assert.equal((await sendRaw(svc.url, good())).status, 200);
    for (let i = 0; i < 4; i++) assertGateway(await sendRaw(svc.url, bad()), VERIFY_FAIL);
    assert.equal((await sendRaw(svc.url, good())).status, 200);
    for (let i = 0; i < 5; i++) assertGateway(await sendRaw(svc.url, bad()), VERIFY_FAIL);
    const locked = 'Incorrect IAM authentication information: AK access failed to reach the limit,forbidden.';
    assertGateway(await sendRaw(svc.url, good()), locked);
    // Other keys are not affected.
    assert.equal(
      (
        await sendRaw(
          svc.url,
          sdkSigned(svc.url, { method: 'GET', path: `/v2/${PROJ_B}/migration-tasks`, ak: AK_B, sk: SK_B }),
        )
      ).status,
      200,
    );
    clockOffset = 4 * 60_000 + 59_000;
    assertGateway(await sendRaw(svc.url, good()), locked);
    clockOffset = 5 * 60_000 + 1000;
    try {
      assert.equal((await sendRaw(svc.url, good())).status, 200);
    } finally {
      clockOffset = 0;
    }
  });

  test('X-Auth-Token keeps working beside AK/SK', async () => {
    const res = await svc.agent.get(`/v2/${PROJ}/migration-tasks`).set('X-Auth-Token', 'tokA');
    assert.equal(res.status, 200, res.text);
    assert.match(String(res.headers['x-request-id']), /^[0-9a-f]{32}$/);
    const none = await svc.agent.get(`/v2/${PROJ}/migration-tasks`);
    assert.equal(none.status, 401);
    assert.equal(none.body.error_code, 'DCS.1003');
  });
});
