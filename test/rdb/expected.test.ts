/**
 * Decoded data equals the expected contents the fixture sources ship: HDT3213/rdb `X.json` dumps, badboy/rdb-rs
 * `json/X.json`, and redis/librdb `X_data.json` (data level). Keys, values, expiries and field TTLs.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Entry } from '../../src/entry.ts';
import {
  FIXTURES_DIR,
  fixture,
  type MergedKey,
  manifest,
  mergeKeys,
  parseChunks,
} from '../helpers/rdb-fixtures.ts';

const u = (b: Buffer) => b.toString('utf8');
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** rdb-rs prints valid UTF-8 as text and anything else byte by byte (latin1). */
const rs = (b: Buffer) => {
  try {
    return strictUtf8.decode(b);
  } catch {
    return b.toString('latin1');
  }
};
/** librdb prints -0 scores as 0. */
const z = (n: number) => (n === 0 ? 0 : n);

function decode(rel: string): { keys: MergedKey[]; entries: Entry[]; aux: Record<string, string> } {
  const { entries, parser } = parseChunks([fixture(rel)]);
  return { keys: mergeKeys(entries), entries, aux: parser.status().aux };
}

const sid = (id: { ms: bigint; seq: bigint }) => `${id.ms}-${id.seq}`;

/** Our merged key in the shape of an HDT3213/rdb JSON object (only the fields it defines). */
function hdtShape(k: MergedKey, want: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = { db: k.db, key: u(k.key), type: k.type };
  if (k.expireAt) o.expiration = k.expireAt;
  switch (k.type) {
    case 'string':
      o.value = u(k.string!);
      break;
    case 'list':
      o.values = k.list!.map(u);
      break;
    case 'set':
      o.members = k.set!.map(u);
      break;
    case 'zset':
      o.entries = k.zset!.members.map((m, i) => ({ member: u(m), score: k.zset!.scores[i] }));
      break;
    case 'hash': {
      const h: Record<string, string> = {};
      const ex: Record<string, number> = {};
      k.hash!.fields.forEach((f, i) => {
        h[u(f)] = u(k.hash!.values[i]);
        ex[u(f)] = k.hash!.expires[i];
      });
      o.hash = h;
      if (want.expire) o.expire = ex;
      break;
    }
    case 'stream': {
      const meta = k.stream!.meta!;
      o.msgs = k.stream!.entries.map((e) => {
        const f: Record<string, string> = {};
        for (let i = 0; i < e.fields.length; i += 2) f[u(e.fields[i])] = u(e.fields[i + 1]);
        return { id: sid(e.id), fields: f };
      });
      o.len = meta.length;
      o.lastId = sid(meta.lastId);
      if (want.firstId !== undefined) o.firstId = meta.firstId ? sid(meta.firstId) : undefined;
      if (want.maxDeletedId !== undefined)
        o.maxDeletedId = meta.maxDeletedId ? sid(meta.maxDeletedId) : undefined;
      if (want.addedEntriesCount !== undefined) o.addedEntriesCount = meta.entriesAdded;
      if (want.groups !== undefined) {
        o.groups = meta.groups.map((g) => ({
          name: u(g.name),
          lastId: sid(g.lastId),
          pending: [...g.pending].map((p) => ({
            id: sid(p.id),
            deliveryTime: p.deliveryTime,
            deliveryCount: p.deliveryCount,
          })),
          consumers: g.consumers.map((c) => ({
            name: u(c.name),
            seenTime: c.seenTime,
            pending: [...g.pending].filter((p) => p.consumer?.equals(c.name)).map((p) => sid(p.id)),
            // Files before STREAM_LISTPACKS_3 have no active time (-1 here); HDT3213 uses seen time like Redis.
            activeTime: c.activeTime >= 0 ? c.activeTime : c.seenTime,
          })),
          // Pre-7.0 files store no entries-read; the decoder reports Redis' load-time estimate, HDT3213 nothing.
          ...(g.entriesRead >= 0 && k.rdbType >= 19 ? { entriesRead: g.entriesRead } : {}),
        }));
      }
      break;
    }
  }
  return o;
}

function hdtWant(w: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = { db: w.db, key: w.key, type: w.type };
  if (w.expiration) o.expiration = Date.parse(String(w.expiration));
  for (const f of [
    'value',
    'values',
    'members',
    'entries',
    'hash',
    'expire',
    'len',
    'lastId',
    'firstId',
    'maxDeletedId',
    'addedEntriesCount',
  ]) {
    if (w[f] !== undefined) o[f] = w[f];
  }
  if (w.type === 'stream') {
    const nodes = (w.entries ?? []) as {
      msgs: { id: string; fields: Record<string, string>; deleted: boolean }[];
    }[];
    o.msgs = nodes.flatMap((n) =>
      n.msgs.filter((m) => !m.deleted).map((m) => ({ id: m.id, fields: m.fields })),
    );
    delete o.entries;
    if (w.groups !== undefined) {
      o.groups = (w.groups as Record<string, unknown>[]).map((g) => ({
        ...g,
        pending: ((g.pending ?? []) as Record<string, unknown>[]).map((p) => ({
          id: p.id,
          deliveryTime: p.deliveryTime,
          deliveryCount: p.deliveryCount,
        })),
        consumers: ((g.consumers ?? []) as Record<string, unknown>[]).map((c) => ({
          ...c,
          pending: c.pending ?? [],
        })),
      }));
    }
  }
  return o;
}

describe('HDT3213/rdb expected JSON', () => {
  const files = manifest().filter((f) => f.path.startsWith('hdt3213-rdb/') && f.path.endsWith('.rdb'));
  for (const f of files) {
    const jsonPath = join(FIXTURES_DIR, f.path.replace(/\.rdb$/, '.json'));
    if (!existsSync(jsonPath) || f.path.endsWith('zipmap_big_len.rdb')) continue;
    test(f.path, () => {
      const want = JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, unknown>[];
      const { keys, entries } = decode(f.path);
      const wantKeys = want.filter((w) => w.type !== 'aux' && w.type !== 'functions');
      assert.equal(keys.length, wantKeys.length, 'key count');
      for (let i = 0; i < keys.length; i++) {
        assert.deepEqual(hdtShape(keys[i], wantKeys[i]), hdtWant(wantKeys[i]), `key ${u(keys[i].key)}`);
      }
      const fn = want.filter((w) => w.type === 'functions').map((w) => w.functionsLua);
      const got = entries.filter((e) => e.kind === 'function').map((e) => u(e.code));
      assert.deepEqual(got, fn);
    });
  }
});

describe('rdb-rs expected JSON', () => {
  const files = manifest().filter((f) => f.path.startsWith('rdb-rs/json/'));
  for (const f of files) {
    const name = f.path.slice('rdb-rs/json/'.length).replace(/\.json$/, '.rdb');
    const candidates = [`rdb-rs/${name}`, `redis-rdb-tools/${name}`, `hdt3213-rdb/${name}`];
    const rdb = candidates.find((c) => existsSync(join(FIXTURES_DIR, c)));
    if (!rdb) continue;
    test(`${f.path} ← ${rdb}`, () => {
      const want = JSON.parse(readFileSync(join(FIXTURES_DIR, f.path), 'utf8')) as Record<string, unknown>[];
      const { keys } = decode(rdb);
      const dbs: Record<string, unknown>[] = [];
      let lastDb = -1;
      for (const k of keys) {
        if (k.db !== lastDb) {
          dbs.push({});
          lastDb = k.db;
        }
        const o = dbs[dbs.length - 1];
        const name = rs(k.key);
        if (k.type === 'string') o[name] = rs(k.string!);
        else if (k.type === 'list') o[name] = k.list!.map(rs);
        else if (k.type === 'set') o[name] = k.set!.map(rs);
        else if (k.type === 'hash')
          o[name] = Object.fromEntries(k.hash!.fields.map((fl, i) => [rs(fl), rs(k.hash!.values[i])]));
        else if (k.type === 'zset')
          o[name] = Object.fromEntries(k.zset!.members.map((m, i) => [rs(m), k.zset!.scores[i]]));
      }
      const norm = want.map((db) =>
        Object.fromEntries(
          Object.entries(db).map(([key, v]) => [
            key,
            v &&
            typeof v === 'object' &&
            !Array.isArray(v) &&
            Object.values(v).every((s) => typeof s === 'string' && /^[-+]?(inf|\d|\.)/.test(s as string)) &&
            dbsType(keys, key) === 'zset'
              ? Object.fromEntries(
                  Object.entries(v).map(([m, s]) => [
                    m,
                    Number(String(s).replace(/^([-+]?)inf$/, '$1Infinity')),
                  ]),
                )
              : v,
          ]),
        ),
      );
      assert.deepEqual(dbs, norm);
    });
  }
});

function dbsType(keys: MergedKey[], name: string): string | undefined {
  return keys.find((k) => u(k.key) === name)?.type;
}

/** librdb data-level JSON: fragments of `"key": value` (or an array of them per db); zset scores as text. */
function librdbParse(text: string): Record<string, unknown>[] {
  const t = text.trim();
  const parsed = t.startsWith('[') ? JSON.parse(t) : [JSON.parse(`{${t.replace(/,\s*$/, '')}}`)];
  return parsed as Record<string, unknown>[];
}

const LIBRDB: Record<string, string> = {
  'librdb/hash_lp_v11_data.json': 'librdb/hash_lp_v11.rdb',
  'librdb/hash_zl_v6_data.json': 'librdb/hash_zl_v6.rdb',
  'librdb/hash_zm_v2_data.json': 'librdb/hash_zm_v2.rdb',
  'librdb/hash_data.json': 'librdb/hash_v3.rdb',
  'librdb/hash_ex_v12_data.json': 'librdb/hash_with_expire_v12.rdb',
  'librdb/hash_lp_ex_v12_data.json': 'librdb/hash_lp_with_hexpire_v12.rdb',
  'librdb/plain_list_v6_data.json': 'librdb/plain_list_v6.rdb',
  'librdb/plain_set_v6_data.json': 'librdb/plain_set_v6.rdb',
  'librdb/plain_zset_v6_data.json': 'librdb/plain_zset_v6.rdb',
  'librdb/plain_zset_2_v11_data.json': 'librdb/plain_zset_2_v11.rdb',
  'librdb/quicklist_data.json': 'librdb/quicklist.rdb',
  'librdb/single_list_data.json': 'librdb/quicklist2_v11.rdb',
  'librdb/set_is_v11_data.json': 'librdb/set_is_v11.rdb',
  'librdb/set_lp_v11_data.json': 'librdb/set_lp_v11.rdb',
  'librdb/single_key_data.json': 'librdb/single_key.rdb',
  'librdb/multiple_dbs_data.json': 'librdb/multiple_dbs.rdb',
  'librdb/multiple_lists_strings_data.json': 'librdb/multiple_lists_strings.rdb',
  'librdb/zset_lp_v11_data.json': 'librdb/zset_lp_v11.rdb',
  'librdb/zset_zl_v6_data.json': 'librdb/zset_zl_v6.rdb',
  'librdb/ziplist_data.json': 'librdb/ziplist_v3.rdb',
  'librdb/stream_data.json': 'librdb/stream_v11.rdb',
  'librdb/string_int_encoded.json': 'librdb/string_int_encoded.rdb',
  'librdb/mem_policy_lru.json': 'librdb/mem_policy_lru.rdb',
  'librdb/mem_policy_lfu.json': 'librdb/mem_policy_lfu.rdb',
  'librdb/cluster_slot_info.json': 'librdb/cluster_slot_info.rdb',
};

describe('librdb expected data JSON', () => {
  for (const [jsonRel, rdbRel] of Object.entries(LIBRDB)) {
    const jsonPath = join(FIXTURES_DIR, jsonRel);
    if (!existsSync(jsonPath) || !existsSync(join(FIXTURES_DIR, rdbRel))) continue;
    test(`${jsonRel} ← ${rdbRel}`, () => {
      const want = librdbParse(readFileSync(jsonPath, 'utf8'));
      const { keys, aux } = decode(rdbRel);
      const got: Record<string, unknown>[] = [];
      let lastDb = -1;
      for (const k of keys) {
        if (k.db !== lastDb || got.length === 0) {
          got.push({});
          lastDb = k.db;
        }
        const o = got[got.length - 1];
        const name = u(k.key);
        if (k.type === 'string') o[name] = u(k.string!);
        else if (k.type === 'list') o[name] = k.list!.map(u);
        else if (k.type === 'set') o[name] = k.set!.map(u).sort();
        else if (k.type === 'hash')
          o[name] = Object.fromEntries(k.hash!.fields.map((fl, i) => [u(fl), u(k.hash!.values[i])]));
        else if (k.type === 'zset')
          o[name] = Object.fromEntries(k.zset!.members.map((m, i) => [u(m), z(k.zset!.scores[i])]));
        else if (k.type === 'stream') {
          o[name] = {
            entries: k.stream!.entries.map((e) => {
              const items: Record<string, string> = {};
              for (let i = 0; i < e.fields.length; i += 2) items[u(e.fields[i])] = u(e.fields[i + 1]);
              return { id: sid(e.id), items };
            }),
          };
        }
      }
      const norm = want.map((db) => {
        const o: Record<string, unknown> = {};
        for (const [key, v] of Object.entries(db)) {
          if (key === '__aux__') {
            for (const [ak, av] of Object.entries(v as Record<string, string>))
              assert.equal(aux[ak], av, `aux ${ak}`);
            continue;
          }
          if (key.startsWith('__')) continue; // __func__, __dbsize__, __slotinfo__
          const type = dbsType(keys, key);
          if (type === 'set') o[key] = (v as string[]).slice().sort();
          else if (type === 'zset') {
            o[key] = Object.fromEntries(
              Object.entries(v as Record<string, string>).map(([m, s]) => [
                m,
                Number(s.replace(/^([-+]?)inf$/, '$1Infinity')),
              ]),
            );
          } else o[key] = v;
        }
        return o;
      });
      assert.deepEqual(
        got.filter((g) => Object.keys(g).length),
        norm.filter((g) => Object.keys(g).length),
      );
    });
  }
});
