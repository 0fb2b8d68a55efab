/**
 * The encodings a source server picks depend on its configuration, not only on value sizes: compressed quicklist
 * nodes (list-compress-depth), one-element or 64 KiB list nodes, listpacks of a thousand members, no listpacks or
 * intsets at all, streams of tiny nodes, no LZF or no checksum in the file. Each configuration here writes a seeded
 * random dataset into a source started with it, saves it, imports the file with the real `dcs-migrate import`
 * (RESTORE path and plain-command path) into servers with default settings, or with a configuration that makes the
 * target convert what it restores, and compares key by key and by DEBUG DIGEST.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { cliImportAs, IMPORT_MODES, saveSource } from '../helpers/cli.ts';
import { assertSameData } from '../helpers/compare.ts';
import { runSeed, writeDataset } from '../helpers/random-dataset.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';

const seed = runSeed();

const NO_SMALL_ENCODINGS = [
  '--hash-max-ziplist-entries',
  '0',
  '--zset-max-ziplist-entries',
  '0',
  '--set-max-intset-entries',
  '0',
  '--list-max-ziplist-size',
  '1',
];

/** Writes `n` elements of 101+ compressible bytes to a list in one call. */
const FILL_LIST = "for i=1,ARGV[1] do redis.call('rpush', KEYS[1], string.rep('x', 100) .. i) end";

async function debugObject(s: RedisServer, key: string): Promise<Record<string, string>> {
  const line = await s.cli('DEBUG', 'OBJECT', key);
  return Object.fromEntries(
    line
      .trim()
      .split(' ')
      .map((kv) => kv.split(':') as [string, string]),
  );
}

async function encodingOf(s: RedisServer, key: string): Promise<string> {
  return (await s.cli('OBJECT', 'ENCODING', key)).trim();
}

/**
 * Each configuration writes probe keys and asserts that the source really encoded them as intended (so a
 * configuration that did not take effect fails here instead of testing the defaults again); the probes are
 * imported and compared with the rest.
 */
const CONFIGS: {
  name: string;
  source: string[];
  target?: string[];
  probes: number;
  probe(src: RedisServer): Promise<void>;
  checkTarget?(tgt: RedisServer): Promise<void>;
}[] = [
  {
    name: 'compressed quicklist nodes of 4 elements',
    source: ['--list-compress-depth', '1', '--list-max-ziplist-size', '4'],
    probes: 1,
    async probe(src) {
      await src.cli('EVAL', FILL_LIST, '1', 'probe:list', '40');
      const o = await debugObject(src, 'probe:list');
      assert.equal(o.ql_nodes, '10');
      assert.equal(o.ql_compressed, '1');
    },
  },
  {
    name: 'compressed 64 KiB list nodes, big listpacks and intsets, no LZF, no checksum',
    source: [
      '--list-compress-depth',
      '2',
      '--list-max-ziplist-size',
      '-5',
      '--hash-max-ziplist-entries',
      '1024',
      '--hash-max-ziplist-value',
      '1024',
      '--zset-max-ziplist-entries',
      '1024',
      '--zset-max-ziplist-value',
      '1024',
      '--set-max-intset-entries',
      '10000',
      '--rdbcompression',
      'no',
      '--rdbchecksum',
      'no',
    ],
    probes: 3,
    async probe(src) {
      await src.cli('EVAL', FILL_LIST, '1', 'probe:list', '3000');
      // With rdbcompression off, only a compressed node can make the serialized list shorter than its data.
      const o = await debugObject(src, 'probe:list');
      assert.ok(Number(o.serializedlength) < Number(o.ql_uncompressed_size) - 30_000, JSON.stringify(o));
      await src.cli('EVAL', "for i=1,900 do redis.call('hset', KEYS[1], 'f' .. i, i) end", '1', 'probe:hash');
      assert.equal(await encodingOf(src, 'probe:hash'), 'listpack');
      await src.cli('EVAL', "for i=1,5000 do redis.call('sadd', KEYS[1], i * 7) end", '1', 'probe:intset');
      assert.equal(await encodingOf(src, 'probe:intset'), 'intset');
    },
    async checkTarget(tgt) {
      // The target's limits are the defaults: it converts the big listpack and intset it restores.
      assert.equal(await encodingOf(tgt, 'probe:hash'), 'hashtable');
      assert.equal(await encodingOf(tgt, 'probe:intset'), 'hashtable');
    },
  },
  {
    name: 'no listpacks or intsets, one element per list node',
    source: NO_SMALL_ENCODINGS,
    probes: 3,
    async probe(src) {
      await src.cli('SADD', 'probe:set', '1', '2', '3');
      await src.cli('HSET', 'probe:hash', 'a', '1');
      await src.cli('ZADD', 'probe:zset', '1', 'a');
      assert.equal(await encodingOf(src, 'probe:set'), 'hashtable');
      assert.equal(await encodingOf(src, 'probe:hash'), 'hashtable');
      assert.equal(await encodingOf(src, 'probe:zset'), 'skiplist');
    },
  },
  {
    name: 'streams of two-entry nodes',
    source: ['--stream-node-max-entries', '2', '--stream-node-max-bytes', '0'],
    probes: 1,
    async probe(src) {
      for (let i = 1; i <= 10; i++) await src.cli('XADD', 'probe:stream', `${i}-1`, 'f', String(i));
      const info = (await src.cli('XINFO', 'STREAM', 'probe:stream')).split('\n');
      assert.equal(info[info.indexOf('radix-tree-keys') + 1], '5');
    },
  },
  {
    name: 'default source into a target without small encodings',
    source: [],
    target: NO_SMALL_ENCODINGS,
    probes: 2,
    async probe(src) {
      await src.cli('SADD', 'probe:set', '1', '2', '3');
      await src.cli('ZADD', 'probe:zset', '1', 'a');
      assert.equal(await encodingOf(src, 'probe:set'), 'intset');
      assert.equal(await encodingOf(src, 'probe:zset'), 'listpack');
    },
    async checkTarget(tgt) {
      assert.equal(await encodingOf(tgt, 'probe:set'), 'hashtable');
      assert.equal(await encodingOf(tgt, 'probe:zset'), 'skiplist');
    },
  },
];

describe(`random datasets from differently configured servers (SEED=${seed})`, { concurrency: 1 }, () => {
  const servers: RedisServer[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  CONFIGS.forEach((config, i) => {
    test(config.name, async () => {
      const src = await startRedis({ args: config.source });
      servers.push(src);
      const written = await writeDataset(src, { seed: seed + i, keys: 1500, dbs: 4 });
      await config.probe(src);
      const keys = written.keys + config.probes;
      const { rdb, snapshot, digest } = await saveSource(src);
      for (const mode of IMPORT_MODES) {
        const tgt = await startRedis({ args: config.target ?? [] });
        servers.push(tgt);
        const out = await cliImportAs(mode, rdb, tgt.url);
        assert.equal(out.keys, keys, `${mode}: keys acknowledged`);
        await assertSameData(snapshot, tgt);
        assert.equal(await tgt.cli('DEBUG', 'DIGEST'), digest, `${mode}: digest`);
        await config.checkTarget?.(tgt);
        await tgt.stop();
      }
      await src.stop();
    });
  });
});
