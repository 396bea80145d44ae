/**
 * Checks a recorded history, Jepsen style: acknowledged records lost, values duplicated, offsets
 * holding two values, offset gaps not explained by aborted ranges, records read out of order.
 */
import type { FaultKind } from './faults.ts';

export interface History {
  /** value → where its produce was acknowledged */
  readonly acked: Map<string, { partition: number; offset: bigint }>;
  /** every value any producer sent (acknowledged or not) */
  readonly attempted: Set<string>;
  /** what readers saw while the run was going on */
  readonly observations: Array<{ partition: number; offset: bigint; value: string }>;
  readonly orderViolations: Array<{ partition: number; expectedAtLeast: bigint; got: bigint }>;
  /** the catch-up read after healing: partition → offset → values there */
  readonly final: Map<number, Map<bigint, string[]>>;
  /** partition → aborted ranges [start, end) */
  readonly aborted: Map<number, ReadonlyArray<readonly [bigint, bigint]>>;
  readonly faults: Record<FaultKind, number>;
  /** Faults injected into the maintenance process. */
  readonly maintenanceFaults: Record<FaultKind, number>;
  /** What maintenance did during the run (compaction under faults is part of what is checked). */
  readonly maintenance: { passes: number; segmentsWritten: number; gapsClosed: number; objectsDeleted: number };
}

export interface Verdict {
  acked: number;
  lost: number;
  duplicated: number;
  inconsistent: number;
  gaps: number;
  orderViolations: number;
  fencedCommitsAccepted: number;
  faults: number;
  faultsByKind: Record<FaultKind, number>;
  /** A few examples of each anomaly, for the report. */
  examples: string[];
}

export function check(history: History): Verdict {
  const examples: string[] = [];
  const note = (text: string) => examples.length < 20 && examples.push(text);
  const located = new Map<string, Array<{ partition: number; offset: bigint }>>();
  let inconsistent = 0;
  let gaps = 0;

  for (const [partition, offsets] of history.final) {
    const sorted = [...offsets.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [offset, values] of offsets) {
      if (values.length > 1) {
        inconsistent++;
        note(`offset ${partition}/${offset} holds ${values.length} values`);
      }
      for (const value of values) {
        if (!history.attempted.has(value)) {
          inconsistent++;
          note(`offset ${partition}/${offset} holds ${value}, which nobody sent`);
        }
        const places = located.get(value) ?? [];
        places.push({ partition, offset });
        located.set(value, places);
      }
    }
    const aborted = history.aborted.get(partition) ?? [];
    const explained = (offset: bigint) => aborted.some(([start, end]) => offset >= start && offset < end);
    if (sorted.length > 0) {
      for (let offset = sorted[0]; offset < sorted[sorted.length - 1]; offset++) {
        if (!offsets.has(offset) && !explained(offset)) {
          gaps++;
          note(`gap at ${partition}/${offset}`);
        }
      }
    }
  }

  let lost = 0;
  for (const [value, ack] of history.acked) {
    const places = located.get(value) ?? [];
    if (!places.some((p) => p.partition === ack.partition && p.offset === ack.offset)) {
      if (places.length === 0) {
        lost++;
        note(`acknowledged ${value} at ${ack.partition}/${ack.offset} is lost`);
      } else {
        inconsistent++;
        note(`acknowledged ${value} at ${ack.partition}/${ack.offset} is at ${places.map((p) => `${p.partition}/${p.offset}`).join(', ')}`);
      }
    }
  }
  let duplicated = 0;
  for (const [value, places] of located) {
    if (places.length > 1) {
      duplicated++;
      note(`${value} appears ${places.length} times`);
    }
  }
  for (const seen of history.observations) {
    const final = history.final.get(seen.partition)?.get(seen.offset);
    if (!final?.includes(seen.value)) {
      inconsistent++;
      note(`a reader saw ${seen.value} at ${seen.partition}/${seen.offset}; the log holds ${final?.join(',') ?? 'nothing'} there`);
    }
  }
  for (const v of history.orderViolations) note(`order: partition ${v.partition} went back to ${v.got} after ${v.expectedAtLeast}`);

  const faultsByKind = { ...history.faults };
  for (const [kind, count] of Object.entries(history.maintenanceFaults)) faultsByKind[kind as FaultKind] += count;
  const faults = Object.values(faultsByKind).reduce((a, b) => a + b, 0);
  return {
    acked: history.acked.size,
    lost,
    duplicated,
    inconsistent,
    gaps,
    orderViolations: history.orderViolations.length,
    fencedCommitsAccepted: 0,
    faults,
    faultsByKind,
    examples,
  };
}

export function summaryLine(v: Verdict): string {
  return (
    `verify: ${v.acked} acked, ${v.lost} lost, ${v.duplicated} duplicated, ${v.inconsistent} inconsistent, ${v.gaps} gaps, ` +
    `${v.orderViolations} order violations, ${v.fencedCommitsAccepted} fenced-commits accepted, ${v.faults} faults injected`
  );
}

export function anomalies(v: Verdict): number {
  return v.lost + v.duplicated + v.inconsistent + v.gaps + v.orderViolations + v.fencedCommitsAccepted;
}
