/**
 * Cluster target (3 masters): routing by slot, MOVED after a slot changes owner mid-run, ASK during a slot
 * migration, db 0 only, command streams split per slot, functions on every master.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Entry, KeyEntry } from '../../src/entry.ts';
import { keySlot, type TargetError, TargetWriter } from '../../src/target/index.ts';
import { assertSameData, dataOf, dataOfAll } from '../helpers/compare.ts';
import { type RedisCluster, type RedisServer, startCluster, startRedis } from '../helpers/redis-server.ts';
import { populate } from './fixtures.ts';
import { entriesOf, inPieces } from './source-entries.ts';

const b = (s: string) => Buffer.from(s);

describe('TargetWriter on a cluster target', () => {
  let cluster: RedisCluster;
  let src: RedisServer;
  let clients: Redis[];
  let ids: string[];

  before(async () => {
    [cluster, src] = await Promise.all([startCluster(3), startRedis()]);
    await populate(src);
    const sr = new Redis({ host: src.host, port: src.port });
    for (let i = 0; i < 3000; i += 500) {
      await sr.mset(
        Object.fromEntries(Array.from({ length: 500 }, (_, j) => [`spread:${i + j}`, `v${i + j}`])),
      );
    }
    sr.disconnect();
    clients = cluster.nodes.map((n) => new Redis({ host: n.host, port: n.port }));
    ids = await Promise.all(clients.map((c) => c.call('CLUSTER', 'MYID') as Promise<string>));
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    await Promise.all([cluster.stop(), src.stop()]);
  });
  beforeEach(async () => {
    await Promise.all(clients.map((c) => c.flushall()));
  });

  /** Index of the node owning a slot (per CLUSTER SLOTS of node 0). */
  async function ownerOf(slot: number): Promise<number> {
    const slots = (await clients[0].call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const r = slots.find(([from, to]) => slot >= from && slot <= to);
    return cluster.nodes.findIndex((n) => n.port === Number(r?.[2][1]));
  }

  async function write(entries: Entry[], opts: Partial<Parameters<typeof TargetWriter.connect>[0]> = {}) {
    const w = await TargetWriter.connect({ addrs: cluster.addrs, ...opts });
    try {
      await w.write(entries);
      await w.flush();
      return w.status();
    } finally {
      await w.close();
    }
  }

  for (const mode of ['dump', 'value'] as const) {
    it(`routes keys of every slot to their master (${mode}, auto-detected cluster)`, async () => {
      const w = await TargetWriter.connect({ addrs: `${cluster.nodes[1].host}:${cluster.nodes[1].port}` });
      assert.equal(w.capabilities.cluster, true);
      const entries = await entriesOf(src, { mode });
      await w.write(mode === 'value' ? entries.flatMap((e) => inPieces(e, 50)) : entries);
      await w.flush();
      const st = w.status();
      await w.close();
      assert.equal(st.keys, entries.length);
      await assertSameData(src, await dataOfAll(cluster.nodes));
      const counts = await Promise.all(clients.map((c) => c.dbsize()));
      assert.ok(
        counts.every((n) => n > 500),
        `keys per node ${counts}`,
      );
    });
  }

  it('follows MOVED when a slot changes owner after the map was loaded', async () => {
    const w = await TargetWriter.connect({ addrs: cluster.addrs });
    const key = b('moved-key-1');
    const slot = keySlot(key);
    const from = await ownerOf(slot);
    const to = (from + 1) % 3;
    // Move the (empty) slot the documented way: IMPORTING/MIGRATING, then the new owner first (which bumps its
    // config epoch, so gossip cannot hand the slot back), then everyone else.
    await clients[to].call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', ids[from]);
    await clients[from].call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', ids[to]);
    await clients[to].call('CLUSTER', 'SETSLOT', String(slot), 'NODE', ids[to]);
    for (const i of [from, (from + 2) % 3])
      await clients[i].call('CLUSTER', 'SETSLOT', String(slot), 'NODE', ids[to]);
    const entries: Entry[] = [];
    for (let i = 0; i < 50; i++) {
      entries.push({ kind: 'command', db: 0, argv: [b('RPUSH'), key, b(String(i))] });
    }
    const ke: KeyEntry = {
      kind: 'key',
      db: 0,
      key: b('{moved-key-1}:h'),
      type: 'hash',
      rdbType: 0,
      expireAt: 0,
      idle: -1,
      freq: -1,
      dump: null,
      value: { type: 'hash', fields: [b('f')], values: [b('v')] },
      more: false,
    };
    await w.write([...entries, ke]);
    await w.flush();
    const st = w.status();
    await w.close();
    assert.ok(st.retries > 0, 'a redirect was followed');
    assert.deepEqual(
      await clients[to].lrange(key, 0, -1),
      Array.from({ length: 50 }, (_, i) => String(i)),
    );
    assert.equal(await clients[to].hget('{moved-key-1}:h', 'f'), 'v');
  });

  it('follows ASK during a slot migration', async () => {
    const key = b('ask-key-7');
    const slot = keySlot(key);
    const from = await ownerOf(slot);
    const to = (from + 1) % 3;
    await clients[to].call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', ids[from]);
    await clients[from].call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', ids[to]);
    try {
      const st = await write([
        {
          kind: 'key',
          db: 0,
          key,
          type: 'list',
          rdbType: 0,
          expireAt: 0,
          idle: -1,
          freq: -1,
          dump: null,
          value: { type: 'list', items: [b('a'), b('b')] },
          more: true,
        },
        { kind: 'chunk', db: 0, key, value: { type: 'list', items: [b('c')] }, more: false },
      ]);
      assert.ok(st.retries > 0, 'ASK followed');
      assert.equal(st.keys, 1);
    } finally {
      for (const c of clients) await c.call('CLUSTER', 'SETSLOT', String(slot), 'NODE', ids[to]);
    }
    assert.deepEqual(await clients[to].lrange(key, 0, -1), ['a', 'b', 'c']);
    assert.equal(await clients[from].call('CLUSTER', 'COUNTKEYSINSLOT', String(slot)), 0);
  });

  it('rejects entries for a db other than 0 with TARGET_ERR_CLUSTER_DB, unless mapped to 0', async () => {
    const e: Entry = { kind: 'command', db: 3, argv: [b('SET'), b('x'), b('1')] };
    await assert.rejects(
      write([e]),
      (err: TargetError) => err.code === 'TARGET_ERR_CLUSTER_DB' && err.where.db === 3,
    );
    await write([e], { dbMap: new Map([[3, 0]]) });
    const owner = await ownerOf(keySlot(b('x')));
    assert.equal(await clients[owner].get('x'), '1');
  });

  it('splits multi-key stream commands per slot and refuses unsplittable cross-slot ones', async () => {
    const cmd = (...argv: string[]): Entry => ({ kind: 'command', db: 0, argv: argv.map(b) });
    await write([
      cmd('MSET', 'a', '1', 'b', '2', 'c', '3', 'd', '4'),
      cmd('DEL', 'a', 'c'),
      cmd('MULTI'),
      cmd('SET', '{t}1', 'x'),
      cmd('SET', '{t}2', 'y'),
      cmd('EXEC'),
      cmd('RENAME', '{t}1', '{t}3'),
    ]);
    const all = await dataOfAll(cluster.nodes);
    assert.deepEqual([...(all.get(0)?.keys() ?? [])].sort(), ['b', 'd', '{t}2', '{t}3']);
    await assert.rejects(write([cmd('RENAME', 'b', 'd')]), (err: TargetError) => {
      assert.equal(err.code, 'TARGET_ERR_CROSSSLOT');
      assert.match(err.message, /RENAME/);
      return true;
    });
  });

  it('loads functions on every master', async () => {
    const code = "#!lua name=clib\nredis.register_function('cf', function() return 1 end)";
    await write([{ kind: 'function', code: b(code) }]);
    for (const c of clients) assert.equal(await c.call('FCALL', 'cf', '0'), 1);
    await Promise.all(clients.map((c) => c.call('FUNCTION', 'FLUSH')));
  });

  it('compares equal to itself through dataOf on one node', async () => {
    const snap = await dataOf(cluster.nodes[0]);
    assert.equal(snap.size, 0);
  });
});
