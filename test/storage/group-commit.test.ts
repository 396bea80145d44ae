/**
 * Group commit on the local backend: SqliteMetadataStore's shared transactions and WAL fsyncs, and
 * SharedSync (the fsync sharing both local stores use). Counts come from the stores' instrumentation
 * (onGroupCommit, stats()), never from timing: writes issued in one turn of the event loop form one
 * group by construction.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConditionFailedError, UnavailableError } from '../../lib/errors.ts';
import { FsObjectStore } from '../../lib/storage/fs-object-store.ts';
import { SharedSync } from '../../lib/storage/shared-sync.ts';
import { SqliteMetadataStore, type GroupCommitPoint, type SqliteMetadataStoreOptions } from '../../lib/storage/sqlite-metadata-store.ts';
import type { Item } from '../../lib/storage/ports.ts';

async function withTempDirectory<T>(body: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(path.join(tmpdir(), 'sluice-group-commit-'));
  try {
    return await body(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** A store on a file in `directory`, with every group-commit point recorded. */
function openStore(directory: string, extra: Partial<SqliteMetadataStoreOptions> = {}) {
  const points: Array<{ point: GroupCommitPoint; count: number }> = [];
  const store = new SqliteMetadataStore({
    path: path.join(directory, 'metadata.sqlite'),
    ...extra,
    onGroupCommit: (point, count) => {
      points.push({ point, count });
      extra.onGroupCommit?.(point, count);
    },
  });
  return { store, points };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

describe('SqliteMetadataStore group commit', { timeout: 60_000 }, () => {
  it('gives each of many concurrent conditional writers its own result, in one transaction and one fsync', async () => {
    await withTempDirectory(async (directory) => {
      const { store, points } = openStore(directory);
      try {
        await store.put({ pk: 'counter', sk: 'head', version: 0n });
        const before = store.stats();
        // 64 writers in one turn: 32 race to create the same item (the first wins), 32 do a
        // compare-and-set on a version that only the first of them can match.
        const creators = Array.from({ length: 32 }, (_, i) => settle(store.put({ pk: 'race', sk: 'item', writer: BigInt(i) }, { itemExists: false })));
        const setters = Array.from({ length: 32 }, (_, i) =>
          settle(store.update('counter', 'head', { set: { by: BigInt(i) }, add: { version: 1n } }, { where: [{ attr: 'version', op: '=', value: 0n }] })),
        );
        const created = await Promise.all(creators);
        const set = await Promise.all(setters);

        assert.deepEqual(created[0], { ok: true, value: undefined });
        for (const result of created.slice(1)) assert.ok(!result.ok && result.error instanceof ConditionFailedError);
        assert.deepEqual(set[0], { ok: true, value: { pk: 'counter', sk: 'head', version: 1n, by: 0n } });
        for (const result of set.slice(1)) assert.ok(!result.ok && result.error instanceof ConditionFailedError);
        // The failed conditions rolled nothing back: the winners' writes are there.
        assert.deepEqual(await store.get('race', 'item'), { pk: 'race', sk: 'item', writer: 0n });
        assert.deepEqual(await store.get('counter', 'head'), { pk: 'counter', sk: 'head', version: 1n, by: 0n });

        const after = store.stats();
        assert.equal(after.writeTransactions - before.writeTransactions, 1);
        assert.equal(after.writes - before.writes, 64);
        assert.equal(after.logSyncs - before.logSyncs, 1);
        assert.deepEqual(
          points.slice(-4).map((p) => p.point),
          ['begun', 'before-commit', 'committed', 'before-sync'],
        );
        assert.equal(points.at(-2)?.count, 64);
      } finally {
        store.close();
      }
    });
  });

  it('applies a group in arrival order, each write seeing the ones before it', async () => {
    const store = new SqliteMetadataStore({ path: ':memory:' });
    try {
      const olds = await Promise.all(
        Array.from({ length: 20 }, () => store.update('p', 'n', { add: { n: 1n } }, undefined, { returnValues: 'old' })),
      );
      assert.deepEqual(
        olds.map((item) => item.n ?? 0n),
        Array.from({ length: 20 }, (_, i) => BigInt(i)),
      );
      // A delete, a put conditioned on absence and a put conditioned on presence, in that order.
      const [deleted, recreated, replaced] = await Promise.all([
        settle(store.delete('p', 'n', { itemExists: true })),
        settle(store.put({ pk: 'p', sk: 'n', n: 100n }, { itemExists: false })),
        settle(store.put({ pk: 'p', sk: 'n', n: 200n }, { where: [{ attr: 'n', op: '=', value: 100n }] })),
      ]);
      assert.ok(deleted.ok && recreated.ok && replaced.ok);
      assert.deepEqual(await store.get('p', 'n'), { pk: 'p', sk: 'n', n: 200n });
      assert.equal(store.stats().writeTransactions, 2);
    } finally {
      store.close();
    }
  });

  it('fails an invalid update alone, with its own error', async () => {
    const store = new SqliteMetadataStore({ path: ':memory:' });
    try {
      await store.put({ pk: 'p', sk: 'text', value: 'not a number' });
      const [good, invalid, alsoGood] = await Promise.all([
        settle(store.put({ pk: 'p', sk: 'a', v: 1n })),
        settle(store.update('p', 'text', { add: { value: 1n } })),
        settle(store.update('p', 'b', { set: { v: 2n } })),
      ]);
      assert.ok(good.ok && alsoGood.ok);
      assert.ok(!invalid.ok && invalid.error instanceof TypeError);
      assert.deepEqual(await store.query('p'), [
        { pk: 'p', sk: 'a', v: 1n },
        { pk: 'p', sk: 'b', v: 2n },
        { pk: 'p', sk: 'text', value: 'not a number' },
      ]);
    } finally {
      store.close();
    }
  });

  for (const point of ['begun', 'before-commit'] as const) {
    it(`a failure at '${point}' rejects every caller of the group and leaves nothing of it after reopening`, async () => {
      await withTempDirectory(async (directory) => {
        const crash = new Error(`injected crash at ${point}`);
        let armed = false;
        const { store } = openStore(directory, {
          onGroupCommit: (at) => {
            if (armed && at === point) throw crash;
          },
        });
        try {
          await store.put({ pk: 'kept', sk: 'a', v: 1n });
          armed = true;
          const group: Promise<unknown>[] = [
            store.put({ pk: 'lost', sk: 'a', v: 1n }),
            store.update('kept', 'a', { add: { v: 1n } }),
            store.put({ pk: 'lost', sk: 'b', v: 1n }, { itemExists: false }),
            store.delete('kept', 'a'),
            store.put({ pk: 'lost', sk: 'c', v: 1n }, { itemExists: true }), // would fail its condition anyway
          ];
          const results = await Promise.all(group.map(settle));
          for (const result of results) {
            assert.ok(!result.ok && result.error instanceof UnavailableError, `every caller rejected with UnavailableError`);
            assert.equal((result.error as UnavailableError).cause, crash);
          }
          armed = false;
          // Nothing of the group is visible, and the store keeps working.
          assert.deepEqual(await store.query('lost'), []);
          assert.deepEqual(await store.get('kept', 'a'), { pk: 'kept', sk: 'a', v: 1n });
          await store.put({ pk: 'after', sk: 'a', v: 1n });
        } finally {
          store.close();
        }
        const reopened = new SqliteMetadataStore({ path: path.join(directory, 'metadata.sqlite') });
        try {
          assert.deepEqual(await reopened.query('lost'), []);
          assert.deepEqual(await reopened.get('kept', 'a'), { pk: 'kept', sk: 'a', v: 1n });
          assert.deepEqual(await reopened.get('after', 'a'), { pk: 'after', sk: 'a', v: 1n });
        } finally {
          reopened.close();
        }
      });
    });
  }

  it("settles an update with durability 'ordered' at its COMMIT, before the fsync, and still holds back reads of it", async () => {
    await withTempDirectory(async (directory) => {
      const { store } = openStore(directory);
      try {
        await store.put({ pk: 'p', sk: 'head', n: 1n });
        const syncs = () => store.stats().logSyncs;
        const before = syncs();
        const seen: Record<string, number> = {};
        const ordered = store.update('p', 'head', { add: { n: 1n } }, undefined, { durability: 'ordered' }).then((item) => ((seen.ordered = syncs()), item));
        const own = store.update('q', 'head', { add: { n: 1n } }).then(() => (seen.own = syncs()));
        const refused = settle(store.update('p', 'head', { add: { n: 1n } }, { where: [{ attr: 'n', op: '=', value: 7n }] }, { durability: 'ordered' }));
        assert.deepEqual(await ordered, { pk: 'p', sk: 'head', n: 2n });
        assert.equal(seen.ordered, before, 'the ordered update settled before any fsync');
        const failed = await refused;
        assert.equal(failed.ok, false);
        assert.ok(!failed.ok && failed.error instanceof ConditionFailedError, 'a failed condition of an ordered update settles the same way');
        assert.equal(syncs(), before, 'and so did its refusal');
        const read = store.get('p', 'head').then((item) => ((seen.read = syncs()), item));
        // The write its caller makes next joins a later transaction: once it is durable, so is the update.
        await store.put({ pk: 'p', sk: 'entry', v: 1n });
        await own;
        assert.ok(seen.own > before, 'a write in the same group without the option waited for the fsync');
        assert.deepEqual(await read, { pk: 'p', sk: 'head', n: 2n });
        assert.ok(seen.read > before, 'a read of the ordered update waited for the fsync');
      } finally {
        store.close();
      }
    });
  });

  it('acknowledges a write only after the WAL fsync that covers it, and holds back reads of it until then', async () => {
    await withTempDirectory(async (directory) => {
      const { store, points } = openStore(directory);
      try {
        await store.put({ pk: 'old', sk: 'a', v: 1n });
        const syncs = () => store.stats().logSyncs;
        const committed = points.length;
        // fsyncs completed when each promise settled
        const seen: Record<string, number> = {};
        const written = store.put({ pk: 'new', sk: 'a', v: 1n }).then(() => (seen.write = syncs()));
        let syncsAtCommit = -1;
        let reads: Promise<unknown> | undefined;
        // Poll each turn until the group has committed; its fsync has started but cannot have ended yet.
        await new Promise<void>((resolve) => {
          const poll = () => {
            if (!points.slice(committed).some((p) => p.point === 'committed')) return void setImmediate(poll);
            syncsAtCommit = syncs();
            reads = Promise.all([
              store.get('new', 'a').then((item) => ((seen.newRead = syncs()), item)),
              store.query('new').then((items) => ((seen.newQuery = syncs()), items)),
              store.get('old', 'a').then((item) => ((seen.oldRead = syncs()), item)),
            ]);
            resolve();
          };
          poll();
        });
        await written;
        assert.deepEqual(await reads, [{ pk: 'new', sk: 'a', v: 1n }, [{ pk: 'new', sk: 'a', v: 1n }], { pk: 'old', sk: 'a', v: 1n }]);
        assert.ok(seen.write > syncsAtCommit, 'the write was acknowledged after its fsync');
        assert.ok(seen.newRead > syncsAtCommit && seen.newQuery > syncsAtCommit, 'reads of the not yet durable item waited for the fsync');
        assert.equal(seen.oldRead, syncsAtCommit, 'a read of an item no pending transaction wrote answered at once');
      } finally {
        store.close();
      }
    });
  });

  it('a failed WAL fsync rejects the callers it covered and every later call until reopened', async () => {
    await withTempDirectory(async (directory) => {
      const failure = new Error('injected EIO');
      let armed = false;
      const { store } = openStore(directory, {
        onGroupCommit: (point) => {
          if (armed && point === 'before-sync') throw failure;
        },
      });
      try {
        await store.put({ pk: 'p', sk: 'durable', v: 1n });
        armed = true;
        const writes: Promise<unknown>[] = [store.put({ pk: 'p', sk: 'unknown', v: 1n }), store.delete('p', 'durable')];
        const results = await Promise.all(writes.map(settle));
        for (const result of results) assert.ok(!result.ok && result.error instanceof UnavailableError && result.error.cause === failure);
        armed = false;
        await assert.rejects(store.get('p', 'durable'), UnavailableError);
        await assert.rejects(store.put({ pk: 'p', sk: 'later', v: 1n }), UnavailableError);
      } finally {
        store.close();
      }
      // The outcome of the unsynced writes is unknown (here they reached the WAL); the store reopens consistent.
      const reopened = new SqliteMetadataStore({ path: path.join(directory, 'metadata.sqlite') });
      try {
        const items = await reopened.query('p');
        assert.ok(items.every((item) => item.sk === 'unknown' || item.sk === 'durable'));
        assert.equal(await reopened.get('p', 'later'), undefined);
        await reopened.put({ pk: 'p', sk: 'later', v: 1n });
      } finally {
        reopened.close();
      }
    });
  });

  it('commits what is queued when closed, and rejects writes after close', async () => {
    await withTempDirectory(async (directory) => {
      const file = path.join(directory, 'metadata.sqlite');
      const store = new SqliteMetadataStore({ path: file });
      const pending = Array.from({ length: 10 }, (_, i) => store.put({ pk: 'p', sk: `s${i}`, v: BigInt(i) }));
      store.close();
      await Promise.all(pending);
      await assert.rejects(store.put({ pk: 'p', sk: 'late' }), UnavailableError);
      const reopened = new SqliteMetadataStore({ path: file });
      try {
        assert.equal((await reopened.query('p')).length, 10);
      } finally {
        reopened.close();
      }
    });
  });

  it('keeps every acknowledged write when the process dies without closing the store', async () => {
    await withTempDirectory(async (directory) => {
      const file = path.join(directory, 'metadata.sqlite');
      // The child acknowledges writes on stdout as their promises resolve, then kills itself mid-stream.
      const child = spawn(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `
          import { writeSync } from 'node:fs';
          // stdout is a non-blocking pipe: a parent slow to read (a loaded machine) makes writeSync throw EAGAIN
          const say = (text) => {
            const bytes = Buffer.from(text);
            for (let at = 0; at < bytes.length; ) {
              try { at += writeSync(1, bytes, at); } catch (error) { if (error.code !== 'EAGAIN') throw error; }
            }
          };
          import { SqliteMetadataStore } from ${JSON.stringify(new URL('../../lib/storage/sqlite-metadata-store.ts', import.meta.url).href)};
          const store = new SqliteMetadataStore({ path: ${JSON.stringify(file)} });
          let acknowledged = 0;
          for (let i = 0; i < 400; i++) {
            store.put({ pk: 'acked', sk: String(i).padStart(4, '0'), v: BigInt(i) }).then(() => {
              say(i + '\\n'); // synchronous: written before the kill below
              if (++acknowledged === 200) process.kill(process.pid, 'SIGKILL');
            });
            if (i % 16 === 15) await new Promise((resolve) => setImmediate(resolve));
          }
          `,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      // 'close', not 'exit': it comes after the child's stdout has been read to its end.
      const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, sig) => resolve(sig)));
      assert.equal(signal, 'SIGKILL');
      const acknowledged = output.split('\n').filter(Boolean).map(Number);
      assert.ok(acknowledged.length >= 200, `acknowledged ${acknowledged.length}`);
      const reopened = new SqliteMetadataStore({ path: file });
      try {
        const stored = new Set((await reopened.query('acked')).map((item) => Number(item.v)));
        for (const i of acknowledged) assert.ok(stored.has(i), `acknowledged write ${i} survived`);
      } finally {
        reopened.close();
      }
    });
  });
});

describe('SharedSync', () => {
  /** A sync whose runs the test finishes by hand. */
  function manualSync() {
    const runs: Array<{ finish: (error?: Error) => void }> = [];
    const sync = new SharedSync(
      () =>
        new Promise<void>((resolve, reject) => {
          runs.push({ finish: (error) => (error ? reject(error) : resolve()) });
        }),
    );
    return { sync, runs };
  }
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('starts one run for a lone request, and one shared run for every request made while a run is going', async () => {
    const { sync, runs } = manualSync();
    const done: number[] = [];
    const first = sync.request().then(() => done.push(1));
    assert.equal(runs.length, 1);
    // Made while run 1 is going: they may have written after it started, so they need run 2.
    const waiting = [2, 3, 4, 5].map((n) => sync.request().then(() => done.push(n)));
    assert.equal(runs.length, 1);
    runs[0].finish();
    await first;
    await turn();
    assert.deepEqual(done, [1]);
    assert.equal(runs.length, 2);
    const late = sync.request().then(() => done.push(6)); // during run 2: needs run 3
    runs[1].finish();
    await Promise.all(waiting);
    await turn();
    assert.deepEqual(done, [1, 2, 3, 4, 5]);
    assert.equal(runs.length, 3);
    runs[2].finish();
    await late;
    assert.deepEqual(done, [1, 2, 3, 4, 5, 6]);
    assert.equal(sync.busy, false);
  });

  it('rejects the requests a failed run covered, and runs again for the next', async () => {
    const { sync, runs } = manualSync();
    const failed = settle(sync.request());
    runs[0].finish(new Error('EIO'));
    const result = await failed;
    assert.ok(!result.ok && (result.error as Error).message === 'EIO');
    const next = sync.request();
    assert.equal(runs.length, 2);
    runs[1].finish();
    await next;
  });
});

describe('FsObjectStore shared directory fsyncs', { timeout: 60_000 }, () => {
  it('makes the puts renamed while a directory fsync runs share the next one', async () => {
    await withTempDirectory(async (directory) => {
      let release: () => void = () => undefined;
      let armed = false;
      const store = new FsObjectStore({
        directory,
        // Hold back the first shared fsync of the ingest directory until every put has renamed its file.
        beforeDirectorySync: async (dir) => {
          if (!armed || !dir.endsWith('ingest')) return;
          armed = false;
          await new Promise<void>((resolve) => (release = resolve));
        },
      });
      await store.put('t/ingest/setup', new Uint8Array([0])); // creates and syncs the directory chain
      armed = true;
      const before = store.stats();
      const puts = 32;
      const keys = Array.from({ length: puts }, (_, i) => `t/ingest/${String(i).padStart(2, '0')}`);
      let acknowledged = 0;
      const writes = keys.map((key, i) => store.put(key, new Uint8Array([i])).then(() => acknowledged++));
      // Every object is renamed into place (listed) while the first fsync is held: nobody is acknowledged yet.
      for (let listed = 0; listed < puts + 1; ) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        listed = 0;
        for await (const _ of store.list('t/ingest/')) listed++;
      }
      assert.equal(acknowledged, 0);
      release();
      await Promise.all(writes);
      const after = store.stats();
      assert.equal(after.fileSyncs - before.fileSyncs, puts);
      // The held fsync (started after the first rename) and one more for every rename made while it was held.
      assert.equal(after.directorySyncs - before.directorySyncs, 2);
      for (const [i, key] of keys.entries()) assert.deepEqual([...(await store.get(key))], [i]);
    });
  });
});
