/**
 * X-Request-Id on every response and in the log lines of that request; secrets never logged; access keys from
 * DCS_ACCESS_KEYS and DCS_CREDENTIALS_FILE (src/config.ts), with errors that name the problem but never the
 * secret; the "non-loopback needs authentication" rule with access keys only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createClient } from 'dcs-migrate/client';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { controlledExecutors } from '../helpers/executors.ts';
import { testEnv } from '../helpers/service.ts';

const AK = 'HPUALOGTESTAK00000001';
const SK = 'log-sk-7e9a1c3e5a7c9e1a3c5e7a9c';
const FILE_AK = 'HPUAFILETESTAK0000002';
const FILE_SK = 'file-sk-2b4d6f8a0c2e4a6c8e0a2c4e';

describe('request ids, logs and access keys', () => {
  let dir: string;
  let server: RunningServer;
  const lines: Record<string, unknown>[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dcs-keys-'));
    const file = join(dir, 'credentials');
    writeFileSync(file, `# access keys, one ak:sk:project_id a line\n\n${FILE_AK}:${FILE_SK}:projF\n`);
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
        cb();
      },
    });
    const config = loadConfig(
      testEnv(dir, {
        env: { DCS_ACCESS_KEYS: `${AK}:${SK}:projK`, DCS_CREDENTIALS_FILE: file, HOST: '0.0.0.0' },
      }),
    );
    // Access keys alone are enough authentication to serve beyond loopback.
    server = await startServer(config, {
      executors: controlledExecutors(),
      logger: createLogger('debug', sink),
      validateResponses: true,
    });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = () => `http://127.0.0.1:${server.port}`;

  test("keys from the credentials file work; a key from one source is refused on the other one's project", async () => {
    const fromFile = createClient({
      baseUrl: base(),
      projectId: 'projF',
      auth: { ak: FILE_AK, sk: FILE_SK },
    });
    const ok = await fromFile.GET('/v2/{project_id}/migration-tasks', {
      params: { path: { project_id: 'projF' } },
    });
    assert.equal(ok.response.status, 200);
    const cross = createClient({ baseUrl: base(), auth: { ak: FILE_AK, sk: FILE_SK } });
    const no = await cross.GET('/v2/{project_id}/migration-tasks', {
      params: { path: { project_id: 'projK' } },
    });
    assert.equal(no.response.status, 401);
    assert.equal((no.error as { error_code: string }).error_code, 'DCS.1004');
  });

  test('every response has an X-Request-Id that its log lines carry; no secret is ever logged', async () => {
    const api = createClient({ baseUrl: base(), projectId: 'projK', auth: { ak: AK, sk: SK } });
    const good = await api.GET('/v2/{project_id}/migration-tasks', {
      params: { path: { project_id: 'projK' } },
    });
    const wrong = createClient({ baseUrl: base(), auth: { ak: AK, sk: 'wrong-secret' } });
    const bad = await wrong.GET('/v2/{project_id}/migration-tasks', {
      params: { path: { project_id: 'projK' } },
    });
    const health = await fetch(`${base()}/healthz`);
    const missing = await fetch(`${base()}/nothing`);
    for (const res of [good.response, bad.response, health, missing]) {
      const id = res.headers.get('x-request-id');
      assert.match(String(id), /^[0-9a-f]{32}$/);
      const mine = lines.filter((l) => l.request_id === id);
      assert.ok(
        mine.some((l) => l.msg === 'request' && l.status === res.status),
        `a log line for request ${id}`,
      );
    }
    const ids = new Set([good, bad].map((r) => r.response.headers.get('x-request-id')));
    assert.equal(ids.size, 2, 'ids differ per request');
    // The refusal was logged (debug) with its code, under its request id.
    const badId = bad.response.headers.get('x-request-id');
    assert.ok(lines.some((l) => l.request_id === badId && l.code === 'APIG.0301'));
    const all = JSON.stringify(lines);
    for (const secret of [SK, FILE_SK, 'wrong-secret'])
      assert.ok(!all.includes(secret), 'no secret key in the logs');
    assert.ok(!/SDK-HMAC-SHA256 Access=/.test(all), 'no Authorization header in the logs');
  });
});

describe('DCS_ACCESS_KEYS / DCS_CREDENTIALS_FILE parsing', () => {
  test('ak:sk:project_id entries, an AK on several projects', () => {
    const c = loadConfig({ DCS_ACCESS_KEYS: ' a1:s1:p1 , a1:s1:p2,a2:s2:p1 ' });
    assert.deepEqual(c.accessKeys, [
      { ak: 'a1', sk: 's1', projectId: 'p1' },
      { ak: 'a1', sk: 's1', projectId: 'p2' },
      { ak: 'a2', sk: 's2', projectId: 'p1' },
    ]);
    assert.deepEqual(loadConfig({}).accessKeys, []);
  });

  test('malformed entries name the variable and the entry, never the secret', () => {
    for (const raw of ['a1:topsecret', 'a1:topsecret:p1:x', ':topsecret:p1', 'a1::p1']) {
      assert.throws(
        () => loadConfig({ DCS_ACCESS_KEYS: `ok:s:p,${raw}` }),
        (e: Error) =>
          /DCS_ACCESS_KEYS entry 2 is not "ak:sk:project_id"/.test(e.message) &&
          !e.message.includes('topsecret'),
      );
    }
    assert.throws(() => loadConfig({ DCS_ACCESS_KEYS: 'a1:s1:p1,a1:other:p2' }), /two different secret keys/);
  });

  test('credentials file: comments and blank lines skipped, bad line numbered, unreadable file named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcs-cred-'));
    try {
      const file = join(dir, 'creds');
      writeFileSync(file, '# comment\n\nf1:fs1:p9\n');
      assert.deepEqual(loadConfig({ DCS_CREDENTIALS_FILE: file, DCS_ACCESS_KEYS: 'e1:es1:p8' }).accessKeys, [
        { ak: 'e1', sk: 'es1', projectId: 'p8' },
        { ak: 'f1', sk: 'fs1', projectId: 'p9' },
      ]);
      writeFileSync(file, 'f1:fs1:p9\nf2-topsecret\n');
      assert.throws(
        () => loadConfig({ DCS_CREDENTIALS_FILE: file }),
        (e: Error) =>
          /DCS_CREDENTIALS_FILE .* line 2 is not "ak:sk:project_id"/.test(e.message) &&
          !e.message.includes('topsecret'),
      );
      assert.throws(
        () => loadConfig({ DCS_CREDENTIALS_FILE: join(dir, 'absent') }),
        /DCS_CREDENTIALS_FILE cannot be read/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
