/** A group member as a client drives it: join, heartbeat, rejoin on rebalance, release revoking partitions. */
import type { AssignedPartition, Groups, HeartbeatResult, JoinRequest, JoinResult, TopicPartition } from '../../lib/groups/groups.ts';

export class SimMember {
  readonly groups: Groups;
  readonly group: string;
  readonly request: JoinRequest;
  memberId?: string;
  generation = -1;
  assignments: AssignedPartition[] = [];
  revoking: TopicPartition[] = [];

  constructor(groups: Groups, group: string, request: JoinRequest) {
    this.groups = groups;
    this.group = group;
    this.request = request;
  }

  async join(): Promise<JoinResult> {
    const result = await this.groups.join(this.group, { ...this.request, ...(this.memberId ? { memberId: this.memberId } : {}) });
    this.memberId = result.memberId;
    this.generation = result.generation;
    this.assignments = result.assignments;
    this.revoking = result.revoking;
    return result;
  }

  heartbeat(): Promise<HeartbeatResult> {
    return this.groups.heartbeat(this.group, this.memberId!, this.generation);
  }

  commit(offsets: Array<{ topic: string; partition: number; offset: bigint }>) {
    return this.groups.commit(this.group, { memberId: this.memberId!, generation: this.generation, offsets });
  }

  leave(): Promise<void> {
    return this.groups.leave(this.group, this.memberId!);
  }

  partitions(): number[] {
    return this.assignments.map((a) => a.partition).sort((a, b) => a - b);
  }
}

/**
 * Heartbeats every member and lets each rejoin while its heartbeat says so, releasing revoking
 * partitions (after `onRevoking`, where a client commits them), until a full round is quiet. Returns
 * how many heartbeats that took (each is one write of the member's lease).
 */
export async function settle(members: readonly SimMember[], onRevoking?: (member: SimMember) => Promise<void>): Promise<{ heartbeats: number }> {
  let heartbeats = 0;
  for (let round = 0; round < 50; round++) {
    let quiet = true;
    for (const member of members) {
      const { rebalance } = await member.heartbeat();
      heartbeats++;
      if (!rebalance) continue;
      quiet = false;
      await member.join();
      if (member.revoking.length > 0) {
        await onRevoking?.(member);
        await member.join();
      }
    }
    if (quiet) return { heartbeats };
  }
  throw new Error('the group did not settle in 50 rounds');
}
