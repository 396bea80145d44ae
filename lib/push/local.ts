/**
 * Push consumers in the local server (`npm start`): the dispatcher in process for URL targets,
 * woken by the engine's append hook (the shared trigger), and by timers for retries and batching
 * windows that fall due. The state is in SQLite like everything else, so a restart resumes from the
 * committed offsets and the stored backoff: start() runs every consumer once.
 */
import type { Groups } from '../groups/groups.ts';
import type { Engine } from '../log/engine.ts';
import { AppendFanout, localAppendSource } from '../trigger/append-trigger.ts';
import type { PushConsumers } from './consumers.ts';
import { Dispatcher, type DispatcherOptions } from './dispatcher.ts';
import type { TargetFactory } from './targets.ts';

export interface LocalPushOptions {
  readonly engine: Engine;
  readonly groups: Groups;
  readonly consumers: PushConsumers;
  readonly targets: TargetFactory;
  /** The fan-out the engine's append hook feeds; other subscribers (live tail) may share it. @default a new one */
  readonly fanout?: AppendFanout;
  readonly dispatcher?: Partial<Pick<DispatcherOptions, 'sessionTimeoutMs' | 'afterStep' | 'now' | 'random'>>;
  readonly logError?: (message: string, error: unknown) => void;
}

export class LocalPush {
  readonly dispatcher: Dispatcher;
  readonly fanout: AppendFanout;
  readonly #engine: Engine;
  readonly #timers = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  #unsubscribe: Array<() => void> = [];
  #closed = false;

  constructor(options: LocalPushOptions) {
    this.#engine = options.engine;
    this.fanout = options.fanout ?? new AppendFanout();
    const logError = options.logError ?? ((message, error) => console.error(`sluice: ${message}`, error));
    this.dispatcher = new Dispatcher({
      engine: options.engine,
      groups: options.groups,
      consumers: options.consumers,
      targets: options.targets,
      ...options.dispatcher,
      scheduleWake: (consumer, at) => this.#wakeAt(consumer, at),
      logError,
    });
  }

  /** Subscribes to appends and runs every consumer once (a restart resumes where they were). */
  async start(): Promise<void> {
    this.#unsubscribe.push(this.fanout.subscribe((advanced) => this.dispatcher.wake(advanced)));
    this.#unsubscribe.push(localAppendSource(this.#engine, this.fanout));
    await this.dispatcher.runAll();
  }

  /** A consumer was created or resumed: run it now. */
  changed(name: string): void {
    if (!this.#closed) void this.dispatcher.run(name);
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.dispatcher.close();
  }

  #wakeAt(consumer: string, at: number): void {
    if (this.#closed) return;
    const existing = this.#timers.get(consumer);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(consumer);
      void this.dispatcher.run(consumer);
    }, Math.max(at - Date.now(), 1));
    timer.unref();
    this.#timers.set(consumer, { at, timer });
  }
}
