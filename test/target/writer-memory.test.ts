/**
 * Memory: once the target has acknowledged a key, the writer must not keep its data reachable. (Answered ops used
 * to stay in the connection's in-flight FIFO until it was compacted, which only happened after 1024 of them: with
 * a few big values, every one of them stayed in memory — 1.4 GB RSS for a 1 GB file.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import type { KeyEntry } from '../../src/entry.ts';
import { TargetWriter } from '../../src/target/index.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('TargetWriter memory', () => {
  let tgt: RedisServer;
  let tr: Redis;
  before(async () => {
    tgt = await startRedis();
    tr = new Redis({ host: tgt.host, port: tgt.port });
  });
  after(async () => {
    tr.disconnect();
    await tgt.stop();
  });

  it('drops acknowledged dumps (big and small) while the writer lives on', async () => {
    const refs: WeakRef<Buffer>[] = [];
    // Entries are made and written in a function of their own: the test's own frame must not hold them.
    const writeOne = async (w: TargetWriter, size: number) => {
      // Incompressible, so the dump keeps its size (and a big one is written by reference).
      await tr.set('m', randomBytes(size));
      const dump = await tr.dumpBuffer('m');
      const entry: KeyEntry = {
        kind: 'key',
        db: 0,
        key: Buffer.from(`k${size}`),
        type: 'string',
        rdbType: 0,
        expireAt: 0,
        idle: -1,
        freq: -1,
        dump,
        value: null,
        more: false,
      };
      refs.push(new WeakRef(dump));
      await w.write([entry]);
    };
    const w = await TargetWriter.connect({ addrs: `${tgt.host}:${tgt.port}` });
    try {
      for (const size of [1 << 20, 3 << 20, 100]) await writeOne(w, size);
      await w.flush();
      assert.equal(w.status().keys, 3);
      assert.equal(Number(await tr.strlen('k3145728')), 3 << 20);
      // WeakRefs are cleared by a collection after the current job.
      await new Promise((r) => setImmediate(r));
      gc();
      await new Promise((r) => setImmediate(r));
      gc();
      for (const [i, ref] of refs.entries())
        assert.equal(ref.deref(), undefined, `dump ${i} still reachable`);
    } finally {
      await w.close();
    }
  });
});
