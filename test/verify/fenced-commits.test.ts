/**
 * Issue 11 item 3, "fenced-commits accepted … (generation 1, lease expired)" on the aws backend: the
 * verify workload's own join, heartbeat and commit steps against the real HTTP application and group
 * protocol, on a hand-moved clock, with the one storage fault that matters placed exactly: the group
 * head read of a heartbeat fails after the heartbeat's lease write has landed (verify injects such
 * faults in 4% of storage calls). The heartbeat answers 503, yet the lease was renewed, so the commit
 * that follows is legitimate — and the protocol rightly accepts it. The checker used to count only
 * heartbeats answered 200 and took that commit for one from an expired lease. It now counts every
 * renewal that may have landed; a mutated protocol that accepts a commit from a truly expired lease is
 * still caught.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiKeys } from '../../lib/auth/api-keys.ts';
import { UnavailableError } from '../../lib/errors.ts';
import { Groups } from '../../lib/groups/groups.ts';
import { HEAD_SK, LEASE_PREFIX } from '../../lib/groups/layout.ts';
import { createApp } from '../../lib/http/app.ts';
import { Engine } from '../../lib/log/engine.ts';
import { MemoryMetadataStore, MemoryObjectStore } from '../../lib/storage/memory.ts';
import type { Condition, Item, MetadataStore, QueryOptions, UpdateChanges, UpdateOptions } from '../../lib/storage/ports.ts';
import { check, type History } from '../../verify/checker.ts';
import { commit, emptyGroupHistory, heartbeat, join, SESSION_TIMEOUT_MS, type Call } from '../../verify/group-workload.ts';
import { emptyPushHistory } from '../../verify/push-workload.ts';
import { ManualClock } from '../support/clock.ts';

const KEY = 'verify-admin-key-0123456789abcdef';
const TOPIC = 'verify';

/**
 * The metadata store with two switches: fail the next read of a group head (a storage fault), and —
 * the mutation — make every lease read look `leaseBonusMs` longer, so the protocol no longer fences a
 * member whose session has run out.
 */
class ScriptedStore implements MetadataStore {
  readonly inner = new MemoryMetadataStore();
  failNextHeadRead = false;
  leaseBonusMs = 0;

  async get(pk: string, sk: string): Promise<Item | undefined> {
    if (sk === HEAD_SK && pk.startsWith('g#') && this.failNextHeadRead) {
      this.failNextHeadRead = false;
      throw new UnavailableError('injected: the head read failed');
    }
    const item = await this.inner.get(pk, sk);
    if (item && sk.startsWith(LEASE_PREFIX) && this.leaseBonusMs > 0 && typeof item.leaseUntil === 'bigint') {
      return { ...item, leaseUntil: item.leaseUntil + BigInt(this.leaseBonusMs) };
    }
    return item;
  }
  put(item: Item, condition?: Condition): Promise<void> {
    return this.inner.put(item, condition);
  }
  update(pk: string, sk: string, changes: UpdateChanges, condition?: Condition, options?: UpdateOptions): Promise<Item> {
    return this.inner.update(pk, sk, changes, condition, options);
  }
  delete(pk: string, sk: string, condition?: Condition): Promise<void> {
    return this.inner.delete(pk, sk, condition);
  }
  query(pk: string, options?: QueryOptions): Promise<Item[]> {
    return this.inner.query(pk, options);
  }
}

async function scenario() {
  const clock = new ManualClock();
  const store = new ScriptedStore();
  const engine = new Engine({ objects: new MemoryObjectStore(), metadata: store, now: clock.now, topicCacheMs: 0 });
  const keys = new ApiKeys(store);
  await keys.ensure(KEY, 'verify');
  await engine.topics.create(TOPIC, 1);
  const app = createApp({ engine, keys, groups: new Groups({ engine, now: clock.now }), now: clock.now, logError: () => {} });
  const call: Call = (method, path, query = '', body) =>
    app({
      method,
      path,
      query: new URLSearchParams(query),
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: body === undefined ? new Uint8Array(0) : Buffer.from(JSON.stringify(body)),
    });
  const group = emptyGroupHistory();
  const history: History = {
    acked: new Map(),
    attempted: new Set(),
    observations: [],
    orderViolations: [],
    final: new Map([[0, new Map()]]),
    aborted: new Map(),
    faults: { definite: 0, ambiguous: 0, throttle: 0, latency: 0, crash: 0, zombie: 0 },
    maintenanceFaults: { definite: 0, ambiguous: 0, throttle: 0, latency: 0, crash: 0, zombie: 0 },
    maintenance: { passes: 0, segmentsWritten: 0, gapsClosed: 0, objectsDeleted: 0 },
    group,
    push: emptyPushHistory(),
  };
  const session = await join(call, TOPIC, group, undefined, clock.now);
  assert.ok(session && session !== 'gone', 'joined');
  return { clock, store, call, group, history, session };
}

it('a heartbeat that renewed the lease but answered 503 makes the next commit legitimate; the checker agrees, and the old rule did not', async () => {
  const { clock, store, call, group, history, session } = await scenario();
  clock.advance(600);
  store.failNextHeadRead = true;
  assert.equal(await heartbeat(call, session, clock.now), 'failed', 'answered 503: the head read failed after the lease write');
  clock.advance(500); // 1,100 ms after the last heartbeat answered 200, 500 ms after the one whose lease write landed
  assert.equal(await commit(call, TOPIC, session, group, clock.now), 'ok', 'the protocol accepts it: the lease runs until 1,600 ms');
  const [accepted] = group.commits;
  assert.ok(accepted.sentAt > accepted.leaseConfirmedAt + SESSION_TIMEOUT_MS, 'the old rule (confirmed renewals only) counted this commit as fenced');
  const verdict = check(history);
  assert.equal(verdict.group.fencedCommitsAccepted, 0, verdict.examples.join('\n'));
  assert.equal(verdict.group.renewedByUnansweredHeartbeat, 1);
});

it('a commit from a lease that nothing renewed is refused by the protocol; a mutated protocol that accepts it is caught by the checker', async () => {
  {
    const { clock, call, group, history, session } = await scenario();
    clock.advance(600);
    assert.equal(await heartbeat(call, session, clock.now), 'ok');
    clock.advance(SESSION_TIMEOUT_MS); // the lease ran out at 1,600 ms; nothing renewed it
    assert.equal(await commit(call, TOPIC, session, group, clock.now), 'fenced', 'the real protocol refuses it');
    assert.equal(check(history).group.fencedCommitsAccepted, 0);
  }
  {
    const { clock, store, call, group, history, session } = await scenario();
    clock.advance(600);
    store.failNextHeadRead = true;
    assert.equal(await heartbeat(call, session, clock.now), 'failed'); // renewed, unanswered: the most the checker must allow for
    clock.advance(SESSION_TIMEOUT_MS); // past even that renewal
    store.leaseBonusMs = 60_000; // the mutation: leases look a minute longer to the protocol
    assert.equal(await commit(call, TOPIC, session, group, clock.now), 'ok', 'the mutated protocol accepts a commit from an expired lease');
    const verdict = check(history);
    assert.equal(verdict.group.fencedCommitsAccepted, 1, 'and the checker counts it');
    assert.match(verdict.examples.join('\n'), /lease expired: sent 1000 ms after its last possible renewal/);
  }
});
