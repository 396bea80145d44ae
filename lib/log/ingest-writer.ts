/**
 * Writes ingest objects, and shares them between concurrent produce requests of one topic (group
 * commit for the object store). While one object write of a topic is in flight, the requests that
 * arrive gather into the next object, written the moment the first one ends, as one PUT: N concurrent
 * requests cost about two object writes between them instead of N (on the local file system: one temp
 * file, one fsync, one rename and one directory fsync per group instead of per request). A lone request
 * writes at once, as before; nothing waits on a timer.
 *
 * Every request in a group is acknowledged only after the group's put resolved (the object durable),
 * and gets the byte offset of its own bytes in the object; the entries it writes then name that
 * object and those positions, so readers, compaction and garbage collection (which keeps an object while
 * any entry names it) work unchanged: an object shared by several requests is no different from one
 * request's object holding several partitions. A failed put rejects every request of its group, none
 * of which has written anything else yet (the object, if any of it landed, is an orphan maintenance
 * sweeps); requests of other groups are not affected.
 *
 * Bounded: a group stops taking requests at `maxObjectBytes`; a request that does not fit then writes
 * an object of its own right away, in parallel.
 */
import { ingestObjectKey, timeOrderedId } from './layout.ts';
import type { ObjectStore } from '../storage/ports.ts';

export interface IngestWriterOptions {
  readonly objects: ObjectStore;
  readonly now: () => number;
  /** Share objects between concurrent requests of a topic. @default true */
  readonly coalesce?: boolean;
  /** Most bytes one shared object gathers. @default 16 MiB */
  readonly maxObjectBytes?: number;
  /** Test hook: called with the number of requests in a group just before its put (can throw or wait). */
  readonly beforeGroupPut?: (requests: number) => void | Promise<void>;
}

/** Where a request's bytes went: the object, and the offset of the request's first byte in it. */
export interface WrittenIngest {
  readonly objectKey: string;
  readonly base: number;
}

interface Member {
  readonly chunks: readonly Uint8Array[];
  readonly base: number;
  readonly resolve: (written: WrittenIngest) => void;
  readonly reject: (error: unknown) => void;
}

interface Group {
  readonly members: Member[];
  length: number;
}

/** Per topic: whether a write is in flight, and the group gathering behind it. */
interface TopicQueue {
  next: Group | undefined;
}

const DEFAULT_MAX_OBJECT_BYTES = 16 * 1024 * 1024;

export class IngestWriter {
  readonly #objects: ObjectStore;
  readonly #now: () => number;
  readonly #coalesce: boolean;
  readonly #maxObjectBytes: number;
  readonly #beforeGroupPut: IngestWriterOptions['beforeGroupPut'];
  /** Topics with an object write in flight. */
  readonly #queues = new Map<string, TopicQueue>();

  constructor(options: IngestWriterOptions) {
    this.#objects = options.objects;
    this.#now = options.now;
    this.#coalesce = options.coalesce ?? true;
    this.#maxObjectBytes = options.maxObjectBytes ?? DEFAULT_MAX_OBJECT_BYTES;
    this.#beforeGroupPut = options.beforeGroupPut;
  }

  /** Writes `chunks` (back to back, `length` bytes in all) into an ingest object of the topic; resolves once it is durable. */
  write(topicId: string, chunks: readonly Uint8Array[], length: number): Promise<WrittenIngest> {
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(topicId);
      if (!this.#coalesce || !queue) {
        const group: Group = { members: [{ chunks, base: 0, resolve, reject }], length };
        if (!this.#coalesce) return void this.#put(topicId, group);
        const fresh: TopicQueue = { next: undefined };
        this.#queues.set(topicId, fresh);
        return void this.#run(topicId, fresh, group);
      }
      if (queue.next && queue.next.length + length > this.#maxObjectBytes) {
        // Full: this request writes its own object now rather than grow the group past the bound.
        return void this.#put(topicId, { members: [{ chunks, base: 0, resolve, reject }], length });
      }
      const group = (queue.next ??= { members: [], length: 0 });
      group.members.push({ chunks, base: group.length, resolve, reject });
      group.length += length;
    });
  }

  /** Writes `group`, then each group that gathered meanwhile, until none is waiting. */
  async #run(topicId: string, queue: TopicQueue, first: Group): Promise<void> {
    for (let group: Group | undefined = first; group; ) {
      await this.#put(topicId, group);
      group = queue.next;
      queue.next = undefined;
    }
    this.#queues.delete(topicId);
  }

  /** One put for the group; settles every member (never rejects itself). */
  async #put(topicId: string, group: Group): Promise<void> {
    try {
      await this.#beforeGroupPut?.(group.members.length);
      // Named when written, so its time (the commit window's clock) is the write's, not the first arrival's.
      const objectKey = ingestObjectKey(topicId, timeOrderedId(this.#now()));
      await this.#objects.put(objectKey, concat(group));
      for (const member of group.members) member.resolve({ objectKey, base: member.base });
    } catch (error) {
      for (const member of group.members) member.reject(error);
    }
  }
}

/** The group's bytes in order; a single chunk is passed through without a copy. */
function concat(group: Group): Uint8Array {
  if (group.members.length === 1 && group.members[0].chunks.length === 1) return group.members[0].chunks[0];
  const body = new Uint8Array(group.length);
  let at = 0;
  for (const member of group.members) {
    for (const chunk of member.chunks) {
      body.set(chunk, at);
      at += chunk.length;
    }
  }
  return body;
}
