/**
 * Dump runs (`dumpRuns`) are a packing of the same keys: for every fixture, in every chunking, the keys of the
 * runs (expanded by runKeyEntry) and the entries around them equal what the parser gives key by key (so what the
 * kernel's lane takes equals the general path byte for byte), with strings dumped and decoded, with and without
 * dropping expired keys; the same error for the known-bad files (bit flips: mutation.test.ts). Every run holds keys
 * of one db, each key inside the run's buffer.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Entry } from '../../src/entry.ts';
import {
  RUN_CMD_AT,
  RUN_CMD_LEN,
  RUN_DUMP_AT,
  RUN_DUMP_LEN,
  RUN_FREQ,
  RUN_IDLE,
  RUN_STRIDE,
  releaseRun,
  runKeyEntry,
} from '../../src/entry.ts';
import { slabAllocations } from '../../src/rdb/dump-slabs.ts';
import { RdbError, RdbParser, type RdbParserOptions } from '../../src/rdb/index.ts';
import { encodeCommand, RESTORE_RUN_LAYOUT } from '../../src/target/resp.ts';
import { chunkings } from '../helpers/feed-chunked.ts';
import { prng } from '../helpers/random-dataset.ts';
import { fixture, oneByteChunks, parseChunks, rdbFixtures, serialize } from '../helpers/rdb-fixtures.ts';

const NOW = Date.UTC(2026, 0, 1);
const HELPER_MAX = 64 * 1024;

const VARIANTS: { name: string; opts: RdbParserOptions }[] = [
  { name: 'all dumped', opts: { dumpable: () => true } },
  { name: 'strings decoded', opts: { dumpable: (t) => t !== 0 } },
  { name: 'expired dropped', opts: { dumpable: () => true, skipExpired: true, now: () => NOW } },
  { name: 'laid out as RESTOREs', opts: { dumpable: () => true, runLayout: RESTORE_RUN_LAYOUT } },
];

/** `input` cut into chunks of `min` to `min + spread` bytes, sizes drawn from `rand`. */
function seededChunks(input: Buffer, rand: () => number, min: number, spread: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; ) {
    const n = min + Math.floor(rand() * spread);
    chunks.push(input.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

function digest(chunks: Iterable<Buffer>, opts: RdbParserOptions): string {
  try {
    const { entries, parser } = parseChunks(chunks, opts);
    const s = parser.status();
    const counts = `${s.keys}/${s.expiredSkipped}/${s.emptySkipped}/${parser.trailing.length}`;
    return `${counts} ${createHash('sha1').update(serialize(entries)).digest('hex')}`;
  } catch (e) {
    assert.ok(e instanceof RdbError, `expected RdbError, got ${e}`);
    return `err:${e.code}`;
  }
}

/** Structural checks on the runs themselves (not visible once expanded). */
function checkRuns(input: Buffer, opts: RdbParserOptions): void {
  const p = new RdbParser({ ...opts, dumpRuns: true });
  let keys = 0;
  try {
    for (const e of [...p.write(input), ...p.end()]) {
      if (e.kind === 'key') keys++;
      if (e.kind !== 'dumps') continue;
      assert.ok(e.count > 0, 'empty run');
      keys += e.count;
      const m = e.meta;
      for (let i = 0; i < e.count; i++) {
        const o = i * RUN_STRIDE;
        const end = m[o + RUN_DUMP_AT] + m[o + RUN_DUMP_LEN];
        assert.ok(end <= e.buf.length, 'key outside its run buffer');
        if (!opts.runLayout) continue;
        // Each key is exactly the writer's RESTORE, and the commands follow each other with no gap.
        const k = runKeyEntry(e, i);
        const argv: (string | Buffer)[] = ['RESTORE', k.key, String(k.expireAt), k.dump as Buffer, 'REPLACE'];
        if (e.expires[i] > 0) argv.push('ABSTTL');
        if (m[o + RUN_FREQ] >= 0) argv.push('FREQ', String(m[o + RUN_FREQ]));
        else if (m[o + RUN_IDLE] >= 0) argv.push('IDLETIME', String(m[o + RUN_IDLE]));
        const cmd = e.buf.subarray(m[o + RUN_CMD_AT], m[o + RUN_CMD_AT] + m[o + RUN_CMD_LEN]);
        assert.deepEqual(cmd, encodeCommand(argv), `command of key ${i}`);
        if (i > 0)
          assert.equal(m[o + RUN_CMD_AT], m[o - RUN_STRIDE + RUN_CMD_AT] + m[o - RUN_STRIDE + RUN_CMD_LEN]);
      }
    }
  } catch (e) {
    if (e instanceof RdbError) return;
    throw e;
  }
  assert.equal(keys, p.status().keys, 'keys in runs and entries vs status().keys');
}

describe('dump runs equal per-key dumps', () => {
  for (const rel of rdbFixtures()) {
    test(rel, () => {
      const input = fixture(rel);
      for (const v of VARIANTS) {
        const expected = digest([input], v.opts);
        const runs = { ...v.opts, dumpRuns: true };
        assert.equal(digest([input], runs), expected, `${v.name}, whole`);
        checkRuns(input, v.opts);
        // Every split of small files; 1-byte feeding (each key crosses chunk ends) up to HELPER_MAX; and a few
        // seeded splits so the lane meets chunk ends at any point of a key in every file.
        if (input.length <= 4096 && v === VARIANTS[0]) {
          for (const c of chunkings(input, { everySplit: true })) {
            if (c.name === 'whole') continue;
            assert.equal(digest(c.chunks, runs), expected, `${v.name}, chunking ${c.name}`);
          }
        } else if (input.length <= HELPER_MAX) {
          assert.equal(digest(oneByteChunks(input), runs), expected, `${v.name}, 1-byte chunks`);
        }
        const rand = prng(input.length);
        for (let k = 0; k < 3; k++) {
          const chunks = seededChunks(input, rand, 1, 4096);
          assert.equal(digest(chunks, runs), expected, `${v.name}, seeded chunks ${k}`);
        }
        // Big chunks: the parser copies only the start of a chunk behind a short tail and reads the rest in place.
        if (input.length > 256 * 1024) {
          for (let k = 0; k < 3; k++) {
            const chunks = seededChunks(input, rand, 60_000, 600_000);
            assert.equal(digest(chunks, runs), expected, `${v.name}, big seeded chunks ${k}`);
            assert.equal(digest(chunks, v.opts), expected, `${v.name}, big seeded chunks ${k} without runs`);
          }
        }
      }
    });
  }
});

// Parsers share the one kernel (its input window, its CRC state): tasks running at once in the service interleave
// their writes, and each must read only its own bytes.
describe('parsers interleaved in one process', () => {
  test('two big files fed alternately give what each gives alone', () => {
    const files = [fixture('redis-rdb-cli/rct/all.rdb'), fixture('redis-replicator/listpack-bug.rdb')];
    for (const opts of [VARIANTS[0].opts, VARIANTS[3].opts]) {
      const runs = { ...opts, dumpRuns: true };
      const alone = files.map((f) => digest([f], runs));
      const rand = prng(7);
      const chunks = files.map((f) => seededChunks(f, rand, 20_000, 60_000));
      const parsers = files.map(() => new RdbParser(runs));
      const entries: Entry[][] = files.map(() => []);
      for (let i = 0; i < Math.max(...chunks.map((c) => c.length)); i++) {
        for (let f = 0; f < files.length; f++) {
          if (i < chunks[f].length) for (const e of parsers[f].write(chunks[f][i])) entries[f].push(e);
        }
      }
      for (let f = 0; f < files.length; f++) {
        for (const e of parsers[f].end()) entries[f].push(e);
        const expanded = entries[f].flatMap((e) =>
          e.kind === 'dumps' ? Array.from({ length: e.count }, (_, i) => runKeyEntry(e, i)) : [e],
        );
        const s = parsers[f].status();
        const got = `${s.keys}/${s.expiredSkipped}/${s.emptySkipped}/${parsers[f].trailing.length} ${createHash('sha1').update(serialize(expanded)).digest('hex')}`;
        assert.equal(got, alone[f], `file ${f}`);
      }
    }
  });
});

// Runs lease their slab (entry.ts releaseRun): a consumer that copies a run and releases it at once lets the parser
// reuse the memory for the runs after it, and must still get exactly the per-key result.
describe('released runs', () => {
  /** Digest like `digest`, each run's keys copied out and the run released as soon as it arrives. */
  function digestReleasing(chunks: Iterable<Buffer>, opts: RdbParserOptions): string {
    const parser = new RdbParser({ ...opts, dumpRuns: true });
    const entries: Entry[] = [];
    const take = (e: Entry) => {
      if (e.kind !== 'dumps') return entries.push(e);
      for (let i = 0; i < e.count; i++) {
        const k = runKeyEntry(e, i);
        entries.push({ ...k, key: Buffer.from(k.key), dump: Buffer.from(k.dump as Buffer) });
      }
      releaseRun(e);
    };
    try {
      for (const c of chunks) for (const e of parser.write(c)) take(e);
      for (const e of parser.end()) take(e);
    } catch (e) {
      assert.ok(e instanceof RdbError, `expected RdbError, got ${e}`);
      return `err:${e.code}`;
    }
    const s = parser.status();
    const counts = `${s.keys}/${s.expiredSkipped}/${s.emptySkipped}/${parser.trailing.length}`;
    return `${counts} ${createHash('sha1').update(serialize(entries)).digest('hex')}`;
  }

  for (const rel of rdbFixtures()) {
    test(rel, () => {
      const input = fixture(rel);
      for (const v of VARIANTS) {
        const expected = digest([input], v.opts);
        assert.equal(digestReleasing([input], v.opts), expected, `${v.name}, whole`);
        const rand = prng(input.length + 1);
        const chunks = seededChunks(input, rand, 1, 65_536);
        assert.equal(digestReleasing(chunks, v.opts), expected, `${v.name}, seeded chunks`);
      }
    });
  }

  test('the slabs of released runs are reused; unreleased ones never are', () => {
    const input = fixture('redis-replicator/dumpV8.rdb');
    const opts = { dumpable: () => true, dumpRuns: true, runLayout: RESTORE_RUN_LAYOUT };
    const count = (release: boolean) => {
      const before = slabAllocations();
      const parser = new RdbParser(opts);
      const seen = new Set<Buffer>();
      let switches = 0;
      let last: Buffer | null = null;
      for (let at = 0; at < input.length; at += 65_536) {
        for (const e of parser.write(input.subarray(at, at + 65_536))) {
          if (e.kind !== 'dumps') continue;
          if (e.buf !== last) switches++;
          last = e.buf;
          seen.add(e.buf);
          if (release) releaseRun(e);
        }
      }
      parser.end();
      return { allocated: slabAllocations() - before, switches, distinct: seen.size };
    };
    const kept = count(false);
    assert.ok(kept.switches >= 5, `the file fills ${kept.switches} slabs`);
    assert.equal(kept.distinct, kept.switches, 'unreleased runs: every slab is a new one');
    const released = count(true);
    assert.equal(released.switches, kept.switches);
    assert.ok(released.distinct <= 2, `released runs: ${released.distinct} distinct slabs`);
    assert.ok(released.allocated <= 2, `released runs: ${released.allocated} slabs allocated`);
  });
});
