import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { formatScore, KeyRewriter, keySlot, makeCapabilities, rdbVersionOf } from '../../src/target/index.ts';
import { startRedis } from '../helpers/redis-server.ts';

describe('keySlot', () => {
  it('matches CLUSTER KEYSLOT, hashtags included', async () => {
    const s = await startRedis({ cluster: true }); // CLUSTER KEYSLOT needs cluster mode (no slots needed)
    const r = new Redis({ host: s.host, port: s.port });
    try {
      const keys = [
        'foo',
        '',
        '{user1000}.following',
        '{user1000}.followers',
        '{}foo',
        'foo{}{bar}',
        'a{b',
        '{a}}b',
      ];
      keys.push(String.fromCharCode(0, 255, 128));
      for (const k of keys) {
        const key = Buffer.from(k, 'latin1');
        assert.equal(keySlot(key), await r.call('CLUSTER', 'KEYSLOT', key), k);
      }
      assert.equal(keySlot(Buffer.from('foo')), 12182);
      assert.equal(
        keySlot(Buffer.from('{user1000}.following')),
        keySlot(Buffer.from('{user1000}.followers')),
      );
    } finally {
      r.disconnect();
      await s.stop();
    }
  });
});

describe('capabilities', () => {
  it('maps redis_version to the RDB version', () => {
    const table: [string, number][] = [
      ['2.8.24', 6],
      ['3.0.7', 6],
      ['3.2.12', 7],
      ['4.0.14', 8],
      ['5.0.14', 9],
      ['6.2.14', 9],
      ['7.0.15', 10],
      ['7.2.5', 11],
      ['7.4.2', 12],
      ['8.0.2', 12],
      ['8.4.0', 12],
      ['8.6.0', 13],
    ];
    for (const [v, rdb] of table) assert.equal(rdbVersionOf(v.split('.').map(Number), false), rdb, v);
    assert.equal(rdbVersionOf([8, 1, 0], true), 11);
    assert.equal(rdbVersionOf([9, 0, 0], true), 80);
  });

  it('knows which type bytes a target can RESTORE', () => {
    const r70 = makeCapabilities('7.0.15', false, false);
    const r74 = makeCapabilities('7.4.1', false, false);
    const r50 = makeCapabilities('5.0.14', false, false);
    const v9 = makeCapabilities('7.2.4', true, false, '9.0.0');
    assert.deepEqual(
      [0, 5, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26].map((t) => r70.dumpable(t, 'redis')),
      [true, true, true, true, true, true, true, false, false, false, false, false, false, false],
    );
    assert.equal(r74.dumpable(25, 'redis'), true);
    assert.equal(r74.dumpable(26, 'redis'), false);
    assert.equal(r74.dumpable(22, 'valkey'), false);
    assert.equal(r50.dumpable(15, 'redis'), true);
    assert.equal(r50.dumpable(16, 'redis'), false);
    assert.equal(r50.restoreAbsTtl, true);
    assert.equal(makeCapabilities('4.0.14', false, false).restoreAbsTtl, false);
    assert.equal(v9.dumpable(22, 'valkey'), true);
    assert.equal(v9.dumpable(24, 'redis'), false);
    assert.equal(v9.dumpable(20, 'redis'), true);
    assert.equal(v9.hashFieldTtl, true);
    assert.equal(r74.hashFieldTtl, true);
    assert.equal(r70.functions, true);
    assert.equal(makeCapabilities('6.2.14', false, false).functions, false);
  });
});

describe('rewrite', () => {
  it('formats scores exactly', () => {
    assert.deepEqual(
      [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0.1, 1e300, 5e-324, -1.5].map(formatScore),
      ['inf', '-inf', '-0', '0.1', '1e+300', '5e-324', '-1.5'],
    );
  });

  it('cuts values into commands of about chunkBytes and uses HMSET before 4.0', () => {
    const f = { hsetMulti: false, streamMeta: false, createConsumer: false, hashFieldTtl: false };
    const rw = new KeyRewriter(Buffer.from('h'), 'hash', f, 100);
    const fields = Array.from({ length: 50 }, (_, i) => Buffer.from(`field-${i}`));
    const cmds = [...rw.begin(), ...rw.piece({ type: 'hash', fields, values: fields })];
    assert.equal(cmds[0].argv[0], 'DEL');
    assert.ok(cmds.length > 5);
    assert.ok(cmds.slice(1).every((c) => c.argv[0] === 'HMSET'));
    assert.equal(
      cmds.slice(1).reduce((n, c) => n + (c.argv.length - 2) / 2, 0),
      50,
    );
  });

  it('writes strings as SET then SETRANGE at explicit offsets', () => {
    const f = { hsetMulti: true, streamMeta: true, createConsumer: true, hashFieldTtl: false };
    const rw = new KeyRewriter(Buffer.from('s'), 'string', f, 4);
    const cmds = [
      ...rw.begin(),
      ...rw.piece({ type: 'string', value: Buffer.from('abcdefghij') }),
      ...rw.piece({ type: 'string', value: Buffer.from('kl') }),
      ...rw.end(123),
    ];
    assert.deepEqual(
      cmds.map((c) => c.argv.map(String).join(' ')),
      ['SET s abcd', 'SETRANGE s 4 efgh', 'SETRANGE s 8 ij', 'SETRANGE s 10 kl', 'PEXPIREAT s 123'],
    );
  });
});
