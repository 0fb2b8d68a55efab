/**
 * bin/dcs-migrate.js runs a bundle of src/ that it builds itself: an edit under src/ must be what the next start
 * runs, never a stale build. Checked on a copy of the package (bin, src, package.json, the real node_modules
 * linked), whose usage text is edited between two starts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

describe('bin/dcs-migrate.js bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bin-bundle-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("rebuilt after a source edit; runs the bundle, with each source file's own import.meta.url", async () => {
    for (const p of ['bin', 'src', 'package.json']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    const help = async () =>
      (await run(process.execPath, [join(dir, 'bin/dcs-migrate.js'), 'help'], { cwd: dir })).stdout;
    assert.match(await help(), /^Usage: dcs-migrate <command>/);
    const cli = join(dir, 'src/cli.ts');
    writeFileSync(
      cli,
      readFileSync(cli, 'utf8').replace('Usage: dcs-migrate <command>', 'Usage (edited): dcs'),
    );
    assert.match(await help(), /^Usage \(edited\): dcs/);
    // What runs is the bundle (a stack frame in the cache), and import.meta.url is still the source file's own, so
    // files beside it (kernel.wasm, the OpenAPI spec) are found.
    writeFileSync(
      cli,
      `${readFileSync(cli, 'utf8')}\nif (process.argv[2] === 'probe') {\n  process.stdout.write(JSON.stringify({ url: import.meta.url, stack: new Error().stack }));\n  process.exit(0);\n}\n`,
    );
    const { stdout } = await run(process.execPath, [join(dir, 'bin/dcs-migrate.js'), 'probe'], { cwd: dir });
    const probe = JSON.parse(stdout);
    assert.equal(probe.url, pathToFileURL(cli).href);
    assert.match(probe.stack, /node_modules\/\.cache\/dcs-migrate\/[0-9a-f]{16}\/cli\.mjs/);
  });
});
