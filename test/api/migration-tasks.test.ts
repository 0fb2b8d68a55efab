/**
 * Migration-task resource (src/api/routes/migration-tasks.ts) against the real service: every operation's happy
 * path with its exact body, and its error paths, table-driven. Responses are validated against the contract by
 * the server itself (validateResponses), so a drifting body is a 500 here. Each test uses its own project.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MigrationError } from '../../src/errors.ts';
import { type ControlledExecutor, controlledExecutors } from '../helpers/executors.ts';
import { startTestService, type TestService, waitForStatus } from '../helpers/service.ts';
import {
  assertDcsError,
  assertInvalidField,
  BACKUP_TASK_ID,
  backupImportBody,
  createBackupImport,
  createOnline,
  freshProject,
  listed,
  NOT_FOUND_MSG,
  TARGET_PASSWORD,
} from './support.ts';

let svc: TestService;
let backup: ControlledExecutor;
let online: ControlledExecutor;
const api = () => svc.agent;
const UNKNOWN_ID = '00000000000000000000000000000000';

before(async () => {
  const ex = controlledExecutors();
  backup = ex.backup_import;
  online = ex.online;
  svc = await startTestService({ executors: ex });
});
after(() => svc.dispose());

function resetExecutors() {
  backup.onAbort = 'drain';
  online.onAbort = 'drain';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CreateMigrationTask', () => {
  test('CreateMigrationTask: creates a backup import in MIGRATING and starts its executor', async () => {
    const p = freshProject();
    const res = await api().post(`/v2/${p}/migration-task`).send(backupImportBody());
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['error', 'id', 'name', 'status']);
    assert.match(res.body.id, BACKUP_TASK_ID);
    assert.deepEqual(
      { ...res.body, id: 'x' },
      { id: 'x', name: 'import-task', status: 'MIGRATING', error: '' },
    );

    const run = await backup.runOf(res.body.id);
    assert.deepEqual(run.task, {
      id: res.body.id,
      projectId: p,
      kind: 'backup_import',
      migrationMethod: 'full_amount_migration',
      resumeMode: 'auto',
      bandwidthLimitMb: null,
      backupFiles: {
        fileSource: 'self_build_obs',
        bucketName: 'obs-bucket',
        files: [{ name: 'appendonly.aof', size: '754.0MB' }],
      },
      source: null,
      target: { id: '', name: '', addrs: '10.0.0.5:6379', password: TARGET_PASSWORD },
      checkpoint: null,
      resumed: false,
    });
    const item = await listed(api(), p, res.body.id);
    assert.equal(item?.status, 'MIGRATING');
    run.succeed();
    await waitForStatus(api(), p, res.body.id, 'SUCCESS');
  });

  test('CreateMigrationTask: accepts the Go SDK body (file_source absent, target id "" with addrs)', async () => {
    const p = freshProject();
    const res = await api()
      .post(`/v2/${p}/migration-task`)
      .set('Content-Type', 'application/json;charset=UTF-8')
      .send(
        JSON.stringify({
          task_name: 'import-self-hosted',
          migration_type: 'backupfile_import',
          migration_method: 'full_amount_migration',
          backup_files: { bucket_name: 'my-bucket', files: [{ file_name: 'dump.rdb' }] },
          target_instance: { id: '', addrs: '10.0.0.5:6379' },
        }),
      );
    assert.equal(res.status, 200, res.text);
    const run = await backup.runOf(res.body.id);
    assert.equal(run.task.backupFiles?.fileSource, 'self_build_obs');
    assert.equal(run.task.target.password, undefined);
    run.succeed();
  });

  test('CreateMigrationTask: the executor failing ends FAILED with its message in error_message and an ERROR log', async () => {
    const p = freshProject();
    const id = await createBackupImport(api(), p);
    (await backup.runOf(id)).fail(new MigrationError('RDB_ERR_BAD_MAGIC', 'dump.rdb is not an RDB file'));
    const t = await waitForStatus(api(), p, id, 'FAILED');
    assert.equal(t.error_message, 'dump.rdb is not an RDB file');
    const logs = await api().get(`/v2/${p}/migration-task/${id}/logs?log_level=ERROR`);
    assert.equal(logs.body.log_num, 1);
    assert.equal(logs.body.migration_logs[0].log_code, 'RDB_ERR_BAD_MAGIC');
  });

  test('CreateMigrationTask: an unexpected executor error fails the task without leaking its text', async () => {
    const p = freshProject();
    const id = await createBackupImport(api(), p);
    (await backup.runOf(id)).fail(new TypeError('secret internals at /srv/x.ts:12'));
    const t = await waitForStatus(api(), p, id, 'FAILED');
    assert.equal(t.error_message, 'Internal error while running the task; see the service log.');
  });

  const refused: [string, Record<string, unknown>, string | 'DCS.4061'][] = [
    ['online_migration type', { migration_type: 'online_migration' }, 'migration_type'],
    ['no backup_files', { backup_files: undefined }, 'backup_files'],
    [
      'file_source backup_record',
      { backup_files: { file_source: 'backup_record', backup_id: 'r1' } },
      'backup_files.file_source',
    ],
    ['no bucket_name', { backup_files: { files: [{ file_name: 'a.rdb' }] } }, 'backup_files.bucket_name'],
    ['empty files', { backup_files: { bucket_name: 'b', files: [] } }, 'backup_files.files'],
    [
      'files null (Go SDK nil slice)',
      { backup_files: { bucket_name: 'b', files: null } },
      'backup_files.files',
    ],
    [
      'empty file_name',
      { backup_files: { bucket_name: 'b', files: [{ file_name: '' }] } },
      'backup_files.files[0].file_name',
    ],
    [
      'file without file_name',
      { backup_files: { bucket_name: 'b', files: [{}] } },
      'backup_files.files[0].file_name',
    ],
    ['target_instance null', { target_instance: null }, 'target_instance'],
    ['target_instance absent', { target_instance: undefined }, 'target_instance'],
    ['target id "" without addrs', { target_instance: { id: '' } }, 'target_instance'],
    ['target without id', { target_instance: { addrs: '10.0.0.5:6379' } }, 'target_instance.id'],
    [
      'target addrs not host:port',
      { target_instance: { id: '', addrs: 'redis-host' } },
      'target_instance.addrs',
    ],
    ['target port 0', { target_instance: { id: '', addrs: '10.0.0.5:0' } }, 'target_instance.addrs'],
    ['unknown target id', { target_instance: { id: 'no-such-instance' } }, 'DCS.4061'],
    ['task_name too short', { task_name: 'abc' }, 'task_name'],
    ['task_name starting with a digit', { task_name: '1task' }, 'task_name'],
    ['task_name with a space', { task_name: 'my task' }, 'task_name'],
    ['description too long', { description: 'x'.repeat(1025) }, 'description'],
    ['network_type unknown', { network_type: 'internet' }, 'network_type'],
    [
      'backup_record is response-only',
      { backup_files: { bucket_name: 'b', files: [{ file_name: 'a' }], backup_record: { backup_id: 'r' } } },
      'backup_files.backup_record',
    ],
  ];
  for (const [what, over, field] of refused) {
    test(`CreateMigrationTask refuses ${what} (${field === 'DCS.4061' ? 'DCS.4061' : `DCS.4800 ${field}`})`, async () => {
      const p = freshProject();
      const res = await api().post(`/v2/${p}/migration-task`).send(backupImportBody(over));
      if (field === 'DCS.4061') assertDcsError(res, 400, 'DCS.4061', /^Invalid instance ID/);
      else assertInvalidField(res, field);
      const list = await api().get(`/v2/${p}/migration-tasks`);
      assert.equal(list.body.count, 0, 'nothing created');
    });
  }
});

describe('ListMigrationTask', () => {
  test('ListMigrationTask: an empty project lists nothing', async () => {
    const res = await api().get(`/v2/${freshProject()}/migration-tasks`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { count: 0, migration_tasks: [] });
  });

  test('ListMigrationTask: newest first, offset/limit page, count is the total, name filters by substring', async () => {
    const p = freshProject();
    const ids: string[] = [];
    for (const name of ['alpha-one', 'beta-two', 'alpha-three']) {
      ids.push(await createBackupImport(api(), p, { task_name: name }));
      await sleep(3);
    }
    const all = await api().get(`/v2/${p}/migration-tasks`);
    assert.equal(all.status, 200);
    assert.equal(all.body.count, 3);
    assert.deepEqual(
      all.body.migration_tasks.map((t: { task_id: string }) => t.task_id),
      [...ids].reverse(),
    );
    const page = await api().get(`/v2/${p}/migration-tasks?offset=1&limit=1`);
    assert.equal(page.body.count, 3);
    assert.deepEqual(
      page.body.migration_tasks.map((t: { task_id: string }) => t.task_id),
      [ids[1]],
    );
    const beyond = await api().get(`/v2/${p}/migration-tasks?offset=5`);
    assert.deepEqual(beyond.body, { count: 3, migration_tasks: [] });
    const named = await api().get(`/v2/${p}/migration-tasks?name=alpha`);
    assert.equal(named.body.count, 2);
    assert.deepEqual(
      named.body.migration_tasks.map((t: { task_name: string }) => t.task_name),
      ['alpha-three', 'alpha-one'],
    );
    for (const id of ids) (await backup.runOf(id)).succeed();
  });

  test('ListMigrationTask: the name filter ignores ASCII case (SQLite LIKE, as the spec says)', async () => {
    const p = freshProject();
    const id = await createBackupImport(api(), p, { task_name: 'alpha-one' });
    (await backup.runOf(id)).succeed();
    assert.equal((await api().get(`/v2/${p}/migration-tasks?name=ALPHA`)).body.count, 1);
    assert.equal((await api().get(`/v2/${p}/migration-tasks?name=alpha`)).body.count, 1);
    assert.equal((await api().get(`/v2/${p}/migration-tasks?name=beta`)).body.count, 0);
  });

  test('ListMigrationTask: a backup-import item has the list fields and no password', async () => {
    const p = freshProject();
    const id = await createBackupImport(api(), p);
    const res = await api().get(`/v2/${p}/migration-tasks`);
    const item = res.body.migration_tasks[0];
    assert.match(item.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(
      { ...item, created_at: 'T' },
      {
        task_id: id,
        task_name: 'import-task',
        status: 'MIGRATING',
        migration_type: 'backupfile_import',
        migration_method: 'full_amount_migration',
        ecs_tenant_private_ip: '',
        data_source: 'obs-bucket',
        source_instance_name: '',
        source_instance_id: '',
        target_instance_addrs: '10.0.0.5:6379',
        target_instance_name: '',
        target_instance_id: '',
        created_at: 'T',
        description: 'nightly import',
        source_instance_status: '',
        target_instance_status: '',
        source_instance_subnet_id: '',
        target_instance_subnet_id: '',
        source_instance_spec_code: '',
        target_instance_spec_code: '',
        error_message: null,
        released_at: '',
        version: '',
        supported_features: [],
      },
    );
    assert.ok(!res.text.includes(TARGET_PASSWORD));
    (await backup.runOf(id)).succeed();
  });

  const badQueries: [string, string][] = [
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=abc', 'limit'],
    ['offset=-1', 'offset'],
    ['offset=1.5', 'offset'],
    [`name=${'n'.repeat(65)}`, 'name'],
    ['page=2', 'page'],
  ];
  for (const [q, field] of badQueries) {
    test(`ListMigrationTask refuses ?${q.slice(0, 20)} (DCS.4800 ${field})`, async () => {
      assertInvalidField(await api().get(`/v2/${freshProject()}/migration-tasks?${q}`), field);
    });
  }
});

describe('ShowMigrationTask', () => {
  test('ShowMigrationTask: a backup import in full', async () => {
    const p = freshProject();
    const id = await createBackupImport(api(), p);
    const res = await api().get(`/v2/${p}/migration-task/${id}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.task_id, id);
    assert.equal(res.body.status, 'MIGRATING');
    assert.equal(res.body.migration_type, 'backupfile_import');
    assert.deepEqual(res.body.backup_files, {
      file_source: 'self_build_obs',
      bucket_name: 'obs-bucket',
      files: [{ file_name: 'appendonly.aof', size: '754.0MB', update_at: '2022-04-11 09:40:00' }],
    });
    assert.deepEqual(res.body.target_instance, {
      id: '',
      addrs: '10.0.0.5:6379',
      ip: '10.0.0.5',
      port: '6379',
    });
    assert.equal(res.body.bandwidth_limit_mb, undefined);
    assert.ok(!res.text.includes(TARGET_PASSWORD));
    (await backup.runOf(id)).succeed();
  });

  test('ShowMigrationTask: a configured online task in full, bandwidth as a string, no password', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p);
    const res = await api().get(`/v2/${p}/migration-task/${id}`);
    assert.equal(res.status, 200, res.text);
    for (const k of ['created_at', 'updated_at']) assert.match(res.body[k], /^\d{4}-\d\d-\d\dT.*Z$/);
    assert.deepEqual(
      { ...res.body, created_at: 'T', updated_at: 'T' },
      {
        task_id: id,
        task_name: 'online-task',
        description: 'migrate the session cache',
        status: 'FULLMIGRATING',
        migration_type: 'online_migration',
        migration_method: 'incremental_migration',
        ecs_tenant_private_ip: '',
        source_instance: { addrs: '10.0.0.4:6379', ip: '10.0.0.4', port: '6379' },
        target_instance: { id: '', addrs: '10.0.0.5:6379', ip: '10.0.0.5', port: '6379' },
        created_at: 'T',
        updated_at: 'T',
        released_at: '',
        version: '',
        resume_mode: 'auto',
        supported_features: [],
        tenant_vpc_id: 'vpc-1',
        tenant_subnet_id: 'subnet-1',
        tenant_security_group_id: 'sg-1',
        bandwidth_limit_mb: '123',
      },
    );
    await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
  });

  for (const [what, id] of [
    ['an unknown id', UNKNOWN_ID],
    ['a malformed id', 'not-a-task-id'],
  ]) {
    test(`ShowMigrationTask: ${what} is DCS.4133 "Instance job is not found."`, async () => {
      assertDcsError(
        await api().get(`/v2/${freshProject()}/migration-task/${id}`),
        400,
        'DCS.4133',
        NOT_FOUND_MSG,
      );
    });
  }
});

describe('UpdateMigrationTask', () => {
  test('UpdateMigrationTask: sets resume_mode of an online task, answers {}', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p);
    const res = await api().put(`/v2/${p}/migration-task/${id}`).send({ resume_mode: 'manual' });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, {});
    const show = await api().get(`/v2/${p}/migration-task/${id}`);
    assert.equal(show.body.resume_mode, 'manual');
    const item = await listed(api(), p, id);
    assert.equal(item?.resume_mode, 'manual');
    const logs = await api().get(`/v2/${p}/migration-task/${id}/logs?limit=100`);
    assert.ok(logs.body.migration_logs.some((l: { log_code: string }) => l.log_code === 'TASK_UPDATED'));
    await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
  });

  test('UpdateMigrationTask: a body without resume_mode changes nothing', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p, null);
    const res = await api().put(`/v2/${p}/migration-task/${id}`).send({});
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, {});
    assert.equal((await listed(api(), p, id))?.resume_mode, undefined);
  });

  test('UpdateMigrationTask refuses resume_mode "sometimes" (DCS.4800 resume_mode)', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p, null);
    assertInvalidField(
      await api().put(`/v2/${p}/migration-task/${id}`).send({ resume_mode: 'sometimes' }),
      'resume_mode',
    );
  });

  test('UpdateMigrationTask refuses an unknown field (DCS.4800)', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p, null);
    assertInvalidField(await api().put(`/v2/${p}/migration-task/${id}`).send({ resume: 'auto' }), 'resume');
  });

  test('UpdateMigrationTask: a backup import is DCS.4957', async () => {
    const p = freshProject();
    const id = await createBackupImport(api(), p);
    assertDcsError(
      await api().put(`/v2/${p}/migration-task/${id}`).send({ resume_mode: 'auto' }),
      400,
      'DCS.4957',
    );
    (await backup.runOf(id)).succeed();
  });

  test('UpdateMigrationTask: an unknown task is DCS.4133', async () => {
    const res = await api()
      .put(`/v2/${freshProject()}/migration-task/${UNKNOWN_ID}`)
      .send({ resume_mode: 'auto' });
    assertDcsError(res, 400, 'DCS.4133', NOT_FOUND_MSG);
  });
});

describe('DeleteMigrationTask', () => {
  test('DeleteMigrationTask: deletes finished tasks, ignores unknown ids, echoes the request', async () => {
    const p = freshProject();
    const id = await createBackupImport(api(), p);
    (await backup.runOf(id)).succeed();
    await waitForStatus(api(), p, id, 'SUCCESS');
    const online = await createOnline(api(), p, null);
    const res = await api()
      .delete(`/v2/${p}/migration-tasks/delete`)
      .send({ task_id_list: [id, UNKNOWN_ID, online] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { task_id_list: [id, UNKNOWN_ID, online] });
    assertDcsError(await api().get(`/v2/${p}/migration-task/${id}`), 400, 'DCS.4133', NOT_FOUND_MSG);
    assertDcsError(
      await api().get(`/v2/${p}/migration-task/${online}/stats`),
      400,
      'DCS.4133',
      NOT_FOUND_MSG,
    );
    assert.deepEqual((await api().get(`/v2/${p}/migration-tasks`)).body, { count: 0, migration_tasks: [] });
  });

  test('DeleteMigrationTask: a running task is DCS.4957 and nothing is deleted', async () => {
    const p = freshProject();
    const done = await createBackupImport(api(), p);
    (await backup.runOf(done)).succeed();
    await waitForStatus(api(), p, done, 'SUCCESS');
    const running = await createBackupImport(api(), p);
    const res = await api()
      .delete(`/v2/${p}/migration-tasks/delete`)
      .send({ task_id_list: [done, running] });
    assertDcsError(res, 400, 'DCS.4957');
    assert.equal((await api().get(`/v2/${p}/migration-tasks`)).body.count, 2);
    (await backup.runOf(running)).succeed();
  });

  test('DeleteMigrationTask: only unknown ids answers 200 and deletes nothing', async () => {
    const p = freshProject();
    const res = await api()
      .delete(`/v2/${p}/migration-tasks/delete`)
      .send({ task_id_list: [UNKNOWN_ID] });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { task_id_list: [UNKNOWN_ID] });
  });

  for (const [what, body, field] of [
    ['an empty list', { task_id_list: [] }, 'task_id_list'],
    ['no list', { ids: ['x'] }, 'task_id_list'],
    ['a list of numbers', { task_id_list: [1] }, 'task_id_list[0]'],
  ] as const) {
    test(`DeleteMigrationTask refuses ${what} (DCS.4800 ${field})`, async () => {
      assertInvalidField(
        await api().delete(`/v2/${freshProject()}/migration-tasks/delete`).send(body),
        field,
      );
    });
  }
});

describe('StopMigrationTask', () => {
  test('StopMigrationTask: answers the task TERMINATING, TERMINATED once the executor drained', async () => {
    resetExecutors();
    online.onAbort = 'ignore';
    const p = freshProject();
    const id = await createOnline(api(), p);
    const run = await online.runOf(id);
    const res = await api().post(`/v2/${p}/migration-task/${id}/stop`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.task_id, id);
    assert.equal(res.body.status, 'TERMINATING');
    assert.ok(run.ctx.signal.aborted, 'the executor is told to stop');
    await sleep(20);
    assert.equal((await listed(api(), p, id))?.status, 'TERMINATING');
    run.succeed();
    await waitForStatus(api(), p, id, 'TERMINATED');
    resetExecutors();
  });

  test('StopMigrationTask: a backup import goes TERMINATING → TERMINATED', async () => {
    const p = freshProject();
    const id = await createBackupImport(api(), p);
    await backup.runOf(id);
    const res = await api().post(`/v2/${p}/migration-task/${id}/stop`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'TERMINATING');
    await waitForStatus(api(), p, id, 'TERMINATED');
  });

  test('StopMigrationTask: an unconfigured online task ends TERMINATED at once', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p, null);
    const res = await api().post(`/v2/${p}/migration-task/${id}/stop`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'TERMINATED');
  });

  test('StopMigrationTask: a stopped task is DCS.4957', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p);
    assert.equal((await api().post(`/v2/${p}/migration-task/${id}/sync-stop`)).status, 204);
    assertDcsError(await api().post(`/v2/${p}/migration-task/${id}/stop`), 400, 'DCS.4957');
  });

  test('StopMigrationTask: an unknown task is DCS.4133', async () => {
    assertDcsError(
      await api().post(`/v2/${freshProject()}/migration-task/${UNKNOWN_ID}/stop`),
      400,
      'DCS.4133',
      NOT_FOUND_MSG,
    );
  });
});

describe('StopMigrationTaskSync', () => {
  test('StopMigrationTaskSync: answers 204 only when the executor has drained, then the task is TERMINATED', async () => {
    resetExecutors();
    backup.onAbort = 'ignore';
    const p = freshProject();
    const id = await createBackupImport(api(), p);
    const run = await backup.runOf(id);
    let answered = false;
    const pending = api()
      .post(`/v2/${p}/migration-task/${id}/sync-stop`)
      .then((r) => {
        answered = true;
        return r;
      });
    await waitForStatus(api(), p, id, 'TERMINATING');
    await sleep(30);
    assert.equal(answered, false, 'sync-stop waits for the drain');
    run.succeed();
    const res = await pending;
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal((await listed(api(), p, id))?.status, 'TERMINATED');
    resetExecutors();
  });

  test('StopMigrationTaskSync: a running online task is TERMINATED when it returns', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p);
    await online.runOf(id);
    const res = await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
    assert.equal(res.status, 204);
    assert.equal((await listed(api(), p, id))?.status, 'TERMINATED');
  });

  test('StopMigrationTaskSync: a task already finished answers 204 at once', async () => {
    const p = freshProject();
    const id = await createBackupImport(api(), p);
    (await backup.runOf(id)).succeed();
    await waitForStatus(api(), p, id, 'SUCCESS');
    assert.equal((await api().post(`/v2/${p}/migration-task/${id}/sync-stop`)).status, 204);
    assert.equal((await listed(api(), p, id))?.status, 'SUCCESS');
  });

  test('StopMigrationTaskSync: an unknown task is DCS.4133', async () => {
    assertDcsError(
      await api().post(`/v2/${freshProject()}/migration-task/${UNKNOWN_ID}/sync-stop`),
      400,
      'DCS.4133',
      NOT_FOUND_MSG,
    );
  });
});

describe('BatchStopMigrationTasks', () => {
  test('BatchStopMigrationTasks: one result per id in request order (success, DCS.4855, DCS.4957)', async () => {
    const p = freshProject();
    const running = await createOnline(api(), p);
    await online.runOf(running);
    const importing = await createBackupImport(api(), p);
    await backup.runOf(importing);
    const stopped = await createOnline(api(), p);
    await api().post(`/v2/${p}/migration-task/${stopped}/sync-stop`);
    const res = await api()
      .post(`/v2/${p}/migration-task/batch-stop`)
      .send({ migration_tasks: [running, UNKNOWN_ID, stopped, importing] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.migration_tasks[0], { task_id: running, result: 'success' });
    assert.deepEqual(res.body.migration_tasks[1], {
      task_id: UNKNOWN_ID,
      result: 'failed',
      error_code: 'DCS.4855',
      error_msg: 'invalid migration task id in the request.',
    });
    assert.equal(res.body.migration_tasks[2].task_id, stopped);
    assert.equal(res.body.migration_tasks[2].result, 'failed');
    assert.equal(res.body.migration_tasks[2].error_code, 'DCS.4957');
    assert.deepEqual(res.body.migration_tasks[3], { task_id: importing, result: 'success' });
    assert.equal(res.body.migration_tasks.length, 4);
    await waitForStatus(api(), p, running, 'TERMINATED');
    await waitForStatus(api(), p, importing, 'TERMINATED');
  });

  test('BatchStopMigrationTasks: every item failing still answers 200', async () => {
    const res = await api()
      .post(`/v2/${freshProject()}/migration-task/batch-stop`)
      .send({ migration_tasks: ['nope'] });
    assert.equal(res.status, 200);
    assert.equal(res.body.migration_tasks[0].error_code, 'DCS.4855');
  });

  for (const [what, body, field] of [
    ['an empty list', { migration_tasks: [] }, 'migration_tasks'],
    ['no list', {}, 'migration_tasks'],
    ['a string instead of a list', { migration_tasks: 'abc' }, 'migration_tasks'],
  ] as const) {
    test(`BatchStopMigrationTasks refuses ${what} (DCS.4800 ${field})`, async () => {
      assertInvalidField(
        await api().post(`/v2/${freshProject()}/migration-task/batch-stop`).send(body),
        field,
      );
    });
  }
});

describe('ShowMigrationTaskStats', () => {
  test('ShowMigrationTaskStats: counters are strings, is_migrating a boolean, after ctx.stats()', async () => {
    const p = freshProject();
    const id = await createBackupImport(api(), p);
    const run = await backup.runOf(id);
    const before = await api().get(`/v2/${p}/migration-task/${id}/stats`);
    assert.equal(before.status, 200, before.text);
    assert.deepEqual(before.body, {
      full_migration_progress: '0',
      offset: '0',
      source_dbsize: '0',
      target_dbsize: '0',
      target_input_kbps: '0',
      target_ops: '0',
      is_migrating: true,
    });
    run.ctx.stats({ fullMigrationProgress: '42.5', sourceDbsize: '531221', targetDbsize: '1000' });
    run.ctx.stats({ targetInputKbps: '2.79', targetOps: '11', offset: '100' });
    const res = await api().get(`/v2/${p}/migration-task/${id}/stats`);
    assert.deepEqual(res.body, {
      full_migration_progress: '42.5',
      offset: '100',
      source_dbsize: '531221',
      target_dbsize: '1000',
      target_input_kbps: '2.79',
      target_ops: '11',
      is_migrating: true,
    });
    run.ctx.stats({ fullMigrationProgress: '100', targetDbsize: '531221' });
    run.succeed();
    await waitForStatus(api(), p, id, 'SUCCESS');
    const end = await api().get(`/v2/${p}/migration-task/${id}/stats`);
    assert.equal(end.body.full_migration_progress, '100');
    assert.equal(end.body.target_dbsize, '531221');
    assert.equal(end.body.is_migrating, false);
  });

  test('ShowMigrationTaskStats: an unknown task is DCS.4133', async () => {
    assertDcsError(
      await api().get(`/v2/${freshProject()}/migration-task/${UNKNOWN_ID}/stats`),
      400,
      'DCS.4133',
      NOT_FOUND_MSG,
    );
  });
});

describe('ListMigrationTaskLogs', () => {
  async function taskWithLogs(p: string) {
    const id = await createBackupImport(api(), p);
    const run = await backup.runOf(id);
    await run.ctx.log('INFO', 'FILE_STARTED', 'Importing appendonly.aof.', ['appendonly.aof']);
    await run.ctx.log('ERROR', 'TARGET_KEY_BUSY', 'Target key name is busy: key=user:1042', ['user:1042']);
    await run.ctx.log('WARN', 'SLOW_TARGET', 'Target is slow.');
    return { id, run };
  }

  test('ListMigrationTaskLogs: entries with level, code, keyword; log_num is the total', async () => {
    const p = freshProject();
    const { id, run } = await taskWithLogs(p);
    const res = await api().get(`/v2/${p}/migration-task/${id}/logs?limit=100`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.log_num, 4);
    for (const l of res.body.migration_logs)
      assert.match(l.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const byCode = Object.fromEntries(
      res.body.migration_logs.map((l: Record<string, unknown>) => [l.log_code, { ...l, created_at: 'T' }]),
    );
    assert.deepEqual(byCode.TASK_CREATED, {
      created_at: 'T',
      log_level: 'INFO',
      log_code: 'TASK_CREATED',
      message: 'Backup import task created: 1 file(s) from bucket obs-bucket.',
      keyword: [],
    });
    assert.deepEqual(byCode.TARGET_KEY_BUSY, {
      created_at: 'T',
      log_level: 'ERROR',
      log_code: 'TARGET_KEY_BUSY',
      message: 'Target key name is busy: key=user:1042',
      keyword: ['user:1042'],
    });
    // DCS knows INFO and ERROR only: a warning is an INFO entry whose code says WARN.
    assert.deepEqual(byCode.WARN_SLOW_TARGET, {
      created_at: 'T',
      log_level: 'INFO',
      log_code: 'WARN_SLOW_TARGET',
      message: 'Target is slow.',
      keyword: [],
    });
    assert.deepEqual(byCode.FILE_STARTED.keyword, ['appendonly.aof']);
    run.succeed();
  });

  test('ListMigrationTaskLogs: log_level filters, offset/limit page, default limit 10', async () => {
    const p = freshProject();
    const { id, run } = await taskWithLogs(p);
    for (let i = 0; i < 10; i++) await run.ctx.log('INFO', 'TICK', `tick ${i}`);
    const errors = await api().get(`/v2/${p}/migration-task/${id}/logs?log_level=ERROR`);
    assert.equal(errors.body.log_num, 1);
    assert.deepEqual(
      errors.body.migration_logs.map((l: { log_code: string }) => l.log_code),
      ['TARGET_KEY_BUSY'],
    );
    const info = await api().get(`/v2/${p}/migration-task/${id}/logs?log_level=INFO&limit=100`);
    assert.equal(info.body.log_num, 13);
    assert.ok(info.body.migration_logs.every((l: { log_level: string }) => l.log_level === 'INFO'));
    const dflt = await api().get(`/v2/${p}/migration-task/${id}/logs`);
    assert.equal(dflt.body.log_num, 14);
    assert.equal(dflt.body.migration_logs.length, 10);
    const all = (await api().get(`/v2/${p}/migration-task/${id}/logs?limit=100`)).body.migration_logs;
    const page = await api().get(`/v2/${p}/migration-task/${id}/logs?offset=2&limit=3`);
    assert.equal(page.body.log_num, 14);
    assert.deepEqual(page.body.migration_logs, all.slice(2, 5));
    const none = await api().get(`/v2/${p}/migration-task/${id}/logs?log_level=DEBUG`);
    assert.deepEqual(none.body, { log_num: 0, migration_logs: [] });
    run.succeed();
  });

  test('ListMigrationTaskLogs: newest first', async () => {
    const p = freshProject();
    const { id, run } = await taskWithLogs(p);
    const res = await api().get(`/v2/${p}/migration-task/${id}/logs?limit=100`);
    assert.deepEqual(
      res.body.migration_logs.map((l: { log_code: string }) => l.log_code),
      ['WARN_SLOW_TARGET', 'TARGET_KEY_BUSY', 'FILE_STARTED', 'TASK_CREATED'],
    );
    run.succeed();
  });

  test('ListMigrationTaskLogs: log_level is compared exactly ("info" matches nothing)', async () => {
    const p = freshProject();
    const { id, run } = await taskWithLogs(p);
    const res = await api().get(`/v2/${p}/migration-task/${id}/logs?log_level=info`);
    assert.deepEqual(res.body, { log_num: 0, migration_logs: [] });
    run.succeed();
  });

  test('ListMigrationTaskLogs: an unknown task is DCS.4133', async () => {
    assertDcsError(
      await api().get(`/v2/${freshProject()}/migration-task/${UNKNOWN_ID}/logs`),
      400,
      'DCS.4133',
      NOT_FOUND_MSG,
    );
  });

  for (const [q, field] of [
    ['limit=0', 'limit'],
    ['offset=x', 'offset'],
    ['level=INFO', 'level'],
  ]) {
    test(`ListMigrationTaskLogs refuses ?${q} (DCS.4800 ${field})`, async () => {
      const p = freshProject();
      const id = await createOnline(api(), p, null);
      assertInvalidField(await api().get(`/v2/${p}/migration-task/${id}/logs?${q}`), field);
    });
  }
});
