/**
 * Child of kernel-fallback.test.ts: digests of small fixtures parsed into dump runs (plain and laid out as
 * RESTOREs), and the outcome (digest, or error code and message) of seeded bit flips in them with the checksum
 * not verified (so each flip meets the value checks, not the CRC), printed as JSON with whether the WebAssembly
 * kernel was loaded in this process.
 */
import { createHash } from 'node:crypto';
import { RdbError, type RdbParserOptions } from '../../src/rdb/index.ts';
import { kernel } from '../../src/rdb/kernel.ts';
import { RESTORE_RUN_LAYOUT } from '../../src/target/resp.ts';
import { prng } from '../helpers/random-dataset.ts';
import { fixture, parseChunks, rdbFixtures, serialize } from '../helpers/rdb-fixtures.ts';

const FLIPS = 24;

function outcome(input: Buffer, opts: RdbParserOptions): string {
  try {
    const { entries, parser } = parseChunks([input], { dumpable: () => true, dumpRuns: true, ...opts });
    const s = parser.status();
    return `${s.keys}/${s.expiredSkipped}/${s.emptySkipped} ${createHash('sha1').update(serialize(entries)).digest('hex')}`;
  } catch (e) {
    if (!(e instanceof RdbError)) throw e;
    return `err:${e.code} ${e.message}`;
  }
}

const digests: Record<string, string> = {};
for (const rel of rdbFixtures()) {
  const input = fixture(rel);
  if (input.length > 16 * 1024) continue;
  digests[`${rel} plain`] = outcome(input, {});
  digests[`${rel} restore`] = outcome(input, { runLayout: RESTORE_RUN_LAYOUT });
  const rand = prng(input.length);
  for (let i = 0; i < FLIPS; i++) {
    const m = Buffer.from(input);
    const at = 9 + Math.floor(rand() * (m.length - 9));
    m[at] ^= 1 << Math.floor(rand() * 8);
    digests[`${rel} flip@${at}`] = outcome(m, { verifyChecksum: false });
  }
}
process.stdout.write(JSON.stringify({ kernel: kernel !== null, digests }));
