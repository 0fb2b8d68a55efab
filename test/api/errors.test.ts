/**
 * What every operation shares: the malformed-body table (not JSON, empty, wrong Content-Type), unknown routes,
 * the internal-error body without a stack trace, the health probe, passwords never answered nor stored in clear,
 * and STYLE habit 14's check that every operationId of the contract has a route test named after it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { parse } from 'yaml';
import { type ControlledExecutor, controlledExecutors } from '../helpers/executors.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import {
  assertDcsError,
  assertInvalidField,
  BUG_EMPTY_BODY_NO_REQUIRED_PROPS,
  backupImportBody,
  createOnline,
  freshProject,
  onlineConfigBody,
  onlineCreateBody,
  SOURCE_PASSWORD,
  TARGET_PASSWORD,
} from './support.ts';

const SPEC_PATH = fileURLToPath(new URL('../../openapi/dcs-migration.yaml', import.meta.url));
const API_TESTS = fileURLToPath(new URL('.', import.meta.url));

let svc: TestService;
let backup: ControlledExecutor;
const api = () => svc.agent;

before(async () => {
  const ex = controlledExecutors();
  backup = ex.backup_import;
  svc = await startTestService({ executors: ex });
});
after(() => svc.dispose());

const T = '0123456789abcdef0123456789abcdef';
/** Every operation that takes a JSON body: method, path (project P, task T) and a valid body. */
const WITH_BODY: [string, 'post' | 'put' | 'delete', string, unknown][] = [
  ['CreateMigrationTask', 'post', '/v2/P/migration-task', backupImportBody()],
  ['CreateOnlineMigrationTask', 'post', '/v2/P/migration/instance', onlineCreateBody()],
  ['SetOnlineMigrationTask', 'post', `/v2/P/migration/${T}/task`, onlineConfigBody()],
  ['UpdateMigrationTask', 'put', `/v2/P/migration-task/${T}`, { resume_mode: 'auto' }],
  ['DeleteMigrationTask', 'delete', '/v2/P/migration-tasks/delete', { task_id_list: [T] }],
  ['BatchStopMigrationTasks', 'post', '/v2/P/migration-task/batch-stop', { migration_tasks: [T] }],
  [
    'BatchRestartOnlineMigrationTasks',
    'post',
    '/v2/P/migration-tasks/batch-restart',
    { migration_tasks: [T] },
  ],
  ['ExchangeInstanceIp', 'post', `/v2/P/migration-task/${T}/exchange-ip`, {}],
];

describe('malformed bodies', () => {
  for (const [op, method, path] of WITH_BODY) {
    test(`${op}: a body that is not JSON is DCS.4005`, async () => {
      const url = path.replace('/P/', `/${freshProject()}/`);
      const res = await api()[method](url).set('Content-Type', 'application/json').send('{"task_name": "x",');
      assertDcsError(res, 400, 'DCS.4005', /^Body contains invalid characters or is not JSON/);
    });

    test(`${op}: a body sent as text/plain is DCS.4005`, async () => {
      const url = path.replace('/P/', `/${freshProject()}/`);
      const res = await api()[method](url).set('Content-Type', 'text/plain').send('hello');
      assertDcsError(res, 400, 'DCS.4005', /^Body contains invalid characters or is not JSON/);
    });

    test(`${op}: a JSON array instead of an object is DCS.4800`, async () => {
      const url = path.replace('/P/', `/${freshProject()}/`);
      const res = await api()[method](url).send([]);
      assertDcsError(res, 400, 'DCS.4800', /^Invalid /);
    });

    const noBodyBug =
      ['UpdateMigrationTask', 'ExchangeInstanceIp'].includes(op) && BUG_EMPTY_BODY_NO_REQUIRED_PROPS;
    test(`${op}: no body at all is DCS.4004`, { skip: noBodyBug }, async () => {
      const url = path.replace('/P/', `/${freshProject()}/`);
      assertDcsError(await api()[method](url), 400, 'DCS.4004', 'Empty request body.');
      const empty = await api()[method](url).set('Content-Type', 'application/json').send('');
      assertDcsError(empty, 400, 'DCS.4004', 'Empty request body.');
    });
  }

  test('CreateMigrationTask: wrong JSON types are refused, not coerced', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ task_name: 12345 }, 'task_name'],
      [{ task_name: true }, 'task_name'],
      [{ description: 5 }, 'description'],
      [{ backup_files: 'bucket' }, 'backup_files'],
      [{ backup_files: { bucket_name: 'b', files: 'dump.rdb' } }, 'backup_files.files'],
      [{ target_instance: { id: 7 } }, 'target_instance'],
      [{ migration_method: 1 }, 'migration_method'],
    ];
    for (const [over, field] of cases) {
      const p = freshProject();
      const res = await api().post(`/v2/${p}/migration-task`).send(backupImportBody(over));
      assertDcsError(res, 400, 'DCS.4800', new RegExp(`^Invalid ${field.replace(/[.[\]]/g, '\\$&')}`));
      assert.equal((await api().get(`/v2/${p}/migration-tasks`)).body.count, 0, JSON.stringify(over));
    }
  });

  test('CreateMigrationTask: wrong enums are DCS.4800 naming the field', async () => {
    for (const [over, field] of [
      [{ migration_type: 'copy' }, 'migration_type'],
      [{ migration_method: 'incremental' }, 'migration_method'],
      [
        { backup_files: { file_source: 's3', bucket_name: 'b', files: [{ file_name: 'a' }] } },
        'backup_files.file_source',
      ],
    ] as const) {
      assertInvalidField(
        await api().post(`/v2/${freshProject()}/migration-task`).send(backupImportBody(over)),
        field,
      );
    }
  });

  test('CreateMigrationTask: the Go SDK nulls are accepted where the spec allows them', async () => {
    const p = freshProject();
    const res = await api()
      .post(`/v2/${p}/migration-task`)
      .send(
        backupImportBody({
          description: '',
          backup_files: { bucket_name: 'b', files: [{ file_name: 'a.rdb', size: '', update_at: '' }] },
          target_instance: { id: '', addrs: '10.0.0.5:6379', password: '' },
        }),
      );
    assert.equal(res.status, 200, res.text);
    const run = await backup.runOf(res.body.id);
    assert.equal(run.task.target.password, undefined, '"" password means none');
    assert.equal(run.task.backupFiles?.files[0].name, 'a.rdb');
    assert.equal(run.task.backupFiles?.files[0].size, undefined, '"" size means none');
    run.succeed();
  });

  test('ListMigrationTask: the project id must match its pattern (DCS.4800 project_id)', async () => {
    assertInvalidField(await api().get('/v2/bad.project!/migration-tasks'), 'project_id');
  });
});

describe('routes', () => {
  for (const [method, path] of [
    ['get', '/v2/p1/nothing'],
    ['get', '/'],
    ['get', '/v1/p1/migration-tasks'],
    ['patch', '/v2/p1/migration-tasks'],
    ['post', '/v2/p1/migration-tasks'],
    ['get', `/v2/p1/migration-task/${T}/explode`],
    ['delete', `/v2/p1/migration-task/${T}`],
  ] as const) {
    test(`an unknown route ${method.toUpperCase()} ${path.slice(0, 40)} is 404 DCS.4001`, async () => {
      assertDcsError(await api()[method](path), 404, 'DCS.4001', 'URL does not exist.');
    });
  }

  test('ShowMigrationTask: an internal error is 500 DCS.5000 "Internal error." without details', async () => {
    const p = freshProject();
    const id = await createOnline(api(), p);
    // A row the service cannot read (corrupt JSON column) makes the handler throw an unexpected error.
    const db = new Database(svc.dbFile);
    try {
      db.prepare('UPDATE Task SET source = ? WHERE id = ?').run('{not json', id);
    } finally {
      db.close();
    }
    const res = await api().get(`/v2/${p}/migration-task/${id}`);
    assertDcsError(res, 500, 'DCS.5000', 'Internal error.');
    assert.doesNotMatch(res.text, /SyntaxError|JSON|not json/);
  });

  test('Healthz: 200 {status: "ok"} once started', async () => {
    const res = await api().get('/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  });
});

describe('passwords', () => {
  test('CreateMigrationTask and SetOnlineMigrationTask: passwords are never answered nor stored in clear', async () => {
    const p = freshProject();
    const texts: string[] = [];
    const imp = await api().post(`/v2/${p}/migration-task`).send(backupImportBody());
    texts.push(imp.text);
    const created = await api().post(`/v2/${p}/migration/instance`).send(onlineCreateBody());
    const id = created.body.instance_id;
    texts.push((await api().post(`/v2/${p}/migration/${id}/task`).send(onlineConfigBody())).text);
    for (const path of [
      `/migration-task/${id}`,
      `/migration-task/${id}/logs?limit=100`,
      `/migration-task/${id}/stats`,
      `/migration-task/${imp.body.id}/logs?limit=100`,
      '/migration-tasks?limit=100',
    ]) {
      const res = await api().get(`/v2/${p}${path}`);
      assert.equal(res.status, 200, `${path}: ${res.text}`);
      texts.push(res.text);
    }
    const stop = await api().post(`/v2/${p}/migration-task/${id}/stop`);
    texts.push(stop.text);
    for (const t of texts) {
      assert.ok(!t.includes(SOURCE_PASSWORD) && !t.includes(TARGET_PASSWORD), t);
      assert.ok(!/"password"/.test(t), t);
    }
    (await backup.runOf(imp.body.id)).succeed();

    // The store: no file of the database (main file, WAL) holds a password in clear; the columns are sealed.
    const files = readdirSync(svc.dataDir).filter((f) => f.startsWith('dcs-migrate.db'));
    assert.ok(files.length >= 1);
    for (const f of files) {
      const bytes = readFileSync(join(svc.dataDir, f));
      for (const pw of [SOURCE_PASSWORD, TARGET_PASSWORD]) {
        assert.equal(bytes.indexOf(pw), -1, `${pw} in ${f}`);
        assert.equal(bytes.indexOf(Buffer.from(pw, 'utf16le')), -1, `${pw} (UTF-16) in ${f}`);
      }
    }
    const db = new Database(svc.dbFile, { readonly: true });
    try {
      const row = db.prepare('SELECT sourcePassword, targetPassword FROM Task WHERE id = ?').get(id) as {
        sourcePassword: string;
        targetPassword: string;
      };
      assert.match(row.sourcePassword, /^v1:/);
      assert.match(row.targetPassword, /^v1:/);
    } finally {
      db.close();
    }
  });
});

describe('contract coverage (STYLE habit 14)', () => {
  test('every operationId of the spec appears in a test title in test/api', () => {
    const spec = parse(readFileSync(SPEC_PATH, 'utf8')) as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const ids = Object.values(spec.paths).flatMap((item) =>
      Object.values(item)
        .map((op) => op?.operationId)
        .filter((x): x is string => typeof x === 'string'),
    );
    assert.ok(ids.length >= 17, `found ${ids.length} operations`);
    const titles: string[] = [];
    for (const f of readdirSync(API_TESTS).filter((n) => n.endsWith('.test.ts'))) {
      const text = readFileSync(join(API_TESTS, f), 'utf8');
      for (const m of text.matchAll(/\btest(?:\.skip)?\(\s*(['"`])((?:(?!\1)[^\\]|\\.)*)\1/g))
        titles.push(m[2]);
    }
    const missing = ids.filter((id) => !titles.some((t) => new RegExp(`\\b${id}\\b`).test(t)));
    assert.deepEqual(missing, [], `operations without a route test: ${missing.join(', ')}`);
  });
});
