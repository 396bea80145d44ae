/**
 * Partition assignment strategies, as pure deterministic functions: the same members, topics and
 * previous assignment always give the same answer, so whoever computes a generation computes it the
 * same way, and tests can replay it.
 *
 *   range                Kafka's RangeAssignor: per topic, contiguous ranges to the members subscribed
 *                        to it in key order; the first `partitions % members` get one extra.
 *   roundrobin           Kafka's RoundRobinAssignor: every partition in (topic, partition) order to the
 *                        next member in key order that subscribes to its topic.
 *   cooperative-sticky   keeps every partition where it was as long as balance allows, then moves as
 *                        few as possible. When all members subscribe to the same topics the result is
 *                        exactly balanced (counts differ by at most one) and each member keeps
 *                        min(previous, quota) of its partitions; otherwise a member never has two
 *                        more partitions than another member that could take one of them.
 *
 * Members are given sorted by key (instanceId for static members, else memberId) and topics by name.
 */
import type { AssignmentStrategy as Strategy } from '../api/limits.ts';

export type { Strategy };

export interface AssignorMember {
  readonly key: string;
  readonly topics: readonly string[];
}

export interface AssignorTopic {
  readonly name: string;
  readonly partitions: number;
}

/** Per topic (in the order given), per partition: the index of the owning member, or -1 for none. */
export type Assignment = number[][];

export function assign(
  strategy: Strategy,
  members: readonly AssignorMember[],
  topics: readonly AssignorTopic[],
  previous?: Assignment,
): Assignment {
  const subscribers = topics.map((topic) => members.flatMap((member, index) => (member.topics.includes(topic.name) ? [index] : [])));
  switch (strategy) {
    case 'range':
      return range(topics, subscribers);
    case 'roundrobin':
      return roundRobin(members, topics, subscribers);
    case 'cooperative-sticky':
      return sticky(members, topics, subscribers, previous);
  }
}

function range(topics: readonly AssignorTopic[], subscribers: number[][]): Assignment {
  return topics.map((topic, t) => {
    const owners = new Array<number>(topic.partitions).fill(-1);
    const consumers = subscribers[t];
    if (consumers.length === 0) return owners;
    const each = Math.floor(topic.partitions / consumers.length);
    const extra = topic.partitions % consumers.length;
    let partition = 0;
    consumers.forEach((member, i) => {
      for (let k = 0; k < each + (i < extra ? 1 : 0); k++) owners[partition++] = member;
    });
    return owners;
  });
}

function roundRobin(members: readonly AssignorMember[], topics: readonly AssignorTopic[], subscribers: number[][]): Assignment {
  let cursor = 0;
  return topics.map((topic, t) => {
    const owners = new Array<number>(topic.partitions).fill(-1);
    if (subscribers[t].length === 0) return owners;
    for (let partition = 0; partition < topic.partitions; partition++) {
      while (!members[cursor % members.length].topics.includes(topic.name)) cursor++;
      owners[partition] = cursor % members.length;
      cursor++;
    }
    return owners;
  });
}

function sticky(members: readonly AssignorMember[], topics: readonly AssignorTopic[], subscribers: number[][], previous?: Assignment): Assignment {
  const n = members.length;
  const eligible = topics.map((_, t) => new Set(subscribers[t]));
  const owners = topics.map((topic) => new Array<number>(topic.partitions).fill(-1));
  const held: Array<Array<[number, number]>> = members.map(() => []);
  // 1. Everything stays where it was, if its owner is still here and still subscribed.
  topics.forEach((topic, t) => {
    for (let p = 0; p < topic.partitions; p++) {
      const before = previous?.[t]?.[p] ?? -1;
      if (before >= 0 && before < n && eligible[t].has(before)) {
        owners[t][p] = before;
        held[before].push([t, p]);
      }
    }
  });
  // 2. Equal subscriptions: exact quotas. Members that held the most get the larger quotas, so the
  //    fewest partitions move; a member above its quota gives up only the excess.
  const uniform = n > 0 && topics.every((_, t) => subscribers[t].length === n || subscribers[t].length === 0);
  if (uniform) {
    const total = topics.reduce((sum, topic, t) => sum + (subscribers[t].length > 0 ? topic.partitions : 0), 0);
    const base = Math.floor(total / n);
    const extra = total % n;
    const order = members.map((_, i) => i).sort((a, b) => held[b].length - held[a].length || a - b);
    order.forEach((member, rank) => {
      const quota = base + (rank < extra ? 1 : 0);
      for (const [t, p] of held[member].slice(quota)) owners[t][p] = -1;
      held[member] = held[member].slice(0, quota);
    });
  }
  const counts = held.map((list) => list.length);
  const leastLoaded = (t: number): number => {
    let best = -1;
    for (const member of subscribers[t]) if (best < 0 || counts[member] < counts[best]) best = member;
    return best;
  };
  // 3. Unowned partitions to the least loaded subscriber.
  topics.forEach((topic, t) => {
    for (let p = 0; p < topic.partitions; p++) {
      if (owners[t][p] >= 0 || subscribers[t].length === 0) continue;
      const member = leastLoaded(t);
      owners[t][p] = member;
      counts[member]++;
    }
  });
  // 4. Balance: move a partition only to a subscriber with at least two fewer. Every move lowers the
  //    sum of squared counts, so this ends; with equal subscriptions step 2 leaves nothing to do.
  for (let moved = true; moved; ) {
    moved = false;
    topics.forEach((topic, t) => {
      for (let p = 0; p < topic.partitions; p++) {
        const from = owners[t][p];
        if (from < 0) continue;
        const to = leastLoaded(t);
        if (counts[to] + 1 < counts[from]) {
          owners[t][p] = to;
          counts[from]--;
          counts[to]++;
          moved = true;
        }
      }
    });
  }
  return owners;
}
