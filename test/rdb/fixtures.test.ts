/**
 * Every RDB fixture of the shared corpus decodes in every chunking (STYLE habits 4 and 5): whole, 1-byte, and a
 * split at every boundary for small files, giving exactly the same entries; the known-bad ones give their
 * specific RdbError in every chunking.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { RdbError } from '../../src/rdb/index.ts';
import { chunkings } from '../helpers/feed-chunked.ts';
import {
  fixture,
  KNOWN_BAD,
  manifest,
  oneByteChunks,
  parseChunks,
  rdbFixtures,
  serialize,
} from '../helpers/rdb-fixtures.ts';

/** Files up to this size use feed-chunked's chunkings() directly (it materializes every 1-byte view). */
const HELPER_MAX = 1 << 20;

function digest(
  chunks: Iterable<Buffer>,
): { hash: string; count: number; keys: number; trailing: number } | { code: string } {
  try {
    const { entries, parser } = parseChunks(chunks);
    return {
      hash: createHash('sha1').update(serialize(entries)).digest('hex'),
      count: entries.length,
      keys: parser.status().keys,
      trailing: parser.trailing.length,
    };
  } catch (e) {
    assert.ok(e instanceof RdbError, `expected RdbError, got ${e}`);
    return { code: e.code };
  }
}

const scans = new Map(manifest().map((f) => [f.path, f]));

describe('rdb fixtures in every chunking', () => {
  for (const rel of rdbFixtures()) {
    test(rel, () => {
      const input = fixture(rel);
      const whole = digest([input]);
      const bad = KNOWN_BAD[rel];
      if (bad) assert.deepEqual(whole, { code: bad });
      else {
        assert.ok('hash' in whole, `${rel} failed: ${JSON.stringify(whole)}`);
        const scan = scans.get(rel)?.scan?.rdb;
        if (scan?.keys !== undefined && !rel.includes('corrupt_empty_keys'))
          assert.equal(whole.keys, scan.keys, 'key count vs MANIFEST scan');
        if (scan?.trailing_bytes !== undefined) assert.equal(whole.trailing, scan.trailing_bytes);
      }
      if (input.length <= HELPER_MAX) {
        for (const c of chunkings(input)) {
          if (c.name === 'whole') continue;
          assert.deepEqual(digest(c.chunks), whole, `chunking ${c.name}`);
        }
      } else {
        assert.deepEqual(digest(oneByteChunks(input)), whole, 'chunking 1-byte');
      }
    });
  }
});
