/**
 * Live API docs (src/api/docs.ts) in a real headless Chromium (Debian's, driven by playwright-core): /docs loads
 * with nothing fetched from anywhere but this server, lists every operation of the contract, and "Try it out" on
 * CreateOnlineMigrationTask reaches this server and creates the task. /openapi.yaml serves the contract itself.
 * Skips, saying so, only where no Chromium is installed (.ci/run installs it).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { parse } from 'yaml';
import { SPEC_PATH } from '../../src/api/app.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

/** Debian's launcher script is /usr/bin/chromium; the browser binary itself is what Playwright must start. */
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));
const NO_CHROMIUM = CHROMIUM
  ? false
  : 'no Chromium installed (apt-get install chromium): browser test skipped';

const spec = parse(readFileSync(SPEC_PATH, 'utf8')) as {
  paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>>;
};
/** Where the run leaves a picture of the page after the call, for a person to look at. */
const SCREENSHOT = join(tmpdir(), 'dcs-migrate-docs.png');

const OPERATIONS = Object.values(spec.paths).flatMap((item) =>
  ['get', 'put', 'post', 'delete'].flatMap((m) => (item[m]?.operationId ? [item[m].operationId!] : [])),
);

describe('GET /openapi.yaml', () => {
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ tokens: 'tok:p' });
  });
  after(() => svc.dispose());

  test('serves the contract byte for byte, without a token even when auth is on', async () => {
    const res = await fetch(`${svc.url}/openapi.yaml`);
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /^application\/yaml/);
    assert.equal(await res.text(), readFileSync(SPEC_PATH, 'utf8'));
    const page = await fetch(`${svc.url}/docs`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="swagger-ui">/);
    assert.equal((await fetch(`${svc.url}/docs/swagger-ui-bundle.js`)).status, 200);
    // Only the listed assets of the package are served.
    assert.equal((await fetch(`${svc.url}/docs/package.json`)).status, 404);
  });
});

describe('GET /docs in headless Chromium', { skip: NO_CHROMIUM }, () => {
  let svc: TestService;
  let browser: Browser;
  before(async () => {
    svc = await startTestService();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    await svc?.dispose();
  });

  test('lists every operation, fetches nothing from elsewhere, and a "Try it out" call creates a task', async () => {
    const page = await browser.newPage();
    const origin = new URL(svc.url).origin;
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));

    await page.goto(`${svc.url}/docs`);
    await page
      .locator('.opblock')
      .nth(OPERATIONS.length - 1)
      .waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('.opblock').count(), OPERATIONS.length);
    const shown = await page.locator('.opblock-summary-operation-id').allTextContents();
    assert.deepEqual(shown.map((s) => s.trim()).sort(), [...OPERATIONS].sort());

    const project = 'docs-proj';
    const op = page.locator('#operations-Online_migration-CreateOnlineMigrationTask');
    await op.locator('.opblock-summary').click();
    await op.locator('.try-out__btn').click();
    await op.locator('input[placeholder="project_id"]').fill(project);
    await op.locator('.execute').click();
    const status = op.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor({ timeout: 30_000 });
    assert.equal((await status.textContent())?.trim(), '200');

    const { count, tasks } = await svc.server.tasks.list(project, { offset: 0, limit: 10 });
    assert.equal(count, 1, 'the call from the page reached this server and created the task');
    const body = JSON.parse(
      (await op.locator('.live-responses-table .response-col_description pre').first().textContent()) ?? '{}',
    );
    assert.equal(body.instance_id, tasks[0].id);
    await page.screenshot({ path: SCREENSHOT });

    assert.deepEqual(foreign, [], 'nothing is fetched from another origin (no CDN)');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
