/**
 * Containers and format detection (src/sources): archives written by the real tools (tar, gzip, Python's zipfile) are opened
 * into members whose bytes equal the originals, in every chunking of the archive; damaged containers give a
 * SourceError naming the archive.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { detectFormat, SourceError, unpack } from '../../src/sources/index.ts';
import { bytes } from '../backup-import/support.ts';
import { chunkIterable } from '../helpers/feed-chunked.ts';
import { fixture } from '../helpers/rdb-fixtures.ts';
import { makeZip } from '../helpers/zip.ts';

interface Got {
  name: string;
  baseName: string;
  format: string;
  data: Buffer;
}

async function members(
  chunks: Buffer[],
  name = 'a.bin',
  read: 'all' | 'none' | 'some' = 'all',
): Promise<Got[]> {
  const out: Got[] = [];
  for await (const m of unpack(chunkIterable(chunks), name)) {
    const parts: Buffer[] = [];
    if (read !== 'none') {
      for await (const b of m.body) {
        parts.push(b);
        if (read === 'some') break;
      }
    }
    out.push({ name: m.name, baseName: m.baseName, format: m.format, data: Buffer.concat(parts) });
  }
  return out;
}

/** Whole, 1-byte (small inputs), and several seeded random splittings. */
function splittings(input: Buffer): { name: string; chunks: Buffer[] }[] {
  const out = [{ name: 'whole', chunks: [input] }];
  if (input.length <= 16 * 1024) {
    const one: Buffer[] = [];
    for (let i = 0; i < input.length; i++) one.push(input.subarray(i, i + 1));
    out.push({ name: '1-byte', chunks: one });
  }
  for (let seed = 1; seed <= 3; seed++) {
    const r = bytes(seed, 4096);
    const chunks: Buffer[] = [];
    for (let i = 0, k = 0; i < input.length; k++) {
      const n = 1 + ((r[k % r.length] * 257 + r[(k + 1) % r.length]) % (seed * 9000));
      chunks.push(input.subarray(i, i + n));
      i += n;
    }
    out.push({ name: `random-${seed}`, chunks });
  }
  return out;
}

const rdb = fixture('redisshake/appendonlydir/appendonly.aof.2.base.rdb');
const aof = fixture('redis-replicator/appendonly5.aof');
const manifest = fixture('redisshake/appendonlydir/appendonly.aof.manifest');
const longName = `${'deep/'.repeat(30)}appendonly.aof.7.incr.aof`;

function stage(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dcs-unpack-'));
  mkdirSync(join(dir, 'd'));
  writeFileSync(join(dir, 'd', 'dump.rdb'), rdb);
  writeFileSync(join(dir, 'd', 'notes.txt'), 'not a backup\n');
  writeFileSync(join(dir, 'd', 'appendonly.aof.manifest'), manifest);
  mkdirSync(join(dir, ...longName.split('/').slice(0, -1)), { recursive: true });
  writeFileSync(join(dir, longName), aof);
  return dir;
}
const FILES = ['d/dump.rdb', 'd/notes.txt', 'd/appendonly.aof.manifest', longName];

function expectMembers(got: Got[], archive: string) {
  assert.deepEqual(
    got.map((g) => [g.name, g.baseName, g.format]),
    [
      [`${archive}:d/dump.rdb`, 'dump.rdb', 'rdb'],
      [`${archive}:d/notes.txt`, 'notes.txt', 'unknown'],
      [`${archive}:d/appendonly.aof.manifest`, 'appendonly.aof.manifest', 'manifest'],
      [`${archive}:${longName}`, 'appendonly.aof.7.incr.aof', 'aof'],
    ],
  );
  assert.ok(got[0].data.equals(rdb));
  assert.equal(got[1].data.toString(), 'not a backup\n');
  assert.ok(got[2].data.equals(manifest));
  assert.ok(got[3].data.equals(aof));
}

describe('unpack: containers written by the real tools', () => {
  for (const format of ['gnu', 'pax']) {
    test(`tar (${format}) and tar.gz, long names, directories skipped, every splitting`, async () => {
      const dir = stage();
      const fmt = format === 'pax' ? 'pax' : 'gnu';
      const tar = execFileSync('tar', [`--format=${fmt}`, '-cf', '-', '-C', dir, ...FILES], {
        maxBuffer: 1 << 28,
      });
      for (const s of splittings(tar)) expectMembers(await members(s.chunks, 'b.tar'), 'b.tar');
      const tgz = gzipSync(tar);
      for (const s of splittings(tgz)) expectMembers(await members(s.chunks, 'b.tgz'), 'b.tgz');
    });
  }

  const zipFiles = (): [string, Buffer][] => [
    ['d/dump.rdb', rdb],
    ['d/notes.txt', Buffer.from('not a backup\n')],
    ['d/appendonly.aof.manifest', manifest],
    [longName, aof],
  ];
  for (const [label, opts] of [
    ['zip to a file (sizes in the local headers)', {}],
    ['zip to a pipe (deflated, data descriptors)', { pipe: true }],
    ['zip to a pipe (stored, sizes only in the data descriptors)', { pipe: true, stored: true }],
    ['zip64 to a pipe (deflated)', { pipe: true, zip64: true }],
    ['zip64 to a pipe (stored)', { pipe: true, stored: true, zip64: true }],
  ] as const) {
    test(`${label}, every splitting`, async () => {
      const zip = makeZip(zipFiles(), opts);
      // This test must cover what its label says.
      assert.equal(Boolean(zip.readUInt16LE(6) & 8), Boolean((opts as { pipe?: boolean }).pipe));
      for (const s of splittings(zip)) expectMembers(await members(s.chunks, 'c.zip'), 'c.zip');
    });
  }

  test('members not read, or read only in part, are skipped exactly (tar, zip with descriptors)', async () => {
    const dir = stage();
    const tar = execFileSync('tar', ['-cf', '-', '-C', dir, ...FILES], { maxBuffer: 1 << 28 });
    const zip = makeZip(zipFiles(), { pipe: true, stored: true });
    for (const [name, buf] of [
      ['x.tar', tar],
      ['x.zip', zip],
    ] as const) {
      for (const read of ['none', 'some'] as const) {
        const got = await members([buf], name, read);
        assert.deepEqual(
          got.map((g) => g.baseName).sort(),
          ['appendonly.aof.7.incr.aof', 'appendonly.aof.manifest', 'dump.rdb', 'notes.txt'],
          `${name} ${read}`,
        );
      }
    }
  });

  test('gzip: a plain .rdb.gz, concatenated members, and the name kept for messages', async () => {
    const gz = Buffer.concat([gzipSync(rdb.subarray(0, 1000)), gzipSync(rdb.subarray(1000))]);
    for (const s of splittings(gz)) {
      const got = await members(s.chunks, 'dump.rdb.gz');
      assert.deepEqual(
        got.map((g) => [g.name, g.baseName, g.format]),
        [['dump.rdb.gz', 'dump.rdb', 'rdb']],
      );
      assert.ok(got[0].data.equals(rdb), s.name);
    }
  });
});

describe('unpack: detection and damage', () => {
  test('detectFormat by magic bytes', () => {
    assert.equal(detectFormat(rdb), 'rdb');
    assert.equal(detectFormat(Buffer.from('VALKEY080')), 'rdb');
    assert.equal(detectFormat(aof), 'aof');
    assert.equal(detectFormat(Buffer.from('#TS:1\r\n')), 'aof');
    assert.equal(detectFormat(manifest), 'manifest');
    assert.equal(detectFormat(gzipSync(rdb)), 'gzip');
    assert.equal(detectFormat(Buffer.from('PK\x03\x04')), 'zip');
    assert.equal(detectFormat(Buffer.alloc(0)), 'empty');
    assert.equal(detectFormat(Buffer.from('*x')), 'unknown');
  });

  const expectArchiveError = async (chunks: Buffer[], name: string) => {
    await assert.rejects(members(chunks, name), (e: unknown) => {
      assert.ok(e instanceof SourceError, String(e));
      assert.equal(e.code, 'SOURCE_ERR_ARCHIVE');
      assert.ok(String(e.where.file).startsWith(name), String(e.where.file));
      return true;
    });
  };

  test('a tar cut inside a member, a tar with a damaged header checksum', async () => {
    const dir = stage();
    const tar = execFileSync('tar', ['-cf', '-', '-C', dir, 'd/dump.rdb'], { maxBuffer: 1 << 28 });
    await expectArchiveError([tar.subarray(0, 5000)], 'cut.tar');
    const bad = Buffer.from(tar);
    bad[10] ^= 0x20;
    await assert.rejects(members([bad], 'bad.tar'), (e: unknown) => e instanceof SourceError);
  });

  test('a zip cut inside a member with a data descriptor (deflated, stored); a corrupt deflate stream', async () => {
    const zip = makeZip([['d/dump.rdb', rdb]], { pipe: true });
    await expectArchiveError([zip.subarray(0, 20_000)], 'cut.zip');
    const stored = makeZip([['d/dump.rdb', rdb]], { pipe: true, stored: true });
    await expectArchiveError([stored.subarray(0, 20_000)], 'cut-stored.zip');
    const bad = Buffer.from(zip);
    for (let i = 200; i < 400; i++) bad[i] ^= 0x5a;
    await assert.rejects(
      members([bad], 'bad.zip'),
      (e: unknown) => e instanceof SourceError && e.code === 'SOURCE_ERR_ARCHIVE',
    );
  });

  test('a file that is no backup format is refused, naming it', async () => {
    await assert.rejects(
      members([Buffer.from('just text')], 'x.rdb'),
      (e: unknown) =>
        e instanceof SourceError && e.code === 'SOURCE_ERR_UNSUPPORTED_FORMAT' && e.where.file === 'x.rdb',
    );
  });
});
