/**
 * Online-migration resource, jobs and IP switching (src/api/routes/online-migration.ts, jobs.ts and the
 * exchange/rollback routes) against the real service with controlled executors: create → job → configure →
 * incremental → exchange → rollback, batch restart, and each error path. Each test uses its own project.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ControlledExecutor, controlledExecutors } from '../helpers/executors.ts';
import { startTestService, type TestService, waitForStatus } from '../helpers/service.ts';
import {
  assertDcsError,
  assertInvalidField,
  BACKUP_TASK_ID,
  BUG_EXCHANGE_NEEDS_KNOWN_INSTANCES,
  createBackupImport,
  createOnline,
  freshProject,
  KNOWN_INSTANCES,
  listed,
  NOT_FOUND_MSG,
  onlineConfigBody,
  onlineCreateBody,
  SOURCE_PASSWORD,
  TARGET_PASSWORD,
} from './support.ts';

let svc: TestService;
let online: ControlledExecutor;
let backup: ControlledExecutor;
const api = () => svc.agent;
const UNKNOWN_ID = 'ffffffffffffffffffffffffffffffff';
/** Source and target known by id (DCS_INSTANCES_FILE), as the IP exchange requires. */
const BY_ID = {
  source_instance: { id: 'src-inst-1' },
  target_instance: { id: 'tgt-inst-1', password: TARGET_PASSWORD },
};

before(async () => {
  const ex = controlledExecutors();
  online = ex.online;
  backup = ex.backup_import;
  svc = await startTestService({ executors: ex, instances: KNOWN_INSTANCES });
});
after(() => svc.dispose());

/** An incremental online task known by ids, in INCRMIGEATING. */
async function incrementalTask(p: string) {
  const id = await createOnline(api(), p, BY_ID);
  const run = await online.runOf(id);
  await run.ctx.phase('incremental');
  await waitForStatus(api(), p, id, 'INCRMIGEATING');
  return { id, run };
}

describe('CreateOnlineMigrationTask', () => {
  test('CreateOnlineMigrationTask: answers {instance_id, job_id}; the job is SUCCESS and the task RUNNING', async () => {
    const p = freshProject();
    const before = Date.now();
    const res = await api().post(`/v2/${p}/migration/instance`).send(onlineCreateBody());
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(Object.keys(res.body).sort(), ['instance_id', 'job_id']);
    assert.match(res.body.instance_id, BACKUP_TASK_ID);
    assert.match(res.body.job_id, BACKUP_TASK_ID);
    assert.notEqual(res.body.instance_id, res.body.job_id);

    const job = await api().get(`/v2/${p}/jobs/${res.body.job_id}`);
    assert.equal(job.status, 200, job.text);
    assert.deepEqual(Object.keys(job.body).sort(), [
      'begin_time',
      'end_time',
      'fail_reason',
      'job_id',
      'status',
    ]);
    assert.equal(job.body.job_id, res.body.job_id);
    assert.equal(job.body.status, 'SUCCESS');
    assert.equal(job.body.fail_reason, '');
    assert.match(job.body.begin_time, /^\d+$/);
    assert.match(job.body.end_time, /^\d+$/);
    assert.ok(Number(job.body.begin_time) >= before - 1000 && Number(job.body.begin_time) <= Date.now());

    const item = await listed(api(), p, res.body.instance_id);
    assert.equal(item?.status, 'RUNNING');
    assert.equal(item?.migration_type, 'online_migration');
    assert.equal(item?.migration_method, undefined);
    assert.equal(online.runs.filter((r) => r.task.id === res.body.instance_id).length, 0, 'nothing runs yet');
  });

  test('CreateOnlineMigrationTask: ShowMigrationTask says RUNNING and echoes vpc/subnet/security group', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p, null);
    const res = await api().get(`/v2/${p}/migration-task/${id}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'RUNNING');
    assert.equal(res.body.tenant_vpc_id, 'vpc-1');
    assert.equal(res.body.tenant_subnet_id, 'subnet-1');
    assert.equal(res.body.tenant_security_group_id, 'sg-1');
  });

  const refused: [string, Record<string, unknown>, string][] = [
    ['a name too short', { name: 'ab' }, 'name'],
    ['a name with a dot', { name: 'task.one' }, 'name'],
    ['no vpc_id', { vpc_id: undefined }, 'vpc_id'],
    ['no subnet_id', { subnet_id: undefined }, 'subnet_id'],
    ['no security_group_id', { security_group_id: undefined }, 'security_group_id'],
    ['a numeric vpc_id', { vpc_id: 7 }, 'vpc_id'],
    ['description too long', { description: 'd'.repeat(1025) }, 'description'],
    ['an unknown field', { flavor: 'large' }, 'flavor'],
  ];
  for (const [what, over, field] of refused) {
    test(`CreateOnlineMigrationTask refuses ${what} (DCS.4800 ${field})`, async () => {
      const p = freshProject();
      assertInvalidField(await api().post(`/v2/${p}/migration/instance`).send(onlineCreateBody(over)), field);
      assert.equal((await api().get(`/v2/${p}/migration-tasks`)).body.count, 0);
    });
  }
});

describe('ShowJobInfo', () => {
  test('ShowJobInfo: an unknown job is DCS.4133', async () => {
    assertDcsError(
      await api().get(`/v2/${freshProject()}/jobs/${UNKNOWN_ID}`),
      400,
      'DCS.4133',
      NOT_FOUND_MSG,
    );
  });

  test("ShowJobInfo: another project's job is DCS.4133", async () => {
    const p = freshProject();
    const res = await api().post(`/v2/${p}/migration/instance`).send(onlineCreateBody());
    assertDcsError(
      await api().get(`/v2/${freshProject()}/jobs/${res.body.job_id}`),
      400,
      'DCS.4133',
      NOT_FOUND_MSG,
    );
  });

  test('ShowJobInfo: the job of a deleted task is DCS.4133', async () => {
    const p = freshProject();
    const res = await api().post(`/v2/${p}/migration/instance`).send(onlineCreateBody());
    const del = await api()
      .delete(`/v2/${p}/migration-tasks/delete`)
      .send({ task_id_list: [res.body.instance_id] });
    assert.equal(del.status, 200, del.text);
    assertDcsError(await api().get(`/v2/${p}/jobs/${res.body.job_id}`), 400, 'DCS.4133', NOT_FOUND_MSG);
  });
});

describe('SetOnlineMigrationTask', () => {
  test('SetOnlineMigrationTask: configures and starts the task (FULLMIGRATING), executor gets the endpoints', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p, null);
    const res = await api().post(`/v2/${p}/migration/${id}/task`).send(onlineConfigBody());
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { id, name: 'online-task', status: 'FULLMIGRATING' });
    const run = await online.runOf(id);
    assert.deepEqual(run.task, {
      id,
      projectId: p,
      kind: 'online',
      migrationMethod: 'incremental_migration',
      resumeMode: 'auto',
      bandwidthLimitMb: 123,
      backupFiles: null,
      source: { id: '', name: '', addrs: '10.0.0.4:6379', password: SOURCE_PASSWORD },
      target: { id: '', name: '', addrs: '10.0.0.5:6379', password: TARGET_PASSWORD },
      checkpoint: null,
      resumed: false,
    });
    assert.equal((await listed(api(), p, id))?.status, 'FULLMIGRATING');
    assert.equal((await api().get(`/v2/${p}/migration-task/${id}/stats`)).body.is_migrating, true);
    await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
  });

  test('SetOnlineMigrationTask: instances given by id resolve from the instances file (password included)', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p, BY_ID);
    const run = await online.runOf(id);
    assert.deepEqual(run.task.source, {
      id: 'src-inst-1',
      name: 'cache-old',
      addrs: '10.0.1.4:6379',
      password: SOURCE_PASSWORD,
    });
    assert.deepEqual(run.task.target, {
      id: 'tgt-inst-1',
      name: 'cache-new',
      addrs: '10.0.1.5:6379',
      password: TARGET_PASSWORD,
    });
    const item = await listed(api(), p, id);
    assert.equal(item?.source_instance_id, 'src-inst-1');
    assert.equal(item?.target_instance_name, 'cache-new');
    assert.equal(item?.data_source, '10.0.1.4:6379');
    await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
  });

  test('SetOnlineMigrationTask: ctx.phase("incremental") → INCRMIGEATING, ctx.phase("resync") → FULLMIGRATING', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p);
    const run = await online.runOf(id);
    await run.ctx.phase('incremental');
    const show = await api().get(`/v2/${p}/migration-task/${id}`);
    assert.equal(show.body.status, 'INCRMIGEATING');
    await run.ctx.phase('resync');
    assert.equal((await listed(api(), p, id))?.status, 'FULLMIGRATING');
    const logs = await api().get(`/v2/${p}/migration-task/${id}/logs?limit=100`);
    const codes = logs.body.migration_logs.map((l: { log_code: string }) => l.log_code);
    assert.ok(codes.includes('INCR_STARTED') && codes.includes('FULL_RESYNC'), codes.join());
    await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
  });

  test('SetOnlineMigrationTask: a full migration ends SUCCESS when the executor returns', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p, {
      migration_method: 'full_amount_migration',
      resume_mode: 'manual',
    });
    (await online.runOf(id)).succeed();
    const t = await waitForStatus(api(), p, id, 'SUCCESS');
    assert.equal(t.resume_mode, 'manual');
    assert.equal((await api().get(`/v2/${p}/migration-task/${id}/stats`)).body.is_migrating, false);
  });

  const bandwidths: [string, unknown, number | null | 'refused'][] = [
    ['the number 123 (vendor)', 123, 123],
    ['the string "123" (SDK)', '123', 123],
    ['1', 1, 1],
    ['10240', '10240', 10240],
    ['absent (no limit)', undefined, null],
    // The spec allows neither (the Go SDK omits an unset bandwidth: pointer with omitempty).
    ['null', null, 'refused'],
    ['""', '', 'refused'],
    ['0', 0, 'refused'],
    ['"0"', '0', 'refused'],
    ['10241', 10241, 'refused'],
    ['"abc"', 'abc', 'refused'],
    ['-1', -1, 'refused'],
    ['1.5', 1.5, 'refused'],
    ['true', true, 'refused'],
  ];
  for (const [what, value, expect] of bandwidths) {
    test(`SetOnlineMigrationTask bandwidth_limit_mb ${what}: ${expect === 'refused' ? 'DCS.4800' : `accepted as ${expect}`}`, async () => {
      const p = freshProject();
      const id = await createOnline(api(), p, null);
      const res = await api()
        .post(`/v2/${p}/migration/${id}/task`)
        .send(onlineConfigBody({ bandwidth_limit_mb: value }));
      if (expect === 'refused') {
        assertInvalidField(res, 'bandwidth_limit_mb');
        assert.equal((await listed(api(), p, id))?.status, 'RUNNING', 'still pending configuration');
        return;
      }
      assert.equal(res.status, 200, res.text);
      const run = await online.runOf(id);
      assert.equal(run.task.bandwidthLimitMb, expect);
      await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
    });
  }

  const refused: [string, Record<string, unknown>, string | 'DCS.4061'][] = [
    ['source_instance null (Go SDK)', { source_instance: null }, 'source_instance'],
    ['no target_instance', { target_instance: undefined }, 'target_instance'],
    ['a source with neither id nor addrs', { source_instance: { id: '', addrs: '' } }, 'source_instance'],
    ['an unknown source id', { source_instance: { id: 'nope' } }, 'DCS.4061'],
    ['an unknown target id', { target_instance: { id: 'nope' } }, 'DCS.4061'],
    ['source addrs not host:port', { source_instance: { addrs: '10.0.0.4' } }, 'source_instance.addrs'],
    ['the target being the source', { target_instance: { addrs: '10.0.0.4:6379' } }, 'target_instance.addrs'],
    ['resume_mode "never"', { resume_mode: 'never' }, 'resume_mode'],
    ['no migration_method', { migration_method: undefined }, 'migration_method'],
    ['migration_method "incremental"', { migration_method: 'incremental' }, 'migration_method'],
    [
      'a source with an unknown field',
      { source_instance: { addrs: '10.0.0.4:6379', user: 'x' } },
      'source_instance.user',
    ],
  ];
  for (const [what, over, field] of refused) {
    test(`SetOnlineMigrationTask refuses ${what} (${field === 'DCS.4061' ? 'DCS.4061' : `DCS.4800 ${field}`})`, async () => {
      const p = freshProject();
      const id = await createOnline(api(), p, null);
      const res = await api().post(`/v2/${p}/migration/${id}/task`).send(onlineConfigBody(over));
      if (field === 'DCS.4061') assertDcsError(res, 400, 'DCS.4061', /^Invalid instance ID/);
      else assertInvalidField(res, field);
      assert.equal((await listed(api(), p, id))?.status, 'RUNNING');
    });
  }

  test('SetOnlineMigrationTask: a task not in RUNNING (configured already) is DCS.4957', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p);
    assertDcsError(
      await api().post(`/v2/${p}/migration/${id}/task`).send(onlineConfigBody()),
      400,
      'DCS.4957',
    );
    await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
  });

  test('SetOnlineMigrationTask: a backup-import task is DCS.4957', async () => {
    const p = freshProject();
    const id = await createBackupImport(api(), p);
    assertDcsError(
      await api().post(`/v2/${p}/migration/${id}/task`).send(onlineConfigBody()),
      400,
      'DCS.4957',
    );
    (await backup.runOf(id)).succeed();
  });

  test('SetOnlineMigrationTask: an unknown task is DCS.4133', async () => {
    const res = await api()
      .post(`/v2/${freshProject()}/migration/${UNKNOWN_ID}/task`)
      .send(onlineConfigBody());
    assertDcsError(res, 400, 'DCS.4133', NOT_FOUND_MSG);
  });
});

describe('BatchRestartOnlineMigrationTasks', () => {
  test('BatchRestartOnlineMigrationTasks: stopped and failed tasks restart (FULLMIGRATING, a new run)', async () => {
    const p = freshProject();
    const stopped = await createOnline(api(), p);
    await api().post(`/v2/${p}/migration-task/${stopped}/sync-stop`);
    const failed = await createOnline(api(), p);
    (await online.runOf(failed)).fail(new Error('boom'));
    await waitForStatus(api(), p, failed, 'FAILED');

    const res = await api()
      .post(`/v2/${p}/migration-tasks/batch-restart`)
      .send({ migration_tasks: [stopped, failed] });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, {
      migration_tasks: [
        { task_id: stopped, result: 'success' },
        { task_id: failed, result: 'success' },
      ],
    });
    for (const id of [stopped, failed]) {
      const run = await online.runOf(id, { nth: 1 });
      assert.equal(run.task.resumed, false);
      const item = await listed(api(), p, id);
      assert.equal(item?.status, 'FULLMIGRATING');
      assert.equal(item?.error_message, null, 'the previous error is cleared');
      await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
    }
  });

  test('BatchRestartOnlineMigrationTasks: per-item DCS.4855 unknown, DCS.4957 running or a backup import', async () => {
    const p = freshProject();
    const running = await createOnline(api(), p);
    const imp = await createBackupImport(api(), p);
    const pending = await createOnline(api(), p, null);
    const res = await api()
      .post(`/v2/${p}/migration-tasks/batch-restart`)
      .send({ migration_tasks: [UNKNOWN_ID, running, imp, pending] });
    assert.equal(res.status, 200, res.text);
    const [unknown, run, backupItem, pend] = res.body.migration_tasks;
    assert.deepEqual(unknown, {
      task_id: UNKNOWN_ID,
      result: 'failed',
      error_code: 'DCS.4855',
      error_msg: 'invalid migration task id in the request.',
    });
    for (const [item, id] of [
      [run, running],
      [backupItem, imp],
      [pend, pending],
    ] as const) {
      assert.equal(item.task_id, id);
      assert.equal(item.result, 'failed');
      assert.equal(item.error_code, 'DCS.4957');
      assert.equal(typeof item.error_msg, 'string');
    }
    assert.equal((await listed(api(), p, pending))?.status, 'RUNNING');
    await api().post(`/v2/${p}/migration-task/${running}/sync-stop`);
    (await backup.runOf(imp)).succeed();
  });

  for (const [what, body, field] of [
    ['an empty list', { migration_tasks: [] }, 'migration_tasks'],
    ['no list', { tasks: ['a'] }, 'migration_tasks'],
  ] as const) {
    test(`BatchRestartOnlineMigrationTasks refuses ${what} (DCS.4800 ${field})`, async () => {
      assertInvalidField(
        await api().post(`/v2/${freshProject()}/migration-tasks/batch-restart`).send(body),
        field,
      );
    });
  }
});

describe('ExchangeInstanceIp', () => {
  test('ExchangeInstanceIp: in INCRMIGEATING answers 204, stops the sync; task_status EXCHANGE_SUCCESS, SUCCESS', async () => {
    const p = freshProject();
    const { id, run } = await incrementalTask(p);
    const res = await api()
      .post(`/v2/${p}/migration-task/${id}/exchange-ip`)
      .send({ exchanged_ip: ['10.0.1.4'], is_exchange_domain: false });
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');
    assert.ok(run.ctx.signal.aborted && run.settled, 'the incremental sync was drained and stopped');
    const show = await api().get(`/v2/${p}/migration-task/${id}`);
    assert.equal(show.body.status, 'SUCCESS');
    assert.equal(show.body.task_status, 'EXCHANGE_SUCCESS');
    const logs = await api().get(`/v2/${p}/migration-task/${id}/logs?limit=100`);
    const entry = logs.body.migration_logs.find((l: { log_code: string }) => l.log_code === 'IP_EXCHANGED');
    assert.match(entry.message, /10\.0\.1\.4/);
    assert.equal((await api().get(`/v2/${p}/migration-task/${id}/stats`)).body.is_migrating, false);
  });

  test('ExchangeInstanceIp: the Terraform body {} and the Go SDK body (exchanged_ip null) are accepted', async () => {
    for (const body of [{}, { exchanged_ip: null, is_exchange_domain: false }]) {
      const p = freshProject();
      const { id } = await incrementalTask(p);
      const res = await api().post(`/v2/${p}/migration-task/${id}/exchange-ip`).send(body);
      assert.equal(res.status, 204, `${JSON.stringify(body)}: ${res.text}`);
    }
  });

  test('ExchangeInstanceIp: FULLMIGRATING is DCS.4957 and the task keeps running', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p, BY_ID);
    const run = await online.runOf(id);
    assertDcsError(await api().post(`/v2/${p}/migration-task/${id}/exchange-ip`).send({}), 400, 'DCS.4957');
    assert.equal(run.ctx.signal.aborted, false);
    assert.equal((await listed(api(), p, id))?.status, 'FULLMIGRATING');
    await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
  });

  test('ExchangeInstanceIp: a full (not incremental) migration is DCS.4957', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p, { ...BY_ID, migration_method: 'full_amount_migration' });
    (await online.runOf(id)).succeed();
    await waitForStatus(api(), p, id, 'SUCCESS');
    assertDcsError(await api().post(`/v2/${p}/migration-task/${id}/exchange-ip`).send({}), 400, 'DCS.4957');
  });

  test('ExchangeInstanceIp: a second exchange is DCS.4957', async () => {
    const p = freshProject();
    const { id } = await incrementalTask(p);
    assert.equal((await api().post(`/v2/${p}/migration-task/${id}/exchange-ip`).send({})).status, 204);
    assertDcsError(await api().post(`/v2/${p}/migration-task/${id}/exchange-ip`).send({}), 400, 'DCS.4957');
  });

  test('ExchangeInstanceIp: source/target given by addrs only is DCS.4957', {
    skip: BUG_EXCHANGE_NEEDS_KNOWN_INSTANCES,
  }, async () => {
    const p = freshProject();
    const id = await createOnline(api(), p);
    await (await online.runOf(id)).ctx.phase('incremental');
    assertDcsError(await api().post(`/v2/${p}/migration-task/${id}/exchange-ip`).send({}), 400, 'DCS.4957');
    await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
  });

  test('ExchangeInstanceIp: an unknown task is DCS.4133', async () => {
    const res = await api().post(`/v2/${freshProject()}/migration-task/${UNKNOWN_ID}/exchange-ip`).send({});
    assertDcsError(res, 400, 'DCS.4133', NOT_FOUND_MSG);
  });

  for (const [what, body, field] of [
    ['is_exchange_domain "yes"', { is_exchange_domain: 'yes' }, 'is_exchange_domain'],
    ['is_exchange_domain "true" (no coercion)', { is_exchange_domain: 'true' }, 'is_exchange_domain'],
    ['exchanged_ip a string', { exchanged_ip: '10.0.0.1' }, 'exchanged_ip'],
    ['an unknown field', { ip: ['10.0.0.1'] }, 'ip'],
  ] as const) {
    test(`ExchangeInstanceIp refuses ${what} (DCS.4800 ${field})`, async () => {
      const p = freshProject();
      const { id } = await incrementalTask(p);
      assertInvalidField(await api().post(`/v2/${p}/migration-task/${id}/exchange-ip`).send(body), field);
      assert.equal((await listed(api(), p, id))?.status, 'INCRMIGEATING');
      await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
    });
  }
});

describe('RollbackExchangeInstanceIp', () => {
  test('RollbackExchangeInstanceIp: after an exchange answers 204, task_status ROLLBACK_SUCCESS', async () => {
    const p = freshProject();
    const { id } = await incrementalTask(p);
    assert.equal((await api().post(`/v2/${p}/migration-task/${id}/exchange-ip`).send({})).status, 204);
    const res = await api().post(`/v2/${p}/migration-task/${id}/rollback-ip`);
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');
    const show = await api().get(`/v2/${p}/migration-task/${id}`);
    assert.equal(show.body.task_status, 'ROLLBACK_SUCCESS');
    assert.equal(show.body.status, 'SUCCESS');
    const logs = await api().get(`/v2/${p}/migration-task/${id}/logs?limit=100`);
    assert.ok(logs.body.migration_logs.some((l: { log_code: string }) => l.log_code === 'IP_ROLLED_BACK'));
  });

  test('RollbackExchangeInstanceIp: before any exchange is DCS.4957', async () => {
    const p = freshProject();
    const { id } = await incrementalTask(p);
    assertDcsError(await api().post(`/v2/${p}/migration-task/${id}/rollback-ip`), 400, 'DCS.4957');
    await api().post(`/v2/${p}/migration-task/${id}/sync-stop`);
  });

  test('RollbackExchangeInstanceIp: a second rollback is DCS.4957', async () => {
    const p = freshProject();
    const { id } = await incrementalTask(p);
    await api().post(`/v2/${p}/migration-task/${id}/exchange-ip`).send({});
    assert.equal((await api().post(`/v2/${p}/migration-task/${id}/rollback-ip`)).status, 204);
    assertDcsError(await api().post(`/v2/${p}/migration-task/${id}/rollback-ip`), 400, 'DCS.4957');
  });

  test('RollbackExchangeInstanceIp: an unknown task is DCS.4133', async () => {
    const res = await api().post(`/v2/${freshProject()}/migration-task/${UNKNOWN_ID}/rollback-ip`);
    assertDcsError(res, 400, 'DCS.4133', NOT_FOUND_MSG);
  });
});
