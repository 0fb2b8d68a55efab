/**
 * Connection losses mid-stream: the target kills our connections (CLIENT KILL TYPE normal from another client)
 * while big keys are being written piece by piece; the final data must equal the source exactly — no lost piece,
 * no RPUSH/XADD applied twice.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Entry, KeyEntry } from '../../src/entry.ts';
import { TargetWriter } from '../../src/target/index.ts';
import { RESTORE_RUN_LAYOUT } from '../../src/target/resp.ts';
import { assertSameData } from '../helpers/compare.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';
import { populate } from './fixtures.ts';
import { entriesOf, inPieces, packRuns, stringDump } from './source-entries.ts';

describe('TargetWriter retries after connection loss', () => {
  let src: RedisServer;
  let tgt: RedisServer;
  let tr: Redis;

  before(async () => {
    [src, tgt] = await Promise.all([startRedis(), startRedis()]);
    await populate(src);
    const sr = new Redis({ host: src.host, port: src.port });
    const items = Array.from({ length: 60_000 }, (_, i) => `item-${i}`);
    for (let i = 0; i < items.length; i += 5000) {
      const part = items.slice(i, i + 5000);
      await sr.rpush('r:list', ...part);
      await sr.sadd('r:set', ...part);
      await sr.zadd('r:zset', ...part.flatMap((m, j) => [i + j, m]));
      await sr.hset('r:hash', ...part.flatMap((m) => [m, m]));
    }
    for (let i = 0; i < 3000; i++) await sr.xadd('r:stream', `${i + 1}-0`, 'f', `v${i}`);
    await sr.xgroup('CREATE', 'r:stream', 'g', '0');
    await sr.xreadgroup('GROUP', 'g', 'c', 'COUNT', 100, 'STREAMS', 'r:stream', '>');
    await sr.set('r:str', Buffer.alloc(3 * 1024 * 1024, 0x5a));
    sr.disconnect();
    tr = new Redis({ host: tgt.host, port: tgt.port });
    tr.on('error', () => {}); // killed along with the writer's connections; ioredis reconnects
  });
  after(async () => {
    tr.disconnect();
    await Promise.all([src.stop(), tgt.stop()]);
  });
  beforeEach(async () => {
    await tr.flushall();
  });

  /** Kills every normal client but the killer itself, every `everyMs`, until stopped. */
  function killer(everyMs: number) {
    const k = new Redis({ host: tgt.host, port: tgt.port });
    k.on('error', () => {});
    let kills = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        await new Promise((r) => setTimeout(r, everyMs));
        if (stop) break;
        kills += Number(await k.call('CLIENT', 'KILL', 'TYPE', 'normal'));
      }
    })();
    return {
      async stop() {
        stop = true;
        await loop;
        k.disconnect();
        return kills;
      },
    };
  }

  async function run(entries: Entry[], everyMs: number) {
    const w = await TargetWriter.connect({
      addrs: `${tgt.host}:${tgt.port}`,
      bigValueChunkBytes: 8 * 1024,
      maxInflightBytes: 512 * 1024,
      maxRetries: 50,
    });
    const k = killer(everyMs);
    let failure: unknown = null;
    try {
      for (let i = 0; i < entries.length; i += 4) await w.write(entries.slice(i, i + 4));
      await w.flush();
    } catch (err) {
      failure = err;
    }
    const kills = await k.stop();
    const st = w.status();
    await w.close().catch(() => {});
    if (failure) throw failure;
    return { st, kills };
  }

  for (const mode of ['value', 'dump'] as const) {
    it(`keeps the data exact when connections are killed mid-stream (${mode})`, async () => {
      const keys = await entriesOf(src, { mode });
      const entries = mode === 'value' ? keys.flatMap((e) => inPieces(e, 2000)) : keys;
      // Slow the target a little so kills land while commands are in flight.
      const { st, kills } = await run(entries, 15);
      assert.ok(kills > 0 && st.reconnects > 0, `kills ${kills}, reconnects ${st.reconnects}`);
      await assertSameData(src, tgt);
      assert.equal(st.keys, keys.length);
      assert.equal(st.inflightCommands, 0);
    });
  }

  for (const layout of [RESTORE_RUN_LAYOUT, null]) {
    const form = layout ? 'laid out as RESTOREs' : 'key + dump';
    it(`dump runs lose nothing across kills (ops of many RESTOREs, and MSETs, are resent whole; ${form})`, async () => {
      const n = 60_000;
      // The first half has TTLs (RESTOREs, laid out or encoded), the second none (MSETs); one run mixes them.
      const ttl = Date.now() + 3_600_000;
      const keys: KeyEntry[] = Array.from({ length: n }, (_, i) => ({
        kind: 'key',
        db: 0,
        key: Buffer.from(`run:${i}`),
        type: 'string',
        rdbType: 0,
        expireAt: i < n / 2 ? ttl + i : 0,
        idle: -1,
        freq: -1,
        dump: stringDump(Buffer.from(`value-${i}`)),
        value: null,
        more: false,
      }));
      // Each run's memory is poisoned when the writer releases it: only after every RESTORE sent from it was
      // acknowledged (laid out), or once encoded into the writer's own buffer (key + dump).
      const leases = { released: 0 };
      const runs = packRuns(keys, 4096, layout, leases);
      const { st, kills } = await run(runs, 5);
      assert.ok(kills > 0 && st.reconnects > 0, `kills ${kills}, reconnects ${st.reconnects}`);
      assert.equal(leases.released, runs.length, 'every run released');
      assert.equal(st.keys, n);
      assert.equal(await tr.dbsize(), n);
      for (let i = 0; i < n; i += 5000) {
        const names = keys.slice(i, i + 5000).map((k) => k.key.toString());
        const got = await tr.mget(...names);
        for (const [j, v] of got.entries()) assert.equal(v, `value-${i + j}`);
      }
      for (const i of [0, 28_671, 29_999]) assert.equal(await tr.pexpiretime(`run:${i}`), ttl + i);
      for (const i of [30_000, 59_999]) assert.equal(await tr.pttl(`run:${i}`), -1);
    });
  }

  it('decoded strings (MSETs per db, SETs with a TTL) lose nothing across kills', async () => {
    const n = 40_000;
    const ttl = Date.now() + 3_600_000;
    const keys: KeyEntry[] = Array.from({ length: n }, (_, i) => ({
      kind: 'key',
      db: i % 3,
      key: Buffer.from(`dec:${i}`),
      type: 'string',
      rdbType: 0,
      expireAt: i % 4 === 0 ? ttl + i : 0,
      idle: -1,
      freq: -1,
      dump: null,
      value: { type: 'string', value: Buffer.from(`value-${i}`) },
      more: false,
    }));
    // Batches of a few hundred, as the parser hands them over: each ends with its open MSETs sent, and every fifth
    // is followed by a kill of the writer's connection while they are in flight (write() returns once they are sent).
    const w = await TargetWriter.connect({ addrs: `${tgt.host}:${tgt.port}`, maxRetries: 50 });
    const k = new Redis({ host: tgt.host, port: tgt.port });
    try {
      for (let i = 0, b = 0; i < n; i += 700, b++) {
        await w.write(keys.slice(i, i + 700));
        if (b % 5 === 0) await k.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      }
      await w.flush();
      assert.ok(w.status().reconnects >= 5, `reconnects ${w.status().reconnects}`);
    } finally {
      k.disconnect();
      await w.close().catch(() => {});
    }
    assert.equal(w.status().keys, n);
    for (const db of [0, 1, 2]) {
      await tr.select(db);
      const mine = keys.filter((k) => k.db === db);
      assert.equal(await tr.dbsize(), mine.length);
      for (let i = 0; i < mine.length; i += 5000) {
        const part = mine.slice(i, i + 5000);
        const got = await tr.mget(...part.map((k) => k.key.toString()));
        for (const [j, v] of got.entries())
          assert.equal(v, (part[j].value as { value: Buffer }).value.toString());
      }
      const withTtl = mine.find((k) => k.expireAt > 0) as KeyEntry;
      assert.equal(await tr.pexpiretime(withTtl.key), withTtl.expireAt);
    }
    await tr.select(0);
  });

  it('command streams lose nothing across kills', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 20_000; i++) {
      entries.push({
        kind: 'command',
        db: 0,
        argv: [Buffer.from('SET'), Buffer.from(`c${i}`), Buffer.from(`v${i}`)],
      });
    }
    const { st, kills } = await run(entries, 5);
    assert.ok(kills > 0, `kills ${kills}`);
    assert.equal(await tr.dbsize(), 20_000);
    assert.equal(await tr.get('c19999'), 'v19999');
    assert.ok(st.reconnects > 0);
  });
});
