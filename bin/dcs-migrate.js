#!/usr/bin/env node
// The package ships TypeScript sources with no build step. Rather than run them through tsx's loader (a module-hook
// thread that keeps ~35 MB and about a second of start-up in every process, which an import's memory bound has to
// carry), the CLI is bundled with esbuild on first start into node_modules/.cache/dcs-migrate/<key>/, where <key>
// changes with any file under src/, and node runs plain JS from there. Dependencies stay external; code loaded on
// demand (the API server) stays in its own chunk. Where bundling is impossible, tsx runs the sources as before.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const ENTRY = join(SRC, 'cli.ts');

/** Every file under src/ with its size and mtime, so that any edit, addition or removal changes the key. */
function sourceKey() {
  const h = createHash('sha256');
  const walk = (dir) => {
    for (const d of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        h.update(`${relative(SRC, p)}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  walk(SRC);
  // The dependencies' versions and this file's build options are part of what the bundle is.
  h.update(readFileSync(join(ROOT, 'package.json')));
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  return h.digest('hex').slice(0, 16);
}

function cacheRoots() {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
  return [join(ROOT, 'node_modules/.cache/dcs-migrate'), join(tmpdir(), `dcs-migrate-${uid}`)];
}

/**
 * Each source keeps the location it has in src/: `import.meta.url` is replaced by the file's own URL, since
 * modules find files beside them (the WebAssembly kernel, migrations, the OpenAPI spec).
 */
const keepMetaUrl = {
  name: 'keep-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: 'ts',
    }));
  },
};

/** The generated Prisma client exists only after `npm run generate`; `import` and `migrate` never load it. */
const missingGenerated = {
  name: 'missing-generated',
  setup(build) {
    build.onResolve({ filter: /\/generated\// }, (args) => {
      const p = join(args.resolveDir, args.path);
      try {
        statSync(p);
        return undefined;
      } catch {
        return { path: p, namespace: 'missing-generated' };
      }
    });
    build.onLoad({ filter: /.*/, namespace: 'missing-generated' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${relative(ROOT, args.path)} is missing: run "npm run generate" (npm start and npm test do)`)});`,
      loader: 'js',
    }));
  },
};

async function bundled() {
  const key = sourceKey();
  for (const root of cacheRoots()) {
    const dir = join(root, key);
    try {
      statSync(join(dir, 'cli.mjs'));
      return join(dir, 'cli.mjs');
    } catch {}
  }
  const { build } = await import('esbuild');
  for (const root of cacheRoots()) {
    const tmp = join(root, `.tmp-${process.pid}-${Date.now()}`);
    try {
      mkdirSync(root, { recursive: true });
      const out = await build({
        entryPoints: { cli: ENTRY },
        bundle: true,
        splitting: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        packages: 'external',
        outdir: tmp,
        outExtension: { '.js': '.mjs' },
        write: false,
        logLevel: 'silent',
        plugins: [missingGenerated, keepMetaUrl],
      });
      mkdirSync(tmp);
      for (const f of out.outputFiles) writeFileSync(f.path, f.contents);
      const dir = join(root, key);
      try {
        renameSync(tmp, dir);
      } catch {
        rmSync(tmp, { recursive: true, force: true }); // another process built the same key first
      }
      pruneOld(root, key);
      return join(dir, 'cli.mjs');
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      if (err?.errors) throw err; // a build error is the same in every cache location
    }
  }
  throw new Error('no writable cache directory for the bundled CLI');
}

/** Builds of older sources, once no process can still be loading chunks from them. */
function pruneOld(root, key) {
  const hour = Date.now() - 3600_000;
  for (const name of readdirSync(root)) {
    if (name === key) continue;
    const p = join(root, name);
    try {
      if (statSync(p).mtimeMs < hour) rmSync(p, { recursive: true, force: true });
    } catch {}
  }
}

let cli;
try {
  cli = pathToFileURL(await bundled()).href;
} catch {
  const { register } = await import('tsx/esm/api');
  register();
  cli = pathToFileURL(ENTRY).href;
}
await import(cli);
