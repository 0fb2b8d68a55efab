/**
 * dcs-migrate tasks list|show|stats|logs|stop|delete — the task calls of a running service, through the typed
 * client (src/client): tables for people, `--json` (the API's answer as is) for scripts.
 */
import { parseArgs } from 'node:util';
import { type ClientAuth, createClient, type DcsClient } from '../client/index.ts';
import { type CliEnv, cliEnv } from '../config.ts';
import { CliError, CliRequestError } from './errors.ts';

export const TASKS_USAGE = `Usage: dcs-migrate tasks <list|show|stats|logs|stop|delete> [task_id…] --server URL
         [--project ID] [--token T | --ak AK --sk SK] [--json]

  list                    tasks of the project, newest first  [--name SUBSTRING] [--limit N] [--offset N]
  show <task_id>          one task in full
  stats <task_id>         progress counters
  logs <task_id>          log entries, newest first  [--level INFO|ERROR] [--limit N] [--offset N]
  stop <task_id>          stop a task (answers at once; the task goes TERMINATING → TERMINATED)
  delete <task_id>…       delete stopped or finished tasks

  --server   the service, e.g. http://127.0.0.1:8080
  --project  project id of the paths (default: $HUAWEICLOUD_SDK_PROJECT_ID, else "default")
  --token    X-Auth-Token;  --ak/--sk: sign requests with an access key (SDK-HMAC-SHA256)
             Without these options: $HUAWEICLOUD_SDK_AK and $HUAWEICLOUD_SDK_SK (as Huawei's SDKs read them),
             else $DCS_TOKEN — which keeps secrets out of the command line.
  --json     print the API's JSON answer instead of a table
`;

export interface Output {
  out(text: string): void;
}

const stdout: Output = { out: (t) => process.stdout.write(t) };

const NEEDS_ID = new Set(['show', 'stats', 'logs', 'stop']);
const COMMANDS = new Set(['list', 'show', 'stats', 'logs', 'stop', 'delete']);

/** Left-aligned columns, two spaces apart; `-` for an empty cell. */
export function table(header: string[], rows: (string | number | undefined | null)[][]): string {
  const cells = [
    header,
    ...rows.map((r) => r.map((c) => (c === undefined || c === null || c === '' ? '-' : String(c)))),
  ];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return `${cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n')}\n`;
}

/** `key: value` lines (nested objects flattened with dots). */
function fields(obj: Record<string, unknown>, prefix = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      out.push(...fields(v as Record<string, unknown>, key));
    else
      out.push([
        key,
        Array.isArray(v)
          ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ')
          : String(v ?? ''),
      ]);
  }
  return out;
}

function keyValues(obj: Record<string, unknown>): string {
  const rows = fields(obj);
  const width = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`).join('\n') + '\n';
}

function intOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new CliError(`--${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

/** Unwraps an openapi-fetch answer: the data, or a CliRequestError naming the DCS/gateway code and request id. */
async function call<T>(
  p: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<{ data: T; status: number }> {
  let r: Awaited<typeof p>;
  try {
    r = await p;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new CliRequestError(
      `cannot reach the server: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    );
  }
  if (r.error !== undefined || !r.response.ok) {
    const e = (r.error ?? {}) as { error_code?: string; error_msg?: string };
    const id = r.response.headers.get('x-request-id');
    const what = e.error_code ? `${e.error_code}: ${e.error_msg}` : `HTTP ${r.response.status}`;
    throw new CliRequestError(`${what}${id ? ` (request ${id})` : ''}`);
  }
  return { data: r.data as T, status: r.response.status };
}

export async function tasksCommand(
  argv: string[],
  io: Output = stdout,
  env: CliEnv = cliEnv(),
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      project: { type: 'string' },
      token: { type: 'string' },
      ak: { type: 'string' },
      sk: { type: 'string' },
      json: { type: 'boolean' },
      name: { type: 'string' },
      level: { type: 'string' },
      limit: { type: 'string' },
      offset: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.out(TASKS_USAGE);
    return 0;
  }
  const [cmd, ...ids] = positionals;
  if (!cmd || !COMMANDS.has(cmd))
    throw new CliError(`tasks needs one of list, show, stats, logs, stop, delete\n\n${TASKS_USAGE}`);
  if (!values.server) throw new CliError(`--server is required\n\n${TASKS_USAGE}`);
  if (NEEDS_ID.has(cmd) && ids.length !== 1) throw new CliError(`tasks ${cmd} takes exactly one task id`);
  if (cmd === 'delete' && !ids.length) throw new CliError('tasks delete takes one or more task ids');
  if (cmd === 'list' && ids.length) throw new CliError('tasks list takes no task id');
  if (values.token && (values.ak || values.sk))
    throw new CliError('give either --token or --ak/--sk, not both');
  if (Boolean(values.ak) !== Boolean(values.sk)) throw new CliError('--ak and --sk go together');
  let server: URL;
  try {
    server = new URL(values.server);
  } catch {
    throw new CliError(`--server must be a URL such as http://127.0.0.1:8080, got "${values.server}"`);
  }
  const auth = authOf(values, env);
  const project = values.project ?? env.projectId ?? 'default';
  const client = createClient({
    baseUrl: server.origin + server.pathname.replace(/\/+$/, ''),
    projectId: project,
    auth,
  });
  const limit = intOption('limit', values.limit);
  const offset = intOption('offset', values.offset);
  const print = (data: unknown, human: () => string) =>
    io.out(values.json ? `${JSON.stringify(data, null, 2)}\n` : human());
  await run(client, cmd, ids, project, { limit, offset, name: values.name, level: values.level }, print);
  return 0;
}

/** Options first; then the environment (an access key pair, else a token). */
function authOf(values: { token?: string; ak?: string; sk?: string }, env: CliEnv): ClientAuth | undefined {
  if (values.token) return { token: values.token };
  if (values.ak) return { ak: values.ak, sk: values.sk! };
  if (env.ak && env.sk) return { ak: env.ak, sk: env.sk };
  if (env.ak || env.sk) throw new CliError('HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK go together');
  if (env.token) return { token: env.token };
  return undefined;
}

type Print = (data: unknown, human: () => string) => void;

async function run(
  client: DcsClient,
  cmd: string,
  ids: string[],
  project: string,
  q: { limit?: number; offset?: number; name?: string; level?: string },
  print: Print,
): Promise<void> {
  const path = { project_id: project };
  switch (cmd) {
    case 'list': {
      const { data } = await call(
        client.GET('/v2/{project_id}/migration-tasks', {
          params: { path, query: { limit: q.limit, offset: q.offset, name: q.name } },
        }),
      );
      print(data, () => {
        const rows = data.migration_tasks.map((t) => [
          t.task_id,
          t.task_name,
          t.migration_type,
          t.status,
          t.created_at,
        ]);
        return `${table(['TASK ID', 'NAME', 'TYPE', 'STATUS', 'CREATED'], rows)}${data.count} task(s)\n`;
      });
      return;
    }
    case 'show': {
      const { data } = await call(
        client.GET('/v2/{project_id}/migration-task/{task_id}', {
          params: { path: { ...path, task_id: ids[0] } },
        }),
      );
      print(data, () => keyValues(data as Record<string, unknown>));
      return;
    }
    case 'stats': {
      const { data } = await call(
        client.GET('/v2/{project_id}/migration-task/{task_id}/stats', {
          params: { path: { ...path, task_id: ids[0] } },
        }),
      );
      print(data, () => keyValues(data as Record<string, unknown>));
      return;
    }
    case 'logs': {
      const { data } = await call(
        client.GET('/v2/{project_id}/migration-task/{task_id}/logs', {
          params: {
            path: { ...path, task_id: ids[0] },
            query: { limit: q.limit, offset: q.offset, log_level: q.level },
          },
        }),
      );
      print(data, () => {
        const rows = data.migration_logs.map((l) => [l.created_at, l.log_level, l.log_code, l.message]);
        return `${table(['TIME', 'LEVEL', 'CODE', 'MESSAGE'], rows)}${data.log_num} entr${data.log_num === 1 ? 'y' : 'ies'}\n`;
      });
      return;
    }
    case 'stop': {
      const { data } = await call(
        client.POST('/v2/{project_id}/migration-task/{task_id}/stop', {
          params: { path: { ...path, task_id: ids[0] } },
        }),
      );
      print(data, () => `${data.task_id}  ${data.status}\n`);
      return;
    }
    case 'delete': {
      const { data } = await call(
        client.DELETE('/v2/{project_id}/migration-tasks/delete', {
          params: { path },
          body: { task_id_list: ids },
        }),
      );
      print(data, () => `delete accepted: ${data.task_id_list.join(', ')}\n`);
      return;
    }
  }
}
