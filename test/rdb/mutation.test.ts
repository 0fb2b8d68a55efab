/**
 * Mutated fixtures never crash or hang the decoder: truncations at many points give RdbError (never a partial
 * result claimed complete) and seeded random bit flips give the same entries or an RdbError — no RangeError or
 * other exception escapes. Runs in a worker thread with a time limit, so a hang fails the test instead of the run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { manifest, rdbFixtures } from '../helpers/rdb-fixtures.ts';

const TIME_LIMIT_MS = 120_000;

test('truncated and bit-flipped fixtures give entries or RdbError, never a crash or hang', async () => {
  const sizes = new Map(manifest().map((f) => [f.path, f]));
  const seen = new Set<string>();
  const files = rdbFixtures().filter((rel) => {
    const f = sizes.get(rel) as { size?: number; sha256?: string } | undefined;
    if (!f || (f.size ?? 0) > 64 * 1024 || seen.has(f.sha256 ?? rel)) return false;
    seen.add(f.sha256 ?? rel);
    return true;
  });
  const script = new URL('./mutation-worker.ts', import.meta.url).href;
  // Register tsx inside the worker, then load the TypeScript worker module.
  const boot = `import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(script)}))`;
  const worker = new Worker(boot, { eval: true, workerData: { files, flips: 200, seed: 0x5eed } });
  const result = await new Promise<{ problems: string[]; runs: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`mutation run did not finish within ${TIME_LIMIT_MS} ms (decoder hang?)`));
    }, TIME_LIMIT_MS);
    worker.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  await worker.terminate();
  assert.ok(result.runs > files.length * 200, `ran ${result.runs} decodes`);
  assert.deepEqual(result.problems, []);
});
