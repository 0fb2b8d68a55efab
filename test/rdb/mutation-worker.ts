/**
 * Worker for mutation.test.ts: decodes truncated and bit-flipped fixtures and reports outcome classes. Runs in a
 * worker thread so the test can terminate it if decoding ever hangs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RdbError, type RdbParserOptions } from '../../src/rdb/index.ts';
import { prng } from '../helpers/random-dataset.ts';
import { fixture, oneByteChunks, parseChunks, serialize } from '../helpers/rdb-fixtures.ts';

interface Job {
  files: string[];
  flips: number;
  seed: number;
}

function outcome(chunks: Iterable<Buffer>, opts: RdbParserOptions = {}): string {
  try {
    const { entries } = parseChunks(chunks, opts);
    return `ok:${serialize(entries)}`;
  } catch (e) {
    if (e instanceof RdbError) return `err:${e.code}`;
    return `CRASH:${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}

const job = workerData as Job;
const problems: string[] = [];
let runs = 0;
for (const rel of job.files) {
  const input = fixture(rel);
  const original = outcome([input]);
  const { parser } = (() => {
    try {
      return parseChunks([input]);
    } catch {
      return { parser: null };
    }
  })();
  const rdbEnd = input.length - (parser ? parser.trailing.length : 0);
  // Truncations: every byte for small files, else ~300 evenly spread cut points; all must be RDB_ERR_TRUNCATED.
  const step = Math.max(1, Math.floor(rdbEnd / 300));
  for (let cut = 0; cut < rdbEnd; cut += step) {
    const o = outcome([input.subarray(0, cut)]);
    runs++;
    if (o.startsWith('CRASH') || o.startsWith('ok')) problems.push(`${rel} cut@${cut}: ${o.slice(0, 200)}`);
    else if (original.startsWith('ok') && cut >= 9 && o !== 'err:RDB_ERR_TRUNCATED') {
      // A cut can also surface as a validation error of the piece it cut short (e.g. a ziplist), never success.
      if (!o.startsWith('err:')) problems.push(`${rel} cut@${cut}: ${o}`);
    }
  }
  // Seeded bit flips: same entries or an RdbError, identical for whole and 1-byte feeding.
  const rand = prng(job.seed ^ rel.length);
  for (let i = 0; i < job.flips; i++) {
    const m = Buffer.from(input);
    const at = Math.floor(rand() * m.length);
    m[at] ^= 1 << Math.floor(rand() * 8);
    const o = outcome([m]);
    runs++;
    if (o.startsWith('CRASH')) problems.push(`${rel} flip@${at}: ${o.slice(0, 300)}`);
    if (i % 5 === 0) {
      // Dump runs (with the string lane) must give the same keys, or the same error, as per-key dumps.
      const d = outcome([m], { dumpable: () => true });
      const dr = outcome([m], { dumpable: () => true, dumpRuns: true });
      if (dr !== d)
        problems.push(`${rel} flip@${at}: dump runs differ (${dr.slice(0, 80)} vs ${d.slice(0, 80)})`);
    }
    if (i % 10 === 0 && m.length <= 4096) {
      const o1 = outcome(oneByteChunks(m));
      if (o1 !== o)
        problems.push(`${rel} flip@${at}: 1-byte feeding differs (${o1.slice(0, 80)} vs ${o.slice(0, 80)})`);
    }
  }
}
parentPort?.postMessage({ problems, runs });
