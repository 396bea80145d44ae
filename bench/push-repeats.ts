/**
 * The push bench's timed part (local delivery to an HTTP target) repeated, for medians with min and
 * max like every other timed figure; its AWS part is counted and modeled, so it runs once.
 */
import { formatPushReport, localDelivery, runPushBench, type PushBenchResult } from './push.ts';
import { formatSpread, spreadOf, type Spread } from './stats.ts';

export interface PushRepeated extends PushBenchResult {
  readonly localRepeated: {
    readonly runs: number;
    readonly records: number;
    readonly recordsPerSecond: Spread;
    readonly p50Ms: Spread;
    readonly p99Ms: Spread;
  };
}

export async function runPushRepeated(options: { quick: boolean; repeats: number }): Promise<PushRepeated> {
  const first = await runPushBench({ quick: options.quick });
  const locals = [first.local];
  while (locals.length < options.repeats) locals.push(await localDelivery(first.local.records));
  return {
    ...first,
    localRepeated: {
      runs: locals.length,
      records: first.local.records,
      recordsPerSecond: spreadOf(locals.map((run) => run.recordsPerSecond)),
      p50Ms: spreadOf(locals.map((run) => run.p50Ms)),
      p99Ms: spreadOf(locals.map((run) => run.p99Ms)),
    },
  };
}

/** The push report with its local line as medians (min–max) over the runs. */
export function formatPushRepeated(push: PushRepeated): string {
  const lines = formatPushReport(push).split('\n');
  const local = push.localRepeated;
  const ms = (value: number) => value.toFixed(1);
  const localLine =
    `  local, to an HTTP target on loopback, median (min–max) of ${local.runs} runs of ${local.records} records: ` +
    `${formatSpread(local.recordsPerSecond, (v) => Math.round(v).toLocaleString('en-US'))} records/s; produce-ack → delivery ` +
    `p50 ${formatSpread(local.p50Ms, ms)} ms, p99 ${formatSpread(local.p99Ms, ms)} ms`;
  return [...lines.filter((line) => !line.startsWith('  local,')), localLine].join('\n');
}
