import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Entry, KeyEntry } from '../../src/entry.ts';
import { crc64 } from '../../src/rdb/index.ts';
import { type TargetError, TargetWriter } from '../../src/target/index.ts';
import { RESTORE_RUN_LAYOUT } from '../../src/target/resp.ts';
import { assertSameData, dataOf } from '../helpers/compare.ts';
import { fixture, parseChunks } from '../helpers/rdb-fixtures.ts';
import { type RedisServer, startRedis } from '../helpers/redis-server.ts';
import { populate } from './fixtures.ts';
import { entriesOf, packRuns, stringDump } from './source-entries.ts';

describe('TargetWriter on a standalone target', () => {
  let src: RedisServer;
  let tgt: RedisServer;
  let srcEntries: { dump: KeyEntry[]; value: KeyEntry[] };
  let tr: Redis;

  before(async () => {
    [src, tgt] = await Promise.all([startRedis(), startRedis()]);
    await populate(src);
    srcEntries = {
      dump: await entriesOf(src, { mode: 'dump' }),
      value: await entriesOf(src, { mode: 'value' }),
    };
    tr = new Redis({ host: tgt.host, port: tgt.port });
  });
  after(async () => {
    tr.disconnect();
    await Promise.all([src.stop(), tgt.stop()]);
  });
  beforeEach(async () => {
    await tr.flushall();
  });

  async function writeAll(entries: Entry[], opts: Partial<Parameters<typeof TargetWriter.connect>[0]> = {}) {
    const w = await TargetWriter.connect({ addrs: `${tgt.host}:${tgt.port}`, ...opts });
    try {
      await w.write(entries);
      await w.flush();
      return w.status();
    } finally {
      await w.close();
    }
  }

  it('detects capabilities', async () => {
    const w = await TargetWriter.connect({ addrs: `${tgt.host}:${tgt.port}` });
    const c = w.capabilities;
    await w.close();
    assert.equal(c.cluster, false);
    assert.equal(c.rdbVersion, 10);
    assert.equal(c.restoreAbsTtl, true);
    assert.equal(c.functions, true);
    assert.equal(c.hashFieldTtl, false);
    assert.equal(c.dumpable(18, 'redis'), true);
    assert.equal(c.dumpable(20, 'redis'), false); // set listpack: 7.2
    assert.equal(c.dumpable(24, 'redis'), false);
    assert.equal(c.dumpable(22, 'valkey'), false);
    assert.equal(c.dumpable(6, 'redis'), false);
  });

  it('restores every type from DUMP payloads with exact expiry', async () => {
    const st = await writeAll(srcEntries.dump);
    await assertSameData(src, tgt, { dbs: [0] });
    assert.equal(st.keys, srcEntries.dump.length);
    assert.ok(st.acked >= srcEntries.dump.length && st.acked <= st.commands);
    assert.ok(st.writes < st.commands, `writes ${st.writes} < commands ${st.commands}`);
  });

  it('dumps the target cannot restore are decoded and rewritten (SCAN + DUMP copies)', async () => {
    // Every type's DUMP payload, as a key-by-key copy reads them, into a server with RESTORE renamed away.
    const bare = await startRedis({ args: ['--rename-command', 'RESTORE', ''] });
    try {
      const w = await TargetWriter.connect({ addrs: `${bare.host}:${bare.port}` });
      try {
        await w.write(srcEntries.dump);
        await w.flush();
        assert.equal(w.status().keys, srcEntries.dump.length);
      } finally {
        await w.close();
      }
      await assertSameData(src, bare, { dbs: [0] });
    } finally {
      await bare.stop();
    }
    // A payload of an RDB version newer than the target's (as from a newer source): a string dump re-sealed as v12.
    const v12 = Buffer.from(stringDump(Buffer.from('from a newer server')));
    v12.writeUInt16LE(12, v12.length - 10);
    v12.writeBigUInt64LE(crc64(v12.subarray(0, v12.length - 8)), v12.length - 8);
    const newer: KeyEntry = {
      ...srcEntries.dump[0],
      key: Buffer.from('newer'),
      type: 'string',
      rdbType: 0,
      expireAt: Date.now() + 60_000,
      dump: v12,
      value: null,
    };
    const bad = { ...newer, key: Buffer.from('bad'), dump: Buffer.from(v12).fill(0, v12.length - 8) };
    await tr.config('RESETSTAT');
    const st = await writeAll([newer]);
    assert.equal(st.keys, 1);
    assert.equal(await tr.get('newer'), 'from a newer server');
    assert.equal(await tr.pexpiretime('newer'), newer.expireAt);
    assert.equal((await commandCalls(tr)).restore, 0);
    await assert.rejects(writeAll([bad]), (err: TargetError) => {
      assert.equal(err.code, 'RDB_ERR_CHECKSUM');
      assert.equal(err.where.key, 'bad');
      return true;
    });
  });

  it('rewrites every type from decoded values with exact expiry', async () => {
    const st = await writeAll(srcEntries.value);
    await assertSameData(src, tgt, { dbs: [0] });
    assert.equal(st.keys, srcEntries.value.length);
  });

  it('decoded strings without a TTL go out as MSETs per db; with a TTL, or on refusal, one key at a time', async () => {
    const str = (db: number, i: number, expireAt = 0): KeyEntry => ({
      ...srcEntries.value[0],
      kind: 'key',
      db,
      key: Buffer.from(`d${db}:${i}`),
      type: 'string',
      rdbType: 0,
      expireAt,
      idle: i % 3 === 0 ? 5 : -1,
      more: false,
      dump: null,
      value: { type: 'string', value: Buffer.from(`${i}`.repeat(i % 50)) },
    });
    const future = Date.now() + 3_600_000;
    // Three dbs interleaved in runs, every 10th key with a TTL, one value too big for an MSET.
    const keys: KeyEntry[] = [];
    for (let i = 0; i < 6000; i++) keys.push(str(Math.floor(i / 1000) % 3, i, i % 10 === 0 ? future : 0));
    keys.push({ ...str(0, 99_999), value: { type: 'string', value: Buffer.alloc(70_000, 'b') } });
    const check = async (r: Redis) => {
      for (const db of [0, 1, 2]) {
        await r.select(db);
        const mine = keys.filter((k) => k.db === db);
        assert.equal(await r.dbsize(), mine.length, `db ${db}`);
        const got = await r.mgetBuffer(...mine.map((k) => k.key));
        for (const [i, v] of got.entries()) {
          const want = (mine[i].value as { value: Buffer }).value;
          assert.ok(v?.equals(want), `${mine[i].key}`);
        }
        for (const k of mine.filter((k) => k.expireAt > 0).slice(0, 5))
          assert.equal(await r.pexpiretime(k.key), k.expireAt);
      }
      await r.select(0);
    };
    await tr.config('RESETSTAT');
    const st = await writeAll(keys);
    assert.equal(st.keys, keys.length);
    await check(tr);
    const calls = await commandCalls(tr);
    assert.ok(calls.mset > 0 && calls.mset <= 20, `mset calls ${calls.mset}`);
    assert.equal(calls.set, 600 + 1, 'the keys with a TTL and the big value: one SET each');

    // A server that refuses MSET and RESTORE: the same keys as SETs, exactly.
    const bare = await startRedis({
      args: ['--rename-command', 'MSET', '', '--rename-command', 'RESTORE', ''],
    });
    const br = new Redis({ host: bare.host, port: bare.port });
    try {
      const w = await TargetWriter.connect({ addrs: `${bare.host}:${bare.port}` });
      try {
        assert.equal(w.capabilities.restore, false);
        await w.write(keys);
        await w.flush();
        assert.equal(w.status().keys, keys.length);
      } finally {
        await w.close();
      }
      await check(br);
    } finally {
      br.disconnect();
      await bare.stop();
    }
  });

  it('rewrites with small chunks (many commands per key)', async () => {
    const st = await writeAll(srcEntries.value, { bigValueChunkBytes: 64 });
    await assertSameData(src, tgt, { dbs: [0] });
    assert.ok(st.commands > 200, `commands ${st.commands}`);
  });

  it('skips and counts expired keys', async () => {
    const past = Date.now() - 1000;
    const entries: KeyEntry[] = [
      { ...srcEntries.value[0], key: Buffer.from('gone1'), expireAt: past },
      { ...srcEntries.dump[0], key: Buffer.from('gone2'), expireAt: past },
      { ...srcEntries.value[0], key: Buffer.from('kept'), expireAt: 0 },
    ];
    const st = await writeAll(entries);
    assert.equal(st.keysExpired, 2);
    assert.equal(st.keys, 1);
    assert.deepEqual(await tr.keys('*'), ['kept']);
  });

  describe('dump runs', () => {
    for (const [name, layout] of [
      ['key and dump', null],
      ['laid out as RESTOREs', RESTORE_RUN_LAYOUT],
    ] as const) {
      it(`restores every key of runs exactly; an expired key inside a run is skipped and counted (${name})`, async () => {
        const keys = [...srcEntries.dump];
        keys.splice(3, 0, { ...srcEntries.dump[0], key: Buffer.from('gone'), expireAt: Date.now() - 1000 });
        const st = await writeAll(packRuns(keys, 5, layout));
        assert.equal(st.keysExpired, 1);
        assert.equal(st.keys, srcEntries.dump.length);
        await assertSameData(src, tgt, { dbs: [0] });
      });

      it(`sends a run's plain strings as MSETs and its other keys as RESTOREs, in few ops (${name})`, async () => {
        const n = 20_000;
        const keys: KeyEntry[] = Array.from({ length: n }, (_, i) => ({
          ...srcEntries.dump[0],
          key: Buffer.from(`run:${i}`),
          type: 'string',
          rdbType: 0,
          expireAt: i % 3 === 0 ? Date.now() + 3_600_000 + i : 0,
          dump: stringDump(Buffer.from(`value-${i}`)),
        }));
        const withTtl = keys.filter((k) => k.expireAt > 0).length;
        await tr.config('RESETSTAT');
        const st = await writeAll(packRuns(keys, 4096, layout));
        assert.equal(st.keys, n);
        const calls = await commandCalls(tr);
        // Only the keys with a TTL need RESTORE; the others go as MSETs of hundreds of keys, one reply each.
        assert.equal(calls.restore, withTtl);
        assert.ok(calls.mset > 0 && calls.mset <= 100, `mset calls ${calls.mset}`);
        assert.equal(st.acked, withTtl + calls.mset);
        assert.ok(st.writes < 100, `writes ${st.writes}`);
        const got = await tr.mget(...keys.map((k) => k.key.toString()));
        for (const [i, v] of got.entries()) assert.equal(v, `value-${i}`);
        for (const i of [0, 3, 19_998]) assert.equal(await tr.pexpiretime(`run:${i}`), keys[i].expireAt);
        assert.equal(await tr.pttl('run:1'), -1);
      });

      it(`an error reply inside a run fails naming that key; the keys before it are written (${name})`, async () => {
        // With a TTL, so that they go as RESTOREs (plain strings go as MSETs, whose values carry no checksum).
        const keys: KeyEntry[] = Array.from({ length: 10 }, (_, i) => ({
          ...srcEntries.dump[0],
          key: Buffer.from(`k${i}`),
          type: 'string',
          rdbType: 0,
          expireAt: Date.now() + 3_600_000,
          dump: stringDump(Buffer.from(`v${i}`)),
        }));
        const bad = keys[6].dump as Buffer;
        bad[bad.length - 1] ^= 0xff; // CRC no longer matches: the target refuses this RESTORE only
        await assert.rejects(writeAll(packRuns(keys, 10, layout)), (err: TargetError) => {
          assert.equal(err.code, 'TARGET_ERR_REPLY');
          assert.equal(err.where.key, 'k6');
          assert.match(err.message, /checksum/);
          return true;
        });
        for (let i = 0; i < 6; i++) assert.equal(await tr.get(`k${i}`), `v${i}`);
      });
    }

    it('plain strings of every encoding go out as MSETs with their exact values', async () => {
      const sr = new Redis({ host: src.host, port: src.port });
      const values: [string, Buffer][] = [
        ['empty', Buffer.alloc(0)],
        ['int8', Buffer.from('-7')],
        ['int16', Buffer.from('-30000')],
        ['int32', Buffer.from('2147483647')],
        ['int32min', Buffer.from('-2147483648')],
        ['int64', Buffer.from('4294967296')], // beyond INT32: a raw string in the dump
        ['leading0', Buffer.from('007')], // not an integer's canonical text: raw
        ['lzf', Buffer.from('abc'.repeat(200))],
        ['lzfbig', Buffer.from('0123456789'.repeat(6000))], // 60 KB expanded
        ['binary', Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 151) & 0xff))],
        ['huge', Buffer.alloc(100_000, 'z')], // its pair passes an op's bytes: RESTORE
      ];
      const keys: KeyEntry[] = [];
      for (const [k, v] of values) {
        await sr.set(`enc:${k}`, v);
        const dump = await sr.dumpBuffer(`enc:${k}`);
        await sr.del(`enc:${k}`);
        keys.push({
          ...srcEntries.dump[0],
          key: Buffer.from(k),
          type: 'string',
          rdbType: 0,
          expireAt: 0,
          dump,
        });
      }
      sr.disconnect();
      // An LRU hint keeps a plain string on RESTORE (MSET cannot carry it).
      keys.push({ ...keys[1], key: Buffer.from('idle'), idle: 5000 });
      await tr.config('RESETSTAT');
      const st = await writeAll(packRuns(keys, 100, RESTORE_RUN_LAYOUT));
      assert.equal(st.keys, keys.length);
      const calls = await commandCalls(tr);
      assert.equal(calls.restore, 2);
      assert.equal(calls.mset, 1);
      // Before any read of the key, which resets its idle time.
      assert.ok(Number(await tr.object('IDLETIME', 'idle')) >= 5000);
      assert.equal(await tr.get('idle'), '-7');
      for (const [k, v] of values) assert.deepEqual(await tr.getBuffer(k), v, k);
      for (const k of ['int8', 'int16', 'int32', 'int32min'])
        assert.equal(await tr.object('ENCODING', k), 'int', `${k} is int-encoded as a RESTORE would make it`);
    });

    it('a target that refuses MSET (ACL, rename-command) gets the same keys as RESTOREs', async () => {
      const plain = (i: number): KeyEntry => ({
        ...srcEntries.dump[0],
        key: Buffer.from(`m${i}`),
        type: 'string',
        rdbType: 0,
        expireAt: 0,
        dump: stringDump(Buffer.from(`v${i}`.repeat(i % 7))),
      });
      const keys = Array.from({ length: 3000 }, (_, i) => plain(i));
      const check = async (r: Redis, st: { keys: number }) => {
        assert.equal(st.keys, keys.length);
        assert.equal(await r.dbsize(), keys.length);
        const got = await r.mget(...keys.map((k) => k.key.toString()));
        for (const [i, v] of got.entries()) assert.equal(v, `v${i}`.repeat(i % 7), `m${i}`);
      };
      // An ACL user without MSET; two runs, so the second starts after the refusal was seen (or not yet).
      await tr.acl('SETUSER', 'nomset', 'on', '>pw', '~*', '&*', '+@all', '-mset');
      try {
        await tr.config('RESETSTAT');
        const st = await writeAll(packRuns(keys, 1500, RESTORE_RUN_LAYOUT), {
          username: 'nomset',
          password: 'pw',
        });
        await check(tr, st);
        const calls = await commandCalls(tr);
        assert.equal(calls.restore, keys.length);
        assert.equal(calls.mset, 0);
      } finally {
        await tr.acl('DELUSER', 'nomset');
      }
      // A server where MSET is renamed away.
      const renamed = await startRedis({ args: ['--rename-command', 'MSET', ''] });
      const rr = new Redis({ host: renamed.host, port: renamed.port });
      try {
        const w = await TargetWriter.connect({ addrs: `${renamed.host}:${renamed.port}` });
        try {
          await w.write(packRuns(keys, 1500, RESTORE_RUN_LAYOUT));
          await w.flush();
          await check(rr, w.status());
        } finally {
          await w.close();
        }
      } finally {
        rr.disconnect();
        await renamed.stop();
      }
    });

    it('a plain string whose compressed value is corrupt fails with RDB_ERR_LZF naming the key', async () => {
      const good = { ...srcEntries.dump[0], type: 'string' as const, rdbType: 0, expireAt: 0 };
      // LZF of 10 bytes whose first token refers back before the output's start.
      const body = Buffer.from([0x00, 0xc3, 0x02, 0x0a, 0x20, 0x05, 10, 0]);
      const bad = Buffer.concat([body, Buffer.alloc(8)]);
      const keys: KeyEntry[] = [
        { ...good, key: Buffer.from('ok'), dump: stringDump(Buffer.from('fine')) },
        { ...good, key: Buffer.from('bad'), dump: bad },
      ];
      await assert.rejects(writeAll(packRuns(keys, 10, RESTORE_RUN_LAYOUT)), (err: TargetError) => {
        assert.equal(err.code, 'RDB_ERR_LZF');
        assert.equal(err.where.key, 'bad');
        assert.equal(err.where.db, 0);
        return true;
      });
    });

    it('under the skip policy and with a db map, runs take the per-key path', async () => {
      await tr.select(2);
      await tr.set('list', 'old');
      await tr.select(0);
      const keys = srcEntries.dump.map((e) => ({ ...e, db: 5 }));
      const st = await writeAll(packRuns(keys, 4), { onConflict: 'skip', dbMap: new Map([[5, 2]]) });
      assert.equal(st.keysSkipped, 1);
      assert.equal(st.keys, keys.length - 1);
      await tr.select(2);
      assert.equal(await tr.get('list'), 'old');
      assert.equal(await tr.dbsize(), keys.length);
      await tr.select(0);
      assert.equal(await tr.dbsize(), 0);
    });
  });

  it('maps dbs', async () => {
    const e = srcEntries.value.slice(0, 3).map((x) => ({ ...x, db: 5 }));
    await writeAll(e, { dbMap: new Map([[5, 2]]) });
    const snap = await dataOf(tgt);
    assert.deepEqual([...snap.keys()], [2]);
    assert.equal(snap.get(2)?.size, 3);
  });

  it('writes big keys arriving as pieces (200k list/hash/zset/set, 8 MB string via SET+SETRANGE)', async () => {
    const sr = new Redis({ host: src.host, port: src.port });
    const n = 200_000;
    const entries: Entry[] = [];
    const expireAt = Date.now() + 7_200_000;
    const pieces = <T>(all: T[], size: number) => {
      const out: T[][] = [];
      for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
      return out;
    };
    const items = Array.from({ length: n }, (_, i) => Buffer.from(`e${i}`));
    const scores = items.map((_, i) => i / 3);
    const push = (type: 'list' | 'set' | 'zset' | 'hash', key: string) => {
      const parts = pieces(
        items.map((_, i) => i),
        30_000,
      );
      parts.forEach((idx, p) => {
        const sel = idx.map((i) => items[i]);
        const value =
          type === 'list'
            ? { type, items: sel }
            : type === 'set'
              ? { type, members: sel }
              : type === 'zset'
                ? { type, members: sel, scores: idx.map((i) => scores[i]) }
                : { type, fields: sel, values: sel };
        const more = p < parts.length - 1;
        if (p === 0) {
          entries.push({
            kind: 'key',
            db: 0,
            key: Buffer.from(key),
            type,
            rdbType: 0,
            expireAt,
            idle: -1,
            freq: -1,
            dump: null,
            value,
            more,
          });
        } else entries.push({ kind: 'chunk', db: 0, key: Buffer.from(key), value, more });
      });
    };
    push('list', 'big:list');
    push('set', 'big:set');
    push('zset', 'big:zset');
    push('hash', 'big:hash');
    const str = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < str.length; i++) str[i] = (i * 31) & 0xff;
    const strParts = pieces([...Array(8).keys()], 1).map(([i]) =>
      str.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024),
    );
    strParts.forEach((value, p) => {
      const more = p < strParts.length - 1;
      const v = { type: 'string' as const, value };
      if (p === 0) {
        entries.push({
          kind: 'key',
          db: 0,
          key: Buffer.from('big:str'),
          type: 'string',
          rdbType: 0,
          expireAt: 0,
          idle: -1,
          freq: -1,
          dump: null,
          value: v,
          more,
        });
      } else entries.push({ kind: 'chunk', db: 0, key: Buffer.from('big:str'), value: v, more });
    });
    // The same data on the source, written natively, to compare with.
    await sr.select(9);
    for (const part of pieces(items, 10_000)) {
      await sr.rpush('big:list', ...part);
      await sr.sadd('big:set', ...part);
      await sr.zadd('big:zset', ...part.flatMap((m) => [scores[Number(String(m).slice(1))], m]));
      await sr.hset('big:hash', ...part.flatMap((m) => [m, m]));
    }
    for (const k of ['big:list', 'big:set', 'big:zset', 'big:hash']) await sr.pexpireat(k, expireAt);
    await sr.set('big:str', str);
    sr.disconnect();
    const st = await writeAll(entries, { maxInflightBytes: 4 * 1024 * 1024 });
    assert.equal(st.keys, 5);
    assert.ok(st.maxInflightBytesSeen <= 4 * 1024 * 1024);
    await assertSameData(await dataOf(src, [9]), await dataOf(tgt), { dbMap: new Map([[9, 0]]) });
  });

  describe('conflict policies', () => {
    const pick = (entries: KeyEntry[], name: string) =>
      entries.filter((e) => e.key.equals(Buffer.from(name)));
    for (const mode of ['dump', 'value'] as const) {
      it(`overwrite replaces an existing key (${mode})`, async () => {
        await tr.set('list', 'old');
        await writeAll(pick(srcEntries[mode], 'list'));
        assert.equal(await tr.type('list'), 'list');
        assert.equal(await tr.llen('list'), 3);
      });

      it(`skip keeps the existing key and counts it (${mode})`, async () => {
        await tr.set('list', 'old');
        const st = await writeAll([...pick(srcEntries[mode], 'list'), ...pick(srcEntries[mode], 'str')], {
          onConflict: 'skip',
        });
        assert.equal(await tr.get('list'), 'old');
        assert.equal(await tr.get('str'), 'hello');
        assert.equal(st.keysSkipped, 1);
        assert.equal(st.keys, 1);
      });

      it(`fail rejects with TARGET_ERR_BUSYKEY naming the key (${mode})`, async () => {
        await tr.set('list', 'old');
        await assert.rejects(
          writeAll(pick(srcEntries[mode], 'list'), { onConflict: 'fail' }),
          (err: TargetError) => {
            assert.equal(err.code, 'TARGET_ERR_BUSYKEY');
            assert.equal(err.where.key, 'list');
            return true;
          },
        );
        assert.equal(await tr.get('list'), 'old');
      });
    }
  });

  it('applies command streams: SELECT by entry db, MULTI/EXEC kept, binary args', async () => {
    const cmd = (db: number, ...argv: (string | Buffer)[]): Entry => ({
      kind: 'command',
      db,
      argv: argv.map((a) => (typeof a === 'string' ? Buffer.from(a) : a)),
    });
    const bin = Buffer.from([0, 1, 2, 255]);
    const st = await writeAll([
      cmd(0, 'SET', 'a', '1'),
      cmd(0, 'MULTI'),
      cmd(0, 'INCR', 'a'),
      cmd(0, 'RPUSH', 'l', bin),
      cmd(0, 'EXEC'),
      cmd(3, 'SELECT', '3'),
      cmd(3, 'SET', bin, bin),
      cmd(0, 'MULTI'),
      cmd(0, 'SET', 'discarded', '1'),
      cmd(0, 'DISCARD'),
      cmd(0, 'DEL', 'nothing', 'a'),
      cmd(0, 'SET', 'a', '3'),
    ]);
    assert.equal(await tr.get('a'), '3');
    assert.deepEqual(await tr.lrangeBuffer('l', 0, -1), [bin]);
    assert.equal(await tr.exists('discarded'), 0);
    await tr.select(3);
    assert.deepEqual(await tr.getBuffer(bin), bin);
    await tr.select(0);
    assert.ok(st.acked > 0);
  });

  it('loads functions and scripts', async () => {
    const code = "#!lua name=mylib\nredis.register_function('hello', function() return 'hi' end)";
    await writeAll([
      { kind: 'function', code: Buffer.from(code) },
      { kind: 'function', code: Buffer.from(code) }, // REPLACE: loading twice is fine
      { kind: 'script', body: Buffer.from("return 'x'") },
    ]);
    assert.equal(await tr.call('FCALL', 'hello', '0'), 'hi');
    assert.deepEqual(await tr.script('EXISTS', '2e4b2b1e5e8d0b9e0b5b2b1b1d4b0e4d9c4b8f6a'), [0]);
    await tr.call('FUNCTION', 'FLUSH');
  });

  it('keeps in-flight bytes and commands within tiny bounds, batching writes', async () => {
    const st = await writeAll(srcEntries.value, {
      maxInflightBytes: 16 * 1024,
      maxInflightCommands: 32,
      bigValueChunkBytes: 2048,
    });
    await assertSameData(src, tgt, { dbs: [0] });
    assert.ok(st.maxInflightBytesSeen <= 16 * 1024, `bytes seen ${st.maxInflightBytesSeen}`);
    assert.ok(st.maxInflightCommandsSeen <= 32, `commands seen ${st.maxInflightCommandsSeen}`);
    assert.ok(st.writes * 3 < st.commands, `writes ${st.writes} commands ${st.commands}`);
    assert.equal(st.inflightBytes, 0);
    assert.equal(st.inflightCommands, 0);
  });
});

describe('TargetWriter errors and auth', () => {
  it('authenticates with a password and with an ACL user; wrong password → TARGET_ERR_AUTH', async () => {
    const s = await startRedis({ password: 'sekret' });
    try {
      const addrs = `${s.host}:${s.port}`;
      const w = await TargetWriter.connect({ addrs, password: 'sekret' });
      await w.close();
      await s.cli('ACL', 'SETUSER', 'mig', 'on', '>pw', '~*', '+@all');
      const w2 = await TargetWriter.connect({ addrs, username: 'mig', password: 'pw' });
      await w2.write([
        { kind: 'command', db: 0, argv: [Buffer.from('SET'), Buffer.from('k'), Buffer.from('v')] },
      ]);
      await w2.flush();
      await w2.close();
      assert.equal(await s.cli('GET', 'k'), 'v');
      for (const opts of [{ password: 'nope' }, { username: 'ghost', password: 'pw' }, {}]) {
        await assert.rejects(TargetWriter.connect({ addrs, ...opts }), (err: TargetError) => {
          assert.equal(err.code, 'TARGET_ERR_AUTH', err.message);
          assert.equal(err.where.node, addrs);
          return true;
        });
      }
      await s.cli('ACL', 'SETUSER', 'ro', 'on', '>pw', '~*', '+get', '+ping', '+info');
      const w3 = await TargetWriter.connect({ addrs, username: 'ro', password: 'pw' });
      await w3.write([
        { kind: 'command', db: 0, argv: [Buffer.from('SET'), Buffer.from('k'), Buffer.from('v')] },
      ]);
      await assert.rejects(w3.flush(), (err: TargetError) => err.code === 'TARGET_ERR_NOPERM');
      await w3.close().catch(() => {});
    } finally {
      await s.stop();
    }
  });

  it('unreachable target → TARGET_ERR_CONNECT', async () => {
    await assert.rejects(
      TargetWriter.connect({ addrs: '127.0.0.1:1', connectTimeoutMs: 2000 }),
      (err: TargetError) => err.code === 'TARGET_ERR_CONNECT' && /127\.0\.0\.1:1/.test(err.message),
    );
  });

  it('OOM from the target → TARGET_ERR_OOM, not retried', async () => {
    const s = await startRedis({ args: ['--maxmemory', '1mb', '--maxmemory-policy', 'noeviction'] });
    try {
      const w = await TargetWriter.connect({ addrs: `${s.host}:${s.port}` });
      const big = Buffer.alloc(100_000, 0x61);
      const entries: Entry[] = Array.from({ length: 40 }, (_, i) => ({
        kind: 'command' as const,
        db: 0,
        argv: [Buffer.from('SET'), Buffer.from(`k${i}`), big],
      }));
      await assert.rejects(
        (async () => {
          for (const e of entries) await w.write([e]);
          await w.flush();
        })(),
        (err: TargetError) => err.code === 'TARGET_ERR_OOM' && err.where.reply === 'OOM',
      );
      assert.equal(w.status().retries, 0);
      await w.close().catch(() => {});
    } finally {
      await s.stop();
    }
  });
});

describe('TargetWriter entry edge cases', () => {
  let tgt: RedisServer;
  let tr: Redis;
  before(async () => {
    tgt = await startRedis({ args: ['--maxmemory-policy', 'allkeys-lfu'] });
    tr = new Redis({ host: tgt.host, port: tgt.port });
  });
  after(async () => {
    tr.disconnect();
    await tgt.stop();
  });

  const base = (key: string, over: Partial<KeyEntry>): KeyEntry => ({
    kind: 'key',
    db: 0,
    key: Buffer.from(key),
    type: 'string',
    rdbType: 0,
    expireAt: 0,
    idle: -1,
    freq: -1,
    dump: null,
    value: null,
    more: false,
    ...over,
  });

  async function attempt(entries: Entry[]) {
    const w = await TargetWriter.connect({ addrs: `${tgt.host}:${tgt.port}` });
    try {
      await w.write(entries);
      await w.flush();
    } finally {
      await w.close().catch(() => {});
    }
  }

  it('passes FREQ to RESTORE', async () => {
    await tr.set('tmp', 'v');
    const dump = (await tr.dumpBuffer('tmp')) as Buffer;
    await attempt([base('lfu', { dump, freq: 200 })]);
    assert.ok(Number(await tr.object('FREQ', 'lfu')) >= 190);
  });

  it('falls back to the decoded value when the dump is too new for the target', async () => {
    await tr.set('tmp', 'v');
    const dump = Buffer.from((await tr.dumpBuffer('tmp')) as Buffer);
    dump.writeUInt16LE(12, dump.length - 10); // as if written by Redis 7.4
    await attempt([base('newer', { dump, value: { type: 'string', value: Buffer.from('decoded') } })]);
    assert.equal(await tr.get('newer'), 'decoded');
  });

  it('a dump the target cannot restore is decoded: a damaged one fails naming the key', async () => {
    const dump = Buffer.concat([Buffer.from([25]), Buffer.alloc(20)]);
    await assert.rejects(attempt([base('hfe', { dump, rdbType: 25, type: 'hash' })]), (err: TargetError) => {
      assert.equal(err.code, 'RDB_ERR_CHECKSUM');
      assert.equal(err.where.key, 'hfe');
      return true;
    });
  });

  it('a hash with field TTLs from a DUMP, on a target without HPEXPIREAT → TARGET_ERR_UNSUPPORTED', async () => {
    // Redis 7.4's DUMPs of such hashes (types 24 and 25, RDB 12), as a key-by-key copy would read them.
    const keys: KeyEntry[] = [];
    for (const f of ['hdt3213-rdb/hash_with_hfe.rdb', 'hdt3213-rdb/hash_as_listpack_with_hfe.rdb']) {
      const { entries } = parseChunks([fixture(f)], { dumpable: () => true });
      keys.push(...entries.filter((e): e is KeyEntry => e.kind === 'key' && e.dump !== null));
    }
    assert.deepEqual(
      keys.map((k) => k.dump?.[0]),
      [24, 25],
    );
    await assert.rejects(attempt(keys.map((k) => ({ ...k, expireAt: 0 }))), (err: TargetError) => {
      assert.equal(err.code, 'TARGET_ERR_UNSUPPORTED');
      assert.match(err.message, /hash field TTLs need a target with HPEXPIREAT/);
      return true;
    });
  });

  it('hash field TTLs on a target without HPEXPIREAT → TARGET_ERR_UNSUPPORTED (never dropped silently)', async () => {
    const value = {
      type: 'hash' as const,
      fields: [Buffer.from('f')],
      values: [Buffer.from('v')],
      expires: [Date.now() + 1e6],
    };
    await assert.rejects(
      attempt([base('hf', { type: 'hash', value })]),
      (err: TargetError) => err.code === 'TARGET_ERR_UNSUPPORTED',
    );
  });

  it('a chunk without its key → TARGET_ERR_SEQUENCE', async () => {
    await assert.rejects(
      attempt([
        { kind: 'chunk', db: 0, key: Buffer.from('x'), value: { type: 'list', items: [] }, more: false },
      ]),
      (err: TargetError) => err.code === 'TARGET_ERR_SEQUENCE',
    );
  });
});

/**
 * Calls per command that did not fail, since the last CONFIG RESETSTAT (INFO commandstats): the writer's RESTORE
 * probe on connecting is a call that fails by design.
 */
async function commandCalls(r: Redis): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await r.info('commandstats')).matchAll(
    /^cmdstat_([^:]+):calls=(\d+).*failed_calls=(\d+)/gm,
  ))
    out[m[1]] = Number(m[2]) - Number(m[3]);
  return new Proxy(out, { get: (o, k) => (typeof k === 'string' ? (o[k] ?? 0) : undefined) });
}
