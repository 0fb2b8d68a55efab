/**
 * The contract itself (STYLE habit 13): `openapi/dcs-migration.yaml` loads in express-openapi-validator, accepts the
 * bodies Huawei's SDKs and Terraform send, rejects what it must, and every example in it validates against its own
 * schemas (request examples as requests, response examples as responses). Handlers here are stubs that echo the
 * spec's examples; the real routes have their own tests.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import request from 'supertest';
import { parse } from 'yaml';

const SPEC_PATH = fileURLToPath(new URL('../../openapi/dcs-migration.yaml', import.meta.url));
const PROJECT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const TASK = '8aa6999e71cb638b0171f485f5266ef0';
const TOKEN = { 'X-Auth-Token': 'test-token' };

type Json = Record<string, unknown>;
interface MediaType {
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
interface Operation {
  operationId: string;
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, MediaType>; $ref?: string }>;
}
const METHODS = ['get', 'put', 'post', 'delete'] as const;

const spec = parse(readFileSync(SPEC_PATH, 'utf8')) as { paths: Record<string, Record<string, Operation>> };

interface Op {
  method: (typeof METHODS)[number];
  path: string;
  op: Operation;
}
const ops: Op[] = [];
for (const [path, item] of Object.entries(spec.paths)) {
  for (const method of METHODS) if (item[method]) ops.push({ method, path, op: item[method] });
}

function examplesOf(media: MediaType | undefined): unknown[] {
  if (!media) return [];
  if (media.example !== undefined) return [media.example];
  return Object.values(media.examples ?? {}).map((e) => e.value);
}

function successOf(op: Operation): { status: number; body: unknown } {
  const code = Object.keys(op.responses).find((c) => c.startsWith('2'))!;
  return { status: Number(code), body: examplesOf(op.responses[code].content?.['application/json'])[0] };
}

/** Express path for a spec path, and a concrete URL for it. */
function concrete(path: string): string {
  return path.replace('{project_id}', PROJECT).replace('{task_id}', TASK).replace('{job_id}', TASK);
}

/**
 * An app whose handler for each operation answers `reply[operationId]` (or the success example) and records the
 * request body it received.
 */
function makeApp(reply: Record<string, { status: number; body: unknown }> = {}) {
  const seen: Record<string, unknown> = {};
  const app = express();
  app.use(express.json());
  app.use(
    OpenApiValidator.middleware({ apiSpec: SPEC_PATH, validateRequests: true, validateResponses: true }),
  );
  for (const { method, path, op } of ops) {
    const expressPath = path.replace(/\{(\w+)\}/g, ':$1');
    app[method](expressPath, (req: Request, res: Response) => {
      seen[op.operationId] = req.body;
      const { status, body } = reply[op.operationId] ?? successOf(op);
      if (body === undefined) res.status(status).end();
      else res.status(status).json(body);
    });
  }
  app.use((err: { status?: number; message: string }, _req: Request, res: Response, _next: NextFunction) => {
    res.status(err.status ?? 500).json({ error_code: 'TEST', error_msg: err.message });
  });
  return { app, seen };
}

describe('openapi/dcs-migration.yaml', () => {
  test('declares every DCS data-migration operation with its path, method and success status', () => {
    const got = ops.map(
      ({ method, path, op }) => `${op.operationId} ${method.toUpperCase()} ${path} ${successOf(op).status}`,
    );
    assert.deepEqual(got.sort(), [
      'BatchRestartOnlineMigrationTasks POST /v2/{project_id}/migration-tasks/batch-restart 200',
      'BatchStopMigrationTasks POST /v2/{project_id}/migration-task/batch-stop 200',
      'CreateMigrationTask POST /v2/{project_id}/migration-task 200',
      'CreateOnlineMigrationTask POST /v2/{project_id}/migration/instance 200',
      'DeleteMigrationTask DELETE /v2/{project_id}/migration-tasks/delete 200',
      'ExchangeInstanceIp POST /v2/{project_id}/migration-task/{task_id}/exchange-ip 204',
      'Healthz GET /healthz 200',
      'ListMigrationTask GET /v2/{project_id}/migration-tasks 200',
      'ListMigrationTaskLogs GET /v2/{project_id}/migration-task/{task_id}/logs 200',
      'RollbackExchangeInstanceIp POST /v2/{project_id}/migration-task/{task_id}/rollback-ip 204',
      'SetOnlineMigrationTask POST /v2/{project_id}/migration/{task_id}/task 200',
      'ShowJobInfo GET /v2/{project_id}/jobs/{job_id} 200',
      'ShowMigrationTask GET /v2/{project_id}/migration-task/{task_id} 200',
      'ShowMigrationTaskStats GET /v2/{project_id}/migration-task/{task_id}/stats 200',
      'StopMigrationTask POST /v2/{project_id}/migration-task/{task_id}/stop 200',
      'StopMigrationTaskSync POST /v2/{project_id}/migration-task/{task_id}/sync-stop 204',
      'UpdateMigrationTask PUT /v2/{project_id}/migration-task/{task_id} 200',
    ]);
    for (const { op } of ops) assert.ok(op.responses.default, `${op.operationId} has a default response`);
  });

  describe('every example validates against its own schema', () => {
    const { app } = makeApp();
    for (const { method, path, op } of ops) {
      const bodies = op.requestBody ? examplesOf(op.requestBody.content['application/json']) : [undefined];
      bodies.forEach((body, i) => {
        test(`${op.operationId} request example ${i} → success example`, async () => {
          const headers = op.operationId === 'Healthz' ? {} : TOKEN;
          let req = request(app)[method](concrete(path)).set(headers);
          if (body !== undefined) req = req.send(body as Json);
          const res = await req;
          assert.equal(res.status, successOf(op).status, JSON.stringify(res.body));
        });
      });
    }
    for (const { method, path, op } of ops) {
      for (const [code, resp] of Object.entries(op.responses)) {
        if (code.startsWith('2') || !resp.content) continue;
        for (const [i, body] of examplesOf(resp.content['application/json']).entries()) {
          test(`${op.operationId} ${code} example ${i} is a valid response`, async () => {
            const status = code === 'default' ? 404 : Number(code);
            const { app: a } = makeApp({ [op.operationId]: { status, body } });
            const res = await request(a)
              [method](concrete(path))
              .set(TOKEN)
              .send(
                (op.requestBody
                  ? examplesOf(op.requestBody.content['application/json'])[0]
                  : undefined) as Json,
              );
            assert.equal(res.status, status, JSON.stringify(res.body));
          });
        }
      }
    }
  });

  describe('requests', () => {
    const { app, seen } = makeApp();
    const create = `/v2/${PROJECT}/migration-task`;
    const set = `/v2/${PROJECT}/migration/${TASK}/task`;
    const valid = {
      task_name: 'import-1',
      migration_type: 'backupfile_import',
      migration_method: 'full_amount_migration',
      backup_files: { file_source: 'self_build_obs', bucket_name: 'b', files: [{ file_name: 'dump.rdb' }] },
      target_instance: { id: 'abc', password: 'pw' },
    };

    const cases: [string, string, Json, number][] = [
      ['CreateMigrationTask: valid body', create, valid, 200],
      ['CreateMigrationTask: unknown field', create, { ...valid, foo: 1 }, 400],
      [
        'CreateMigrationTask: unknown nested field',
        create,
        { ...valid, target_instance: { id: 'a', x: 1 } },
        400,
      ],
      ['CreateMigrationTask: wrong enum', create, { ...valid, migration_method: 'full' }, 400],
      ['CreateMigrationTask: missing task_name', create, { ...valid, task_name: undefined }, 400],
      ['CreateMigrationTask: task_name too short', create, { ...valid, task_name: 'abc' }, 400],
      ['CreateMigrationTask: task_name starts with a digit', create, { ...valid, task_name: '1abc' }, 400],
      [
        'CreateMigrationTask: size as a number',
        create,
        { ...valid, backup_files: { files: [{ file_name: 'a', size: 3 }] } },
        400,
      ],
      [
        'CreateMigrationTask: Go SDK nulls and empty strings',
        create,
        {
          ...valid,
          backup_files: { bucket_name: 'b', files: [{ file_name: 'dump.rdb' }] },
          target_instance: { id: '', addrs: '10.0.0.5:6379' },
        },
        200,
      ],
      ['CreateMigrationTask: target_instance null', create, { ...valid, target_instance: null }, 200],
      [
        'CreateMigrationTask: files null (Go SDK, backup record)',
        create,
        { ...valid, backup_files: { file_source: 'backup_record', backup_id: 'x', files: null } },
        200,
      ],
      [
        'CreateMigrationTask: files absent (Terraform, backup record)',
        create,
        { ...valid, backup_files: { file_source: 'backup_record', backup_id: 'x' } },
        200,
      ],
      [
        'CreateMigrationTask: backup_record is response-only',
        create,
        { ...valid, backup_files: { files: [], backup_record: { backup_id: 'x' } } },
        400,
      ],
      [
        'CreateMigrationTask: response fields of the shared instance struct sent back',
        create,
        {
          ...valid,
          source_instance: {
            addrs: '',
            task_status: 'RUNNING',
            ip: '1.2.3.4',
            port: '6379',
            name: 'n',
            proxy_multi_db: false,
            db: '0',
          },
        },
        200,
      ],
      [
        'SetOnlineMigrationTask: bandwidth as a number',
        set,
        { migration_method: 'incremental_migration', resume_mode: 'auto', bandwidth_limit_mb: 123 },
        200,
      ],
      [
        'SetOnlineMigrationTask: bandwidth as a string',
        set,
        { migration_method: 'incremental_migration', resume_mode: 'auto', bandwidth_limit_mb: '123' },
        200,
      ],
      [
        'SetOnlineMigrationTask: bandwidth not digits',
        set,
        { migration_method: 'incremental_migration', resume_mode: 'auto', bandwidth_limit_mb: '12a' },
        400,
      ],
      [
        'SetOnlineMigrationTask: bandwidth fractional',
        set,
        { migration_method: 'incremental_migration', resume_mode: 'auto', bandwidth_limit_mb: 1.5 },
        400,
      ],
      [
        'SetOnlineMigrationTask: Go SDK nulls',
        set,
        {
          migration_method: 'full_amount_migration',
          resume_mode: 'manual',
          source_instance: null,
          target_instance: null,
        },
        200,
      ],
      [
        'SetOnlineMigrationTask: resume_mode outside the SDK enum',
        set,
        { migration_method: 'full_amount_migration', resume_mode: 'never' },
        400,
      ],
    ];
    for (const [name, url, body, status] of cases) {
      test(name, async () => {
        const res = await request(app).post(url).set(TOKEN).send(body);
        assert.equal(res.status, status, JSON.stringify(res.body));
      });
    }

    test('Go SDK Content-Type application/json;charset=UTF-8 is accepted', async () => {
      const res = await request(app)
        .post(create)
        .set({ ...TOKEN, 'Content-Type': 'application/json;charset=UTF-8' })
        .send(JSON.stringify(valid));
      assert.equal(res.status, 200, JSON.stringify(res.body));
    });

    test('DeleteMigrationTask: DELETE carries a validated JSON body', async () => {
      const url = `/v2/${PROJECT}/migration-tasks/delete`;
      const ok = await request(app)
        .delete(url)
        .set(TOKEN)
        .send({ task_id_list: [TASK] });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual(seen.DeleteMigrationTask, { task_id_list: [TASK] });
      assert.equal((await request(app).delete(url).set(TOKEN).send({ task_id_list: [] })).status, 400);
      assert.equal(
        (
          await request(app)
            .delete(url)
            .set(TOKEN)
            .send({ ids: [TASK] })
        ).status,
        400,
      );
    });

    test('bodiless POSTs: no body (Terraform), JSON Content-Type without body (Go SDK), or {}', async () => {
      const stop = `/v2/${PROJECT}/migration-task/${TASK}/stop`;
      const rollback = `/v2/${PROJECT}/migration-task/${TASK}/rollback-ip`;
      assert.equal((await request(app).post(stop).set(TOKEN)).status, 200);
      assert.equal((await request(app).post(stop).set(TOKEN).send({})).status, 200);
      const sdk = await request(app)
        .post(rollback)
        .set({ ...TOKEN, 'Content-Type': 'application/json' });
      assert.equal(sdk.status, 204);
    });

    test('an operation with a required body rejects a missing one', async () => {
      // No Content-Type: the validator answers 415 (the API's error mapper turns it into 400 DCS.4004).
      assert.equal((await request(app).post(create).set(TOKEN)).status, 415);
      const typed = await request(app)
        .post(create)
        .set({ ...TOKEN, 'Content-Type': 'application/json' });
      assert.equal(typed.status, 400);
    });

    test('ExchangeInstanceIp: Terraform omits both fields', async () => {
      const res = await request(app)
        .post(`/v2/${PROJECT}/migration-task/${TASK}/exchange-ip`)
        .set(TOKEN)
        .send({});
      assert.equal(res.status, 204, JSON.stringify(res.body));
    });

    test('batch bodies need at least one task id', async () => {
      const res = await request(app)
        .post(`/v2/${PROJECT}/migration-task/batch-stop`)
        .set(TOKEN)
        .send({ migration_tasks: [] });
      assert.equal(res.status, 400);
    });

    test('query: limit defaults to 10 and is bounded; project_id is pattern-checked', async () => {
      const base = `/v2/${PROJECT}/migration-tasks`;
      assert.equal((await request(app).get(`${base}?limit=1000&offset=0`).set(TOKEN)).status, 200);
      assert.equal((await request(app).get(`${base}?limit=1001`).set(TOKEN)).status, 400);
      assert.equal((await request(app).get(`${base}?limit=0`).set(TOKEN)).status, 400);
      assert.equal((await request(app).get(`${base}?offset=-1`).set(TOKEN)).status, 400);
      assert.equal((await request(app).get('/v2/bad.project/migration-tasks').set(TOKEN)).status, 400);
    });

    test('task_id is not pattern-restricted (the handler answers DCS.4133)', async () => {
      const res = await request(app).get(`/v2/${PROJECT}/migration-task/not-a-hex-id`).set(TOKEN);
      assert.equal(res.status, 200);
    });

    test('healthz needs no token; /v2 needs X-Auth-Token', async () => {
      assert.equal((await request(app).get('/healthz')).status, 200);
      assert.equal((await request(app).get(`/v2/${PROJECT}/migration-tasks`)).status, 401);
    });
  });

  describe('responses', () => {
    const show = `/v2/${PROJECT}/migration-task/${TASK}`;
    const minimal = {
      task_id: TASK,
      task_name: 'import-1',
      status: 'SUCCESS',
      migration_type: 'backupfile_import',
      created_at: '2021-06-16T06:12:55.508Z',
    };
    const cases: [string, string, unknown, boolean][] = [
      ['minimal task', 'ShowMigrationTask', minimal, true],
      ['INCRMIGEATING (wire spelling)', 'ShowMigrationTask', { ...minimal, status: 'INCRMIGEATING' }, true],
      [
        'INCRMIGRATING (prose spelling) is drift',
        'ShowMigrationTask',
        { ...minimal, status: 'INCRMIGRATING' },
        false,
      ],
      [
        'a password is never returned',
        'ShowMigrationTask',
        { ...minimal, target_instance: { id: 'a', password: 'pw' } },
        false,
      ],
      ['an unknown field is drift', 'ShowMigrationTask', { ...minimal, job_id: 'x' }, false],
      [
        'bandwidth_limit_mb as a number is drift',
        'ShowMigrationTask',
        { ...minimal, bandwidth_limit_mb: 5 },
        false,
      ],
      [
        'backup_record repeats backup_id',
        'ShowMigrationTask',
        {
          ...minimal,
          backup_files: {
            file_source: 'backup_record',
            backup_id: 'b',
            files: [],
            backup_record: { backup_id: 'b' },
          },
        },
        true,
      ],
      ['stats counters as numbers are drift', 'ShowMigrationTaskStats', { source_dbsize: 5 }, false],
      [
        'error bodies use DCS codes',
        'ShowMigrationTask',
        { error_code: 'RDB_ERR_CRC', error_msg: 'x' },
        false,
      ],
    ];
    for (const [name, operationId, body, valid] of cases) {
      test(`${operationId}: ${name}`, async () => {
        const status = name.startsWith('error') ? 400 : 200;
        const { app } = makeApp({ [operationId]: { status, body } });
        const url = operationId === 'ShowMigrationTaskStats' ? `${show}/stats` : show;
        const res = await request(app).get(url).set(TOKEN);
        assert.equal(res.status, valid ? status : 500, JSON.stringify(res.body));
      });
    }

    test('UpdateMigrationTask answers {}', async () => {
      const ok = makeApp({ UpdateMigrationTask: { status: 200, body: {} } }).app;
      assert.equal((await request(ok).put(show).set(TOKEN).send({ resume_mode: 'auto' })).status, 200);
      const bad = makeApp({ UpdateMigrationTask: { status: 200, body: { resume_mode: 'auto' } } }).app;
      assert.equal((await request(bad).put(show).set(TOKEN).send({ resume_mode: 'auto' })).status, 500);
    });
  });
});
