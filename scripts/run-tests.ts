/**
 * `npm test`: node's test runner over every test/**\/*.test.ts (Node 20's --test takes no globs). Extra
 * arguments filter by path substring: `npm test -- rdb target`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');

function* find(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* find(p);
    else if (name.endsWith('.test.ts')) yield relative(root, p);
  }
}

const filters = process.argv.slice(2);
const files = [...find(join(root, 'test'))].filter(
  (f) => !filters.length || filters.some((x) => f.includes(x)),
);
if (!files.length) {
  process.stderr.write(`no test files match ${filters.join(' ')}\n`);
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { cwd: root, stdio: 'inherit' },
);
process.exit(r.status ?? 1);
