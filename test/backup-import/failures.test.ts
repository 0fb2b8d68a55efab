/**
 * Backup import failures, stops and broken connections through the API (s3rver, real redis-server processes).
 * Every failure must end FAILED with an `error` naming the file, the byte offset where it applies, and the
 * cause; a stop must end TERMINATED with what was written acknowledged; a cut connection must be resumed and
 * give exactly the source's data.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { assertSameData, dataOf } from '../helpers/compare.ts';
import { freePort, type RedisServer, startRedis } from '../helpers/redis-server.ts';
import { eventually } from '../helpers/service.ts';
import {
  assertSucceeded,
  bucketWith,
  createImport,
  freshProject,
  type ImportEnv,
  keyCount,
  logsOf,
  populate,
  populateBig,
  saveRdb,
  showTask,
  startImportEnv,
  statsOf,
  targetOf,
  taskError,
  waitEnd,
} from './support.ts';

let env: ImportEnv;
let src: RedisServer;
let rdb: Buffer;
/** ~3 MB RDB of incompressible values: long enough to cut and stop in the middle of. */
let bigSrc: RedisServer;
let bigRdb: Buffer;
const servers: RedisServer[] = [];

async function target(args: string[] = []): Promise<RedisServer> {
  const t = await startRedis({ args });
  servers.push(t);
  return t;
}

/** Runs an import that must fail; returns its error and ERROR log code. */
async function failing(
  e: ImportEnv,
  bucket: string,
  files: string[],
  t: { addrs: string; password?: string },
): Promise<{ error: string; code: string; p: string; id: string }> {
  const p = freshProject();
  const id = await createImport(e, p, bucket, files, t);
  await waitEnd(e, p, id, 'FAILED');
  const error = await taskError(e, p, id);
  const logs = await logsOf(e, p, id);
  const err = logs.find((l) => l.log_level === 'ERROR');
  assert.ok(err, 'no ERROR log line');
  assert.equal(err.message, error);
  const stats = await statsOf(e, p, id);
  assert.equal(stats.is_migrating, false);
  return { error, code: err.log_code, p, id };
}

before(async () => {
  env = await startImportEnv({ proxy: true });
  src = await startRedis();
  bigSrc = await startRedis();
  servers.push(src, bigSrc);
  await populate(src, 'f');
  rdb = await saveRdb(src);
  await populateBig(bigSrc, 3000, 1000);
  bigRdb = await saveRdb(bigSrc);
  assert.ok(bigRdb.length > 2_900_000, `big RDB is only ${bigRdb.length} bytes`);
});
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await env.stop();
});

describe('backup import: source errors', () => {
  test('NoSuchBucket', async () => {
    const t = await target();
    const r = await failing(env, 'no-such-bucket', ['dump.rdb'], targetOf(t));
    assert.equal(r.code, 'SOURCE_ERR_NO_BUCKET');
    assert.match(
      r.error,
      /^bucket "no-such-bucket" does not exist \(NoSuchBucket\) \(bucket=no-such-bucket, file=dump\.rdb\)$/,
    );
  });

  test('NoSuchKey: nothing is written when any named file is missing', async () => {
    const b = await bucketWith(env, { 'ok.rdb': rdb });
    const t = await target();
    const r = await failing(env, b, ['ok.rdb', 'dir/missing.rdb'], targetOf(t));
    assert.equal(r.code, 'SOURCE_ERR_NO_OBJECT');
    assert.match(r.error, /object "dir\/missing\.rdb" does not exist in bucket "bkt-[\d-]+" \(NoSuchKey\)/);
    assert.equal(await keyCount(t), 0);
  });

  test('AccessDenied: refused credentials', async () => {
    // s3rver does not check SigV4 signatures, but it refuses unknown access keys as S3 does.
    const denied = await startImportEnv({ s3Env: { S3_ACCESS_KEY_ID: 'NOT-A-KEY' } });
    try {
      const b = await bucketWith(denied, { 'dump.rdb': rdb });
      const t = await target();
      const r = await failing(denied, b, ['dump.rdb'], targetOf(t));
      assert.equal(r.code, 'SOURCE_ERR_ACCESS_DENIED');
      assert.match(r.error, /access to s3:\/\/bkt-[\d-]+\/dump\.rdb was refused \(InvalidAccessKeyId\)/);
    } finally {
      await denied.stop();
    }
  });

  test('unsupported format: named by file, with its first bytes', async () => {
    const b = await bucketWith(env, { 'notes.rdb': Buffer.from('hello, this is not a backup\n') });
    const t = await target();
    const r = await failing(env, b, ['notes.rdb'], targetOf(t));
    assert.equal(r.code, 'SOURCE_ERR_UNSUPPORTED_FORMAT');
    assert.match(
      r.error,
      /^unsupported format \(first bytes 68 65 6c 6c 6f 2c 20 74\): .* \(file=notes\.rdb, offset=0\)$/,
    );
  });

  test('empty file', async () => {
    const b = await bucketWith(env, { 'empty.rdb': Buffer.alloc(0) });
    const t = await target();
    const r = await failing(env, b, ['empty.rdb'], targetOf(t));
    assert.equal(r.code, 'SOURCE_ERR_UNSUPPORTED_FORMAT');
    assert.match(r.error, /the file is empty \(file=empty\.rdb/);
  });
});

describe('backup import: corrupt data', () => {
  test('an RDB with a damaged byte fails with the RDB error, file and offset; the next file is not read', async () => {
    const bad = Buffer.from(rdb);
    bad[bad.length - 3] ^= 0xff; // inside the CRC64
    const b = await bucketWith(env, { 'bad.rdb': bad, 'after.rdb': rdb });
    const t = await target();
    const r = await failing(env, b, ['bad.rdb', 'after.rdb'], targetOf(t));
    assert.equal(r.code, 'RDB_ERR_CHECKSUM');
    assert.match(r.error, /\(file=bad\.rdb, offset=\d+(, db=\d+)?\)$/);
    const logs = (await logsOf(env, r.p, r.id)).map((l) => l.message);
    assert.ok(!logs.some((m) => m.includes('after.rdb')), 'the file after the bad one was started');
  });

  test('an AOF with garbage in the middle (not a truncated tail)', async () => {
    const good = Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n');
    const aof = Buffer.concat([good, Buffer.from('*2\r\n$3\r\nGET\r\n?oops\r\n'), good]);
    const b = await bucketWith(env, { 'x.aof': aof });
    const t = await target();
    const r = await failing(env, b, ['x.aof'], targetOf(t));
    assert.equal(r.code, 'AOF_ERR_CORRUPT');
    assert.match(r.error, new RegExp(`^not a valid AOF: .* \\(file=x\\.aof, offset=${good.length}\\)$`));
  });

  test('a truncated .gz', async () => {
    const gz = gzipSync(rdb);
    const b = await bucketWith(env, { 'dump.rdb.gz': gz.subarray(0, gz.length - 100) });
    const t = await target();
    const r = await failing(env, b, ['dump.rdb.gz'], targetOf(t));
    assert.ok(['SOURCE_ERR_ARCHIVE', 'RDB_ERR_TRUNCATED'].includes(r.code), r.code);
    assert.match(r.error, /file=dump\.rdb\.gz/);
  });

  test('a multi-part AOF manifest naming a file the bucket lacks', async () => {
    const manifest = Buffer.from(
      'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n',
    );
    const b = await bucketWith(env, {
      'd/appendonly.aof.manifest': manifest,
      'd/appendonly.aof.1.base.rdb': rdb,
    });
    const t = await target();
    const r = await failing(env, b, ['d/appendonly.aof.manifest'], targetOf(t));
    assert.equal(r.code, 'SOURCE_ERR_NO_OBJECT');
    assert.match(r.error, /d\/appendonly\.aof\.1\.incr\.aof/);
    assert.equal(await keyCount(t), 0);
  });
});

describe('backup import: target errors', () => {
  test('target unreachable', async () => {
    const b = await bucketWith(env, { 'dump.rdb': rdb });
    const port = await freePort();
    const r = await failing(env, b, ['dump.rdb'], { addrs: `127.0.0.1:${port}` });
    assert.equal(r.code, 'TARGET_ERR_CONNECT');
    assert.match(r.error, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  test('target out of memory: FAILED with OOM, the file and the offset reached', async () => {
    const b = await bucketWith(env, { 'big.rdb': bigRdb });
    const t = await target(['--maxmemory', '2mb', '--maxmemory-policy', 'noeviction']);
    const r = await failing(env, b, ['big.rdb'], targetOf(t));
    assert.equal(r.code, 'TARGET_ERR_OOM');
    assert.match(r.error, /OOM/);
    assert.match(r.error, /file=big\.rdb, offset=\d+/);
  });

  test('file_source backup_record is refused by the API with a clear error', async () => {
    const t = await target();
    const res = await env.svc.agent.post(`/v2/${freshProject()}/migration-task`).send({
      task_name: 'import',
      migration_type: 'backupfile_import',
      migration_method: 'full_amount_migration',
      backup_files: { file_source: 'backup_record', backup_id: 'b-1' },
      target_instance: { id: '', addrs: targetOf(t).addrs },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error_code, 'DCS.4800');
    assert.match(res.body.error_msg, /backup_record/);
  });
});

describe('backup import: stop and broken connections', () => {
  test('a connection cut every 512 KiB is resumed with ranged GETs: the target equals the source', async () => {
    const proxy = env.proxy!;
    const b = await bucketWith(env, { 'big.rdb': bigRdb });
    const t = await target();
    const cuts0 = proxy.cuts;
    proxy.cutEvery = 512 * 1024;
    try {
      const p = freshProject();
      const id = await createImport(env, p, b, ['big.rdb'], targetOf(t));
      // Stats read while it runs: progress only grows, within 0–100, and says migrating while it runs.
      const seen: number[] = [];
      for (;;) {
        // Stats first: a task still MIGRATING afterwards was MIGRATING when they were read (the other order can
        // pair MIGRATING with stats read just after the switch to SUCCESS).
        const s = await statsOf(env, p, id);
        const task = await showTask(env, p, id);
        if (task.status !== 'MIGRATING') break;
        seen.push(Number(s.full_migration_progress));
        // (A task still queued for a runner is not migrating yet.)
        if (seen.at(-1)! > 0) assert.equal(s.is_migrating, true);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(seen.length > 0);
      for (let i = 1; i < seen.length; i++)
        assert.ok(seen[i] >= seen[i - 1], `progress went back: ${seen.join(' ')}`);
      // 100 only once every write is acknowledged, which can be seen just before the status turns SUCCESS.
      assert.ok(
        seen.every((x, i) => x >= 0 && (x < 100 || (x === 100 && seen.slice(i).every((y) => y === 100)))),
        seen.join(' '),
      );
      await assertSucceeded(env, p, id, 3000);
      assert.ok(proxy.cuts - cuts0 >= 5, `only ${proxy.cuts - cuts0} cuts`);
      const resumed = (await logsOf(env, p, id)).filter((l) => l.log_code === 'WARN_SOURCE_RESUMED');
      assert.ok(resumed.length >= 5, `${resumed.length} resume warnings`);
      assert.match(
        resumed[0].message,
        /^big\.rdb: read interrupted at byte \d+ \(.*\); resuming from there\.$/,
      );
    } finally {
      proxy.cutEvery = 0;
    }
    await assertSameData(bigSrc, t);
  });

  test('cuts inside a tar.gz: the resumed bytes continue the gzip stream; a README member is skipped with a WARN', async () => {
    const proxy = env.proxy!;
    const dir = mkdtempSync(join(tmpdir(), 'dcs-cut-tgz-'));
    writeFileSync(join(dir, 'README.txt'), 'nightly backup\n');
    writeFileSync(join(dir, 'dump.rdb'), bigRdb);
    const tgz = execFileSync('tar', ['-czf', '-', '-C', dir, 'README.txt', 'dump.rdb'], {
      maxBuffer: 1 << 28,
    });
    const b = await bucketWith(env, { 'nightly.tar.gz': tgz });
    const t = await target();
    const cuts0 = proxy.cuts;
    proxy.cutEvery = 700 * 1024;
    try {
      const p = freshProject();
      const id = await createImport(env, p, b, ['nightly.tar.gz'], targetOf(t));
      await assertSucceeded(env, p, id, 3000);
      assert.ok(proxy.cuts - cuts0 >= 3, `only ${proxy.cuts - cuts0} cuts`);
      const logs = await logsOf(env, p, id);
      const skipped = logs.find((l) => l.log_code === 'WARN_MEMBER_SKIPPED');
      assert.equal(skipped?.message, 'nightly.tar.gz:README.txt: not a backup format, skipped.');
    } finally {
      proxy.cutEvery = 0;
    }
    await assertSameData(bigSrc, t);
  });

  test('an object that changes between a cut and the resumed read fails the task (ETag)', async () => {
    const proxy = env.proxy!;
    const b = await bucketWith(env, { 'big.rdb': bigRdb });
    const t = await target();
    proxy.cutEvery = 1024 * 1024;
    const changed = Buffer.from(bigRdb);
    changed[100] ^= 1; // same size: only the ETag tells
    proxy.onCut = async () => {
      proxy.cutEvery = 0;
      await env.s3.put(b, 'big.rdb', changed);
    };
    try {
      const r = await failing(env, b, ['big.rdb'], targetOf(t));
      assert.equal(r.code, 'SOURCE_ERR_CHANGED');
      assert.match(
        r.error,
        /^object "big\.rdb" changed while it was being read \(ETag "\w+" became "\w+"\) /,
      );
      assert.match(r.error, /file=big\.rdb/);
      assert.match(r.error, /offset=\d+/);
    } finally {
      proxy.cutEvery = 0;
      proxy.onCut = null;
    }
  });

  test('stop mid-import: TERMINATING, then TERMINATED once in-flight writes are drained', async () => {
    const proxy = env.proxy!;
    const b = await bucketWith(env, { 'big.rdb': bigRdb });
    const t = await target();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    // The first cut holds every later connection: the import is stuck mid-object until stopped.
    proxy.cutEvery = 1024 * 1024;
    proxy.onCut = async () => {
      proxy.cutEvery = 0;
      await held;
    };
    const cuts0 = proxy.cuts;
    try {
      const p = freshProject();
      const id = await createImport(env, p, b, ['big.rdb'], targetOf(t));
      await eventually(() => proxy.cuts > cuts0, 'the first cut', 20_000);
      const stats = await eventually(
        async () => {
          const s = await statsOf(env, p, id);
          return Number(s.full_migration_progress) > 0 ? s : null;
        },
        'progress above 0',
        20_000,
      );
      assert.equal(stats?.is_migrating, true);
      const res = await env.svc.agent.post(`/v2/${p}/migration-task/${id}/stop`);
      assert.equal(res.status, 200, res.text);
      assert.ok(['TERMINATING', 'TERMINATED'].includes(res.body.status), res.body.status);
      await waitEnd(env, p, id, 'TERMINATED');
      const codes = (await logsOf(env, p, id)).map((l) => l.log_code);
      assert.ok(codes.includes('IMPORT_STOPPED') && codes.includes('TASK_STOPPED'), codes.join(', '));
      const s = await statsOf(env, p, id);
      assert.equal(s.is_migrating, false);
      assert.ok(Number(s.full_migration_progress) < 100);
      // What was written is there, whole and exact: a prefix of the source.
      const written = await keyCount(t);
      assert.ok(written > 0 && written < 3000, `${written} keys written`);
      assert.equal(s.target_dbsize, String(written));
      const [a, z] = [await dataOf(bigSrc), await dataOf(t)];
      for (const [k, v] of z.get(0)!) assert.deepEqual(v, a.get(0)!.get(k), `key ${k}`);
    } finally {
      release();
      proxy.cutEvery = 0;
      proxy.onCut = null;
    }
  });
});
