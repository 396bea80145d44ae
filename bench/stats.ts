/**
 * Repeated measurements on a shared, noisy machine: report the median with the min and the max of all
 * runs, never the best one (a best-of hides how much the neighbours moved the figure).
 */

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Median of the values; for an even count, the mean of the two middle values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError('spread of no values');
  if (values.some((value) => !Number.isFinite(value))) throw new RangeError(`spread of non-finite values: ${values.join(', ')}`);
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** `median (min–max)`, each number through `format`; a single run prints just its value. */
export function formatSpread(spread: Spread, format: (value: number) => string): string {
  const middle = format(spread.median);
  if (spread.min === spread.max) return middle;
  return `${middle} (${format(spread.min)}–${format(spread.max)})`;
}
