/**
 * Lint rules biome cannot express (STYLE habits 6, 7, 11, 12):
 *  - no `.toString(` on the data path (src/rdb, src/aof, src/replication, src/target) unless the line carries
 *    `// text-ok: <why>` (e.g. a number formatted for a command, an error message);
 *  - `process.env` only in src/config.ts (and prisma.config.ts outside src);
 *  - no bare `new Error(` outside errors modules.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const problems: string[] = [];

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'generated') yield* files(p);
    } else if (p.endsWith('.ts')) yield p;
  }
}

const HOT = ['src/rdb/', 'src/aof/', 'src/replication/', 'src/target/'];
for (const file of files(join(root, 'src'))) {
  const rel = relative(root, file);
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    const at = `${rel}:${i + 1}`;
    const code = line.replace(/\/\/.*$/, '');
    if (HOT.some((h) => rel.startsWith(h)) && code.includes('.toString(') && !line.includes('text-ok:')) {
      problems.push(
        `${at}: .toString( on the data path (mark the line "// text-ok: <why>" if it is not user data)`,
      );
    }
    if (code.includes('process.env') && rel !== 'src/config.ts') {
      problems.push(`${at}: process.env outside src/config.ts`);
    }
    if (/\bnew Error\(/.test(code) && !/errors?\.ts$/.test(rel)) {
      problems.push(`${at}: bare new Error( — use a typed error (MigrationError subclass)`);
    }
  });
}

if (problems.length) {
  process.stderr.write(`${problems.join('\n')}\n${problems.length} problem(s)\n`);
  process.exit(1);
}
