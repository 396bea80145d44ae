import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { handleDispatcherEvent } from '../../lib/lambda/push.ts';
import { ScheduledWakeUps, wakeUpsFromEnv, type WakeScheduleInput } from '../../lib/lambda/wake-ups.ts';
import type { Dispatcher } from '../../lib/push/dispatcher.ts';

const T0 = Date.UTC(2026, 11, 2, 6, 30, 10, 500); // 06:30:10.500

function setup(answer: (input: WakeScheduleInput) => Promise<unknown> = async () => ({})) {
  const sent: WakeScheduleInput[] = [];
  const errors: string[] = [];
  let now = T0;
  const wakeUps = new ScheduledWakeUps({
    createSchedule: (input) => {
      sent.push(input);
      return answer(input);
    },
    group: 'sluice-wake',
    roleArn: 'arn:aws:iam::123456789012:role/wake',
    targetArn: () => 'arn:aws:lambda:eu-west-1:123456789012:function:dispatcher',
    now: () => now,
    logError: (message) => errors.push(message),
  });
  return { wakeUps, sent, errors, advance: (ms: number) => (now += ms) };
}

describe('delayed wake-ups of the dispatcher (EventBridge Scheduler)', () => {
  it('a one-time schedule at the first whole minute at or after the due time, invoking the dispatcher for that consumer, deleted after it ran', async () => {
    const { wakeUps, sent } = setup();
    wakeUps.wake('billing', T0 + 95_000); // due 06:31:45.500
    await wakeUps.settled();
    assert.equal(sent.length, 1);
    const [input] = sent;
    assert.equal(input.ScheduleExpression, 'at(2026-12-02T06:32:00)');
    assert.equal(input.ScheduleExpressionTimezone, 'UTC');
    assert.deepEqual(input.FlexibleTimeWindow, { Mode: 'OFF' });
    assert.equal(input.ActionAfterCompletion, 'DELETE');
    assert.equal(input.GroupName, 'sluice-wake');
    assert.equal(input.Target.Arn, 'arn:aws:lambda:eu-west-1:123456789012:function:dispatcher');
    assert.equal(input.Target.RoleArn, 'arn:aws:iam::123456789012:role/wake');
    assert.deepEqual(JSON.parse(input.Target.Input), { consumers: ['billing'] });
    assert.match(input.Name, /^[0-9a-zA-Z_.-]{1,64}$/);
  });

  it('never a minute that may already have begun: a retry due now or in the past wakes at the next minute', async () => {
    const { wakeUps, sent } = setup();
    wakeUps.wake('billing', T0 - 600_000);
    wakeUps.wake('orders', T0 + 1_000);
    await wakeUps.settled();
    assert.deepEqual(sent.map((s) => s.ScheduleExpression), ['at(2026-12-02T06:31:00)', 'at(2026-12-02T06:31:00)']);
  });

  it('one schedule per consumer and minute: repeated wake-ups coalesce, here and (ConflictException) across executions', async () => {
    const existing = new Set<string>();
    const { wakeUps, sent, errors } = setup(async (input) => {
      if (existing.has(input.Name)) throw Object.assign(new Error('exists'), { name: 'ConflictException' });
      existing.add(input.Name);
      return {};
    });
    for (let i = 0; i < 50; i++) wakeUps.wake('billing', T0 + 20_000 + i * 100); // all in 06:31
    wakeUps.wake('billing', T0 + 70_000); // 06:32
    wakeUps.wake('a-consumer-with-a-name-far-longer-than-sixty-four-characters-which-a-schedule-name-cannot-hold', T0 + 20_000);
    await wakeUps.settled();
    assert.equal(sent.length, 3);
    assert.equal(new Set(sent.map((s) => s.Name)).size, 3);
    assert.ok(sent.every((s) => s.Name.length <= 64));
    // another execution environment asking for the same minute: the name exists, nothing to do
    const other = setup(async (input) => {
      if (existing.has(input.Name)) throw Object.assign(new Error('exists'), { name: 'ConflictException' });
      return {};
    });
    other.wakeUps.wake('billing', T0 + 30_000);
    await other.wakeUps.settled();
    assert.deepEqual(other.errors, []);
    assert.deepEqual(errors, []);
  });

  it('a failed CreateSchedule is logged, never thrown, and asked for again by the next wake-up', async () => {
    let fail = true;
    const { wakeUps, sent, errors } = setup(async () => {
      if (fail) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      return {};
    });
    wakeUps.wake('billing', T0 + 20_000);
    await wakeUps.settled();
    assert.equal(errors.length, 1);
    assert.match(errors[0], /billing: scheduling a wake-up failed/);
    fail = false;
    wakeUps.wake('billing', T0 + 20_000);
    await wakeUps.settled();
    assert.equal(sent.length, 2);
    assert.equal(errors.length, 1);
  });

  it('the SDK command accepts the input (SchedulerClient mocked); without the environment there are no wake-ups', async () => {
    const mock = mockClient(SchedulerClient);
    try {
      mock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/sluice-wake/x' });
      const client = new SchedulerClient({ region: 'eu-west-1' });
      const wakeUps = wakeUpsFromEnv({ SLUICE_WAKE_GROUP: 'sluice-wake', SLUICE_WAKE_ROLE_ARN: 'arn:aws:iam::123456789012:role/wake' }, () => (input) => client.send(new CreateScheduleCommand(input)), () => 'arn:aws:lambda:eu-west-1:123456789012:function:d');
      assert.ok(wakeUps);
      wakeUps.wake('billing', Date.now() + 120_000);
      await wakeUps.settled();
      const calls = mock.commandCalls(CreateScheduleCommand);
      assert.equal(calls.length, 1);
      assert.equal(calls[0].args[0].input.GroupName, 'sluice-wake');
      assert.equal(wakeUpsFromEnv({}, () => async () => ({}), () => ''), undefined);
    } finally {
      mock.restore();
    }
  });

  it('a wake-up event runs only the consumers it names', async () => {
    const ran: string[] = [];
    const dispatcher = {
      run: async (name: string) => void ran.push(name),
      runAll: async () => void ran.push('*'),
      wake: async () => void ran.push('advanced'),
    } as unknown as Dispatcher;
    assert.deepEqual(await handleDispatcherEvent(dispatcher, { consumers: ['billing', 'audit'] }), { woke: '2 consumers' });
    assert.deepEqual(ran, ['billing', 'audit']);
    await handleDispatcherEvent(dispatcher, { due: true });
    assert.deepEqual(ran, ['billing', 'audit', '*']);
  });
});
