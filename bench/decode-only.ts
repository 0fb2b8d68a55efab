/**
 * Child of bench/import.ts: decodes one RDB file once, in a process of its own (like the import it is compared
 * with, not in the bench process whose heap holds the dataset generation), and prints {seconds, keys} as JSON.
 * The file is read as the CLI reads it (sources/file.ts readFileChunks).
 *
 *   node --import tsx bench/decode-only.ts <file.rdb> dumps|data
 */
import { releaseRun } from '../src/entry.ts';
import { RdbParser } from '../src/rdb/index.ts';
import { readFileChunks } from '../src/sources/index.ts';

const [file, mode] = process.argv.slice(2);
const dumps = mode === 'dumps';
const parser = new RdbParser({
  dumpable: () => dumps,
  dumpRdbVersion: 10,
  dumpRuns: process.env.RUNS !== '0',
});
const t0 = performance.now();
let keys = 0;
for await (const chunk of readFileChunks(file)) {
  for (const e of parser.write(chunk))
    if (e.kind === 'key') keys++;
    else if (e.kind === 'dumps') {
      keys += e.count;
      // Done with its bytes, as the writer is once the target has acknowledged them: the slab is reused.
      releaseRun(e);
    }
}
parser.end();
process.stdout.write(`${JSON.stringify({ seconds: (performance.now() - t0) / 1000, keys })}\n`);
