/**
 * The WebAssembly kernel is an accelerator: where WebAssembly is unavailable (`node --jitless`) the parser runs
 * its JavaScript paths and must give the same keys, byte for byte, as with the kernel, and accept or reject the
 * same damaged values with the same error. Both sides run as child processes over every small fixture and seeded
 * bit flips of it (kernel-digest.ts), and each says whether it had the kernel, so the comparison cannot pass with
 * the kernel on both sides or off on both.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const CHILD = join(import.meta.dirname, 'kernel-digest.ts');

function run(flags: string[]): { kernel: boolean; digests: Record<string, string> } {
  const r = spawnSync(process.execPath, [...flags, '--import', 'tsx', CHILD], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('without WebAssembly the parser gives the same keys as with its kernel', () => {
  const withKernel = run([]);
  const without = run(['--jitless']);
  assert.equal(withKernel.kernel, true, 'the kernel loads in a normal process');
  assert.equal(without.kernel, false, 'no kernel under --jitless');
  assert.ok(Object.keys(withKernel.digests).length > 50, 'enough fixtures compared');
  assert.deepEqual(without.digests, withKernel.digests);
});
