/**
 * Child of kernel-fallback.test.ts: digests of small fixtures parsed into dump runs (plain and laid out as
 * RESTOREs), printed as JSON with whether the WebAssembly kernel was loaded in this process.
 */
import { createHash } from 'node:crypto';
import { RdbError } from '../../src/rdb/index.ts';
import { kernel } from '../../src/rdb/kernel.ts';
import { RESTORE_RUN_LAYOUT } from '../../src/target/resp.ts';
import { fixture, parseChunks, rdbFixtures, serialize } from '../helpers/rdb-fixtures.ts';

const digests: Record<string, string> = {};
for (const rel of rdbFixtures()) {
  const input = fixture(rel);
  if (input.length > 16 * 1024) continue;
  for (const [name, runLayout] of [
    ['plain', undefined],
    ['restore', RESTORE_RUN_LAYOUT],
  ] as const) {
    let d: string;
    try {
      const { entries, parser } = parseChunks([input], { dumpable: () => true, dumpRuns: true, runLayout });
      const s = parser.status();
      d = `${s.keys}/${s.expiredSkipped}/${s.emptySkipped} ${createHash('sha1').update(serialize(entries)).digest('hex')}`;
    } catch (e) {
      if (!(e instanceof RdbError)) throw e;
      d = `err:${e.code}`;
    }
    digests[`${rel} ${name}`] = d;
  }
}
process.stdout.write(JSON.stringify({ kernel: kernel !== null, digests }));
