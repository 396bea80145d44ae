/**
 * Delayed wake-ups of the push dispatcher in AWS: a one-time EventBridge Scheduler schedule per
 * consumer and minute that invokes the dispatcher for that consumer, then deletes itself. A retry's
 * backoff and a batching window (maxWaitMs) end within a minute of when they fall due, instead of at
 * the next append or the next maintenance pass. Nothing runs and nothing is paid while nothing is due:
 * schedules are billed per invocation ($1 per million), not per hour.
 *
 * Scheduler invokes with 60-second precision, so wake-ups are rounded up to the next minute, and a
 * consumer gets one schedule per minute: the name is derived from the consumer and the minute, and
 * CreateSchedule's ConflictException for a name that exists is the coalescing.
 *
 *   SLUICE_WAKE_GROUP      the schedule group (SluiceStreams creates it)
 *   SLUICE_WAKE_ROLE_ARN   the role Scheduler assumes to invoke the dispatcher
 */
import { createHash } from 'node:crypto';

/** The fields of CreateScheduleCommandInput this module sends. */
export interface WakeScheduleInput {
  readonly Name: string;
  readonly GroupName: string;
  readonly ScheduleExpression: string;
  readonly ScheduleExpressionTimezone: 'UTC';
  readonly FlexibleTimeWindow: { readonly Mode: 'OFF' };
  readonly ActionAfterCompletion: 'DELETE';
  readonly Target: { readonly Arn: string; readonly RoleArn: string; readonly Input: string; readonly RetryPolicy: { readonly MaximumRetryAttempts: number } };
}

export type CreateSchedule = (input: WakeScheduleInput) => Promise<unknown>;

export interface WakeUpOptions {
  readonly createSchedule: CreateSchedule;
  readonly group: string;
  readonly roleArn: string;
  /** The dispatcher's ARN (the invocation's own invokedFunctionArn). */
  readonly targetArn: () => string;
  readonly now?: () => number;
  readonly logError?: (message: string, error: unknown) => void;
}

/** What the dispatcher gets invoked with by a wake-up. */
export interface WakeEvent {
  readonly consumers: readonly string[];
}

const MINUTE_MS = 60_000;

export class ScheduledWakeUps {
  readonly #o: WakeUpOptions;
  readonly #now: () => number;
  /** Schedules asked for by this execution environment ("consumer\nminute" → minute), so each is sent once. */
  readonly #asked = new Map<string, number>();
  readonly #pending = new Set<Promise<void>>();

  constructor(options: WakeUpOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** The dispatcher's scheduleWake: the consumer has work at `at` (epoch ms). */
  wake(consumer: string, at: number): void {
    // The first whole minute at or after `at`, and never one that may already have begun.
    const minute = Math.max(Math.ceil(at / MINUTE_MS), Math.floor(this.#now() / MINUTE_MS) + 1);
    const key = `${consumer}\n${minute}`;
    if (this.#asked.has(key)) return;
    this.#forgetPast();
    this.#asked.set(key, minute);
    const input = this.#input(consumer, minute);
    const sent = this.#o
      .createSchedule(input)
      .then(
        () => undefined,
        (error: unknown) => {
          if ((error as { name?: string }).name === 'ConflictException') return; // another run asked for this minute
          this.#asked.delete(key);
          this.#o.logError?.(`push consumer ${consumer}: scheduling a wake-up failed (the maintenance pass runs it instead)`, error);
        },
      )
      .finally(() => this.#pending.delete(sent));
    this.#pending.add(sent);
  }

  /** A warm environment lives for hours: minutes that have begun need no memory (their schedule ran or runs now). */
  #forgetPast(): void {
    const current = Math.floor(this.#now() / MINUTE_MS);
    for (const [key, minute] of this.#asked) if (minute <= current) this.#asked.delete(key);
  }

  /** Waits for the schedules asked for so far (before the invocation returns and the environment freezes). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  #input(consumer: string, minute: number): WakeScheduleInput {
    const when = new Date(minute * MINUTE_MS).toISOString().slice(0, 19); // yyyy-mm-ddThh:mm:ss
    // Names: 1-64 of [0-9a-zA-Z-_.]; consumer names may be longer, so a digest stands for them.
    const digest = createHash('sha256').update(consumer).digest('hex').slice(0, 24);
    return {
      Name: `sluice-wake-${digest}-${minute}`,
      GroupName: this.#o.group,
      ScheduleExpression: `at(${when})`,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: this.#o.targetArn(),
        RoleArn: this.#o.roleArn,
        Input: JSON.stringify({ consumers: [consumer] } satisfies WakeEvent),
        RetryPolicy: { MaximumRetryAttempts: 3 },
      },
    };
  }
}

/** Wake-ups from the dispatcher's environment, or undefined where the stack has none. */
export function wakeUpsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  createSchedule: () => CreateSchedule,
  targetArn: () => string,
  logError?: (message: string, error: unknown) => void,
): ScheduledWakeUps | undefined {
  const group = env.SLUICE_WAKE_GROUP;
  const roleArn = env.SLUICE_WAKE_ROLE_ARN;
  if (!group || !roleArn) return undefined;
  let client: CreateSchedule | undefined;
  return new ScheduledWakeUps({ createSchedule: (input) => (client ??= createSchedule())(input), group, roleArn, targetArn, logError });
}
