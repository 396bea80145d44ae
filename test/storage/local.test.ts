import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { ObjectNotFoundError } from '../../lib/errors.ts';
import { FsObjectStore } from '../../lib/storage/fs-object-store.ts';
import { SqliteMetadataStore } from '../../lib/storage/sqlite-metadata-store.ts';
import { metadataStoreContract } from './metadata-store.contract.ts';
import { assertBytes, objectStoreContract, testBytes } from './object-store.contract.ts';

async function tempDirectory(): Promise<{ directory: string; remove(): Promise<void> }> {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-local-'));
  return { directory, remove: () => rm(directory, { recursive: true, force: true }) };
}

objectStoreContract('local filesystem', async () => {
  const temp = await tempDirectory();
  return { store: new FsObjectStore({ directory: path.join(temp.directory, 'objects') }), teardown: temp.remove };
});

metadataStoreContract('SQLite file', async () => {
  const temp = await tempDirectory();
  const store = new SqliteMetadataStore({ path: path.join(temp.directory, 'metadata.db') });
  return {
    store,
    teardown: async () => {
      store.close();
      await temp.remove();
    },
  };
});

metadataStoreContract('SQLite :memory:', async () => {
  const store = new SqliteMetadataStore({ path: ':memory:' });
  return { store, teardown: async () => store.close() };
});

describe('FsObjectStore specifics', () => {
  it('rejects keys that could escape the directory or have empty segments', async () => {
    const temp = await tempDirectory();
    try {
      const store = new FsObjectStore({ directory: temp.directory });
      for (const key of ['', '/abs', '../up', 'a/../b', 'a/..', 'a//b', 'a/', './a', 'a/./b', 'nul\0byte']) {
        await assert.rejects(store.put(key, new Uint8Array(1)), TypeError, `put ${JSON.stringify(key)}`);
        await assert.rejects(store.get(key), TypeError, `get ${JSON.stringify(key)}`);
        await assert.rejects(store.delete([key]), TypeError, `delete ${JSON.stringify(key)}`);
      }
      assert.deepEqual(await readdir(temp.directory), []);
    } finally {
      await temp.remove();
    }
  });

  it('never lists temp files or stray files, and survives a reopen', async () => {
    const temp = await tempDirectory();
    try {
      const first = new FsObjectStore({ directory: temp.directory });
      await first.put('topic/a', testBytes(10, 1));
      // What a crash between write and rename leaves behind, and unrelated files.
      await writeFile(path.join(temp.directory, 'topic', '.tmp-0123456789abcdef01234567'), 'partial');
      await writeFile(path.join(temp.directory, 'topic', 'stray.txt'), 'not an object');
      await mkdir(path.join(temp.directory, 'topic', 'empty-dir'));
      const reopened = new FsObjectStore({ directory: temp.directory });
      const listed = [];
      for await (const info of reopened.list('')) listed.push(info.key);
      assert.deepEqual(listed, ['topic/a']);
      assertBytes(await reopened.get('topic/a'), testBytes(10, 1));
      await assert.rejects(reopened.get('topic/stray.txt'), ObjectNotFoundError);
    } finally {
      await temp.remove();
    }
  });

  it('prunes directories emptied by delete', async () => {
    const temp = await tempDirectory();
    try {
      const store = new FsObjectStore({ directory: temp.directory });
      await store.put('a/b/c/d', testBytes(1));
      await store.put('a/keep', testBytes(1));
      await store.delete(['a/b/c/d']);
      assert.deepEqual(await readdir(path.join(temp.directory, 'a')), ['keep%']);
      await store.delete(['a/keep']);
      assert.deepEqual(await readdir(temp.directory), []);
    } finally {
      await temp.remove();
    }
  });

  it('rejects invalid ranges', async () => {
    const temp = await tempDirectory();
    try {
      const store = new FsObjectStore({ directory: temp.directory });
      await store.put('x', testBytes(10));
      await assert.rejects(store.get('x', { start: 5, end: 4 }), RangeError);
      await assert.rejects(store.get('x', { start: -1, end: 4 }), RangeError);
      await assert.rejects(store.get('x', { start: 0.5, end: 4 }), RangeError);
    } finally {
      await temp.remove();
    }
  });
});

describe('SqliteMetadataStore specifics', () => {
  it('keeps acknowledged writes across close and reopen', async () => {
    const temp = await tempDirectory();
    const file = path.join(temp.directory, 'metadata.db');
    try {
      const first = new SqliteMetadataStore({ path: file });
      await first.put({ pk: 'topic', sk: 'config', partitions: 3n, name: 'orders', compacted: false });
      await first.update('topic', 'head', { add: { nextOffset: 2n ** 60n } });
      await first.update('topic', 'head', { add: { nextOffset: 5n } }, { where: [{ attr: 'nextOffset', op: '=', value: 2n ** 60n }] });
      await first.put({ pk: 'topic', sk: 'gone', v: 1n });
      await first.delete('topic', 'gone');
      first.close();

      const second = new SqliteMetadataStore({ path: file });
      try {
        assert.deepEqual(await second.query('topic'), [
          { pk: 'topic', sk: 'config', partitions: 3n, name: 'orders', compacted: false },
          { pk: 'topic', sk: 'head', nextOffset: 2n ** 60n + 5n },
        ]);
      } finally {
        second.close();
      }
    } finally {
      await temp.remove();
    }
  });

  it('runs in WAL mode, so readers do not block the writer', async () => {
    const temp = await tempDirectory();
    const file = path.join(temp.directory, 'metadata.db');
    const store = new SqliteMetadataStore({ path: file });
    const probe = new DatabaseSync(file);
    try {
      await store.put({ pk: 'p', sk: 's' });
      assert.equal(probe.prepare('PRAGMA journal_mode').get()?.journal_mode, 'wal');
    } finally {
      probe.close();
      store.close();
      await temp.remove();
    }
  });

  it('sees writes made through another connection to the same file', async () => {
    const temp = await tempDirectory();
    const file = path.join(temp.directory, 'metadata.db');
    const writer = new SqliteMetadataStore({ path: file });
    const reader = new SqliteMetadataStore({ path: file });
    try {
      await writer.update('p', 's', { add: { n: 1n } });
      assert.deepEqual(await reader.get('p', 's'), { pk: 'p', sk: 's', n: 1n });
      await reader.update('p', 's', { add: { n: 1n } }, { where: [{ attr: 'n', op: '=', value: 1n }] });
      assert.deepEqual(await writer.get('p', 's'), { pk: 'p', sk: 's', n: 2n });
    } finally {
      writer.close();
      reader.close();
      await temp.remove();
    }
  });
});
