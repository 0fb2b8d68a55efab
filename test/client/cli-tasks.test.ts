/**
 * `dcs-migrate tasks …` (src/cli/tasks.ts) against the real service: tables for people, the API's JSON with
 * `--json`, AK/SK and token auth, refusals and usage errors as clear messages and exit codes. One run goes through
 * the installed bin (a child process) to prove the wiring in src/cli.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CliError, CliRequestError } from '../../src/cli/errors.ts';
import { tasksCommand } from '../../src/cli/tasks.ts';
import { backupImportBody } from '../api/support.ts';
import { type ControlledExecutor, controlledExecutors } from '../helpers/executors.ts';
import { startTestService, type TestService, waitForStatus } from '../helpers/service.ts';

const AK = 'HPUACLITESTAK00000001';
const SK = 'cli-sk-1a3c5e7f9b1d3f5a7c9e1b3d';
const P = 'projT';
const ROOT = join(import.meta.dirname, '../..');

/** The bin in a child process, with none of the CLI's credential variables inherited but those given. */
function runBin(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = { ...process.env };
  for (const k of ['HUAWEICLOUD_SDK_AK', 'HUAWEICLOUD_SDK_SK', 'HUAWEICLOUD_SDK_PROJECT_ID', 'DCS_TOKEN'])
    delete clean[k];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/dcs-migrate.js', ...args],
      { cwd: ROOT, timeout: 60_000, env: { ...clean, ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function cli(args: string[]): Promise<string> {
  let text = '';
  const code = await tasksCommand(args, { out: (t) => (text += t) }, {});
  assert.equal(code, 0);
  return text;
}

describe('dcs-migrate tasks', () => {
  let svc: TestService;
  let backup: ControlledExecutor;
  let a: string;
  let b: string;
  const auth = () => ['--server', svc.url, '--project', P, '--ak', AK, '--sk', SK];

  before(async () => {
    const ex = controlledExecutors();
    backup = ex.backup_import;
    svc = await startTestService({
      tokens: 'tokT:projT',
      executors: ex,
      env: { DCS_ACCESS_KEYS: `${AK}:${SK}:${P}` },
    });
    a = (
      await svc.server.tasks.createBackupImport(P, backupImportBody({ task_name: 'alpha-import' }) as never)
    ).id;
    b = (
      await svc.server.tasks.createBackupImport(P, backupImportBody({ task_name: 'beta-import' }) as never)
    ).id;
    (await backup.runOf(a)).ctx.log('INFO', 'CODE1', 'first log line');
  });
  after(() => svc.dispose());

  test('list: a table with every task, newest first, and the count', async () => {
    const out = await cli(['list', ...auth()]);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0], /^TASK ID\s+NAME\s+TYPE\s+STATUS\s+CREATED$/);
    assert.match(lines[1], new RegExp(`^${b}\\s+beta-import\\s+backupfile_import\\s+MIGRATING\\s+\\d{4}-`));
    assert.match(lines[2], new RegExp(`^${a}\\s+alpha-import\\s+backupfile_import\\s+MIGRATING\\s+\\d{4}-`));
    assert.equal(lines[3], '2 task(s)');
  });

  test('list --json --name: the API answer as is; token auth', async () => {
    const out = await cli([
      'list',
      '--server',
      svc.url,
      '--project',
      P,
      '--token',
      'tokT',
      '--name',
      'alpha',
      '--json',
    ]);
    const data = JSON.parse(out);
    assert.equal(data.count, 1);
    assert.equal(data.migration_tasks[0].task_id, a);
  });

  test('show and stats: key: value lines', async () => {
    const show = await cli(['show', a, ...auth()]);
    assert.match(show, new RegExp(`^task_id:\\s+${a}$`, 'm'));
    assert.match(show, /^task_name:\s+alpha-import$/m);
    assert.match(show, /^backup_files\.bucket_name:\s+obs-bucket$/m);
    assert.doesNotMatch(show, /Pa55word/, 'no password printed');
    const stats = JSON.parse(await cli(['stats', a, ...auth(), '--json']));
    assert.equal(typeof stats, 'object');
  });

  test('logs: a table of entries', async () => {
    const out = await cli(['logs', a, ...auth()]);
    assert.match(out, /^TIME\s+LEVEL\s+CODE\s+MESSAGE$/m);
    assert.match(out, /\sINFO\s+CODE1\s+first log line$/m);
  });

  test('stop, then delete', async () => {
    assert.equal(await cli(['stop', b, ...auth()]), `${b}  TERMINATING\n`);
    await waitForStatus(svc.agent, P, b, 'TERMINATED', { token: 'tokT' });
    assert.equal(await cli(['delete', b, ...auth()]), `delete accepted: ${b}\n`);
    const { tasks } = await svc.server.tasks.list(P, { offset: 0, limit: 10 });
    assert.deepEqual(
      tasks.map((t) => t.id),
      [a],
    );
  });

  test('refusals name the code and the request id', async () => {
    await assert.rejects(
      tasksCommand(['list', '--server', svc.url, '--project', P, '--ak', AK, '--sk', 'nope'], undefined, {}),
      (e) => {
        assert.ok(e instanceof CliRequestError);
        assert.match(
          e.message,
          /^APIG\.0301: Incorrect IAM authentication information: verify aksk signature fail \(request [0-9a-f]{32}\)$/,
        );
        return true;
      },
    );
    await assert.rejects(
      tasksCommand(['show', 'f'.repeat(32), ...auth()], undefined, {}),
      /^CliRequestError: DCS\.4133: /,
    );
  });

  test('usage errors', async () => {
    for (const args of [
      ['list'],
      ['bogus', '--server', 'http://x'],
      ['show', '--server', 'http://x'],
      ['list', '--server', 'not a url'],
      ['list', '--server', 'http://x', '--token', 't', '--ak', 'a', '--sk', 's'],
      ['list', '--server', 'http://x', '--ak', 'a'],
      ['list', '--server', 'http://x', '--limit', 'ten'],
    ]) {
      await assert.rejects(tasksCommand(args, { out: () => {} }, {}), CliError, args.join(' '));
    }
  });

  test('an unreachable server is a clear error', async () => {
    await assert.rejects(
      tasksCommand(['list', '--server', 'http://127.0.0.1:1', '--project', P], undefined, {}),
      /cannot reach the server/,
    );
  });

  // The service runs in this process: the child must be awaited, never run synchronously.
  test('through bin/dcs-migrate.js: exit 0 with JSON; exit 1 with the refusal on stderr', async () => {
    const ok = await runBin(['tasks', 'list', ...auth(), '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).migration_tasks[0].task_id, a);
    const bad = await runBin(['tasks', 'list', '--server', svc.url, '--project', P]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^dcs-migrate: DCS\.1003: /);
    // Credentials and project from the variables Huawei's SDKs read: nothing secret on the command line.
    const env = await runBin(['tasks', 'list', '--server', svc.url, '--json'], {
      HUAWEICLOUD_SDK_AK: AK,
      HUAWEICLOUD_SDK_SK: SK,
      HUAWEICLOUD_SDK_PROJECT_ID: P,
    });
    assert.equal(env.code, 0, env.stderr);
    assert.equal(JSON.parse(env.stdout).count, 1);
  });

  test('credentials from the environment: an access key pair first, else DCS_TOKEN; options win', async () => {
    let text = '';
    const out = { out: (t: string) => (text += t) };
    await tasksCommand(['list', '--server', svc.url, '--json'], out, { ak: AK, sk: SK, projectId: P });
    assert.equal(JSON.parse(text).count, 1);
    text = '';
    await tasksCommand(['list', '--server', svc.url, '--project', P, '--json'], out, { token: 'tokT' });
    assert.equal(JSON.parse(text).count, 1);
    // --token given: the (wrong) key pair in the environment is not used.
    text = '';
    await tasksCommand(['list', '--server', svc.url, '--project', P, '--token', 'tokT', '--json'], out, {
      ak: AK,
      sk: 'wrong',
    });
    assert.equal(JSON.parse(text).count, 1);
    await assert.rejects(tasksCommand(['list', '--server', svc.url], out, { ak: AK }), CliError);
  });
});
