/**
 * Local files are read as 1 MiB chunks with the next read in flight (readFileChunks), by the CLI's import and by
 * FileStore: the chunks must be exactly the file's bytes, each a Buffer of its own, whatever the size; a consumer
 * that stops early must leave no read running on a closed handle.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { FileStore, readFileChunks } from '../../src/sources/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'dcs-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 11)) & 0xff;
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

describe('readFileChunks', () => {
  for (const size of [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 12345]) {
    test(`a file of ${size} bytes comes out whole, in chunks of 1 MiB`, async () => {
      const { path, bytes } = file(`f${size}`, size);
      const chunks: Buffer[] = [];
      for await (const c of readFileChunks(path)) chunks.push(c);
      assert.ok(Buffer.concat(chunks).equals(bytes));
      assert.equal(chunks.length, Math.ceil(size / (1 << 20)));
      for (const c of chunks.slice(0, -1)) assert.equal(c.length, 1 << 20);
      assert.equal(new Set(chunks.map((c) => c.buffer)).size, chunks.length, 'no two chunks share memory');
    });
  }

  test('`end` stops at that many bytes', async () => {
    const { path, bytes } = file('end', 2_500_000);
    const chunks: Buffer[] = [];
    for await (const c of readFileChunks(path, { end: 1_500_000 })) chunks.push(c);
    assert.ok(Buffer.concat(chunks).equals(bytes.subarray(0, 1_500_000)));
  });

  test('a consumer that stops after the first chunk ends the reading cleanly', async () => {
    const { path, bytes } = file('early', 5 << 20);
    for (let i = 0; i < 20; i++) {
      for await (const c of readFileChunks(path)) {
        assert.ok(c.equals(bytes.subarray(0, 1 << 20)));
        break;
      }
    }
  });

  test('a missing file is an ENOENT error', async () => {
    await assert.rejects(
      (async () => {
        for await (const _ of readFileChunks(join(dir, 'nope')));
      })(),
      { code: 'ENOENT' },
    );
  });

  test('FileStore reads an object the same way and counts its position', async () => {
    const { bytes } = file('store', 2_200_000);
    const store = new FileStore(dir);
    const info = await store.head('store');
    const reader = store.open('store', info);
    const chunks: Buffer[] = [];
    for await (const c of reader) chunks.push(c);
    assert.ok(Buffer.concat(chunks).equals(bytes));
    assert.equal(reader.position, bytes.length);
  });
});
