/**
 * Timing. Wall time is what a user sees but swings with the neighbours on a shared machine; CPU time
 * (user + system, every thread of the process, libuv's file-system pool included) is steadier, so
 * both are kept. Ratios are taken against baselines measured in the same run.
 */

export interface Timing {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
}

export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; timing: Timing }> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result = await work();
  const wallSeconds = (performance.now() - wallBefore) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { result, timing: { wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 } };
}

/** Runs each lane's items in order, all lanes at once: one request in flight per lane. */
export async function runLanes<T>(lanes: readonly (readonly T[])[], run: (item: T) => Promise<void>): Promise<void> {
  await Promise.all(
    lanes.map(async (lane) => {
      for (const item of lane) await run(item);
    }),
  );
}

/** Deals items round robin into `count` lanes. */
export function dealIntoLanes<T>(items: readonly T[], count: number): T[][] {
  const lanes = Array.from({ length: count }, (): T[] => []);
  items.forEach((item, i) => lanes[i % count].push(item));
  return lanes;
}
