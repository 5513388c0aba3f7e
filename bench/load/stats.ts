import { percentile } from '../machine.js';

export interface Distribution {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export function distribution(values: number[]): Distribution {
  if (values.length === 0) return { count: 0, p50: null, p99: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1)! };
}

export interface Spread {
  min: number;
  median: number;
  max: number;
  runs: number;
}

/** Min, median and max of one figure over runs; runs where it could not be measured are left out. */
export function spread(values: (number | null)[]): Spread | null {
  const measured = values.filter((value): value is number => value !== null && Number.isFinite(value)).sort((a, b) => a - b);
  if (measured.length === 0) return null;
  const middle = Math.floor(measured.length / 2);
  const median = measured.length % 2 ? measured[middle]! : (measured[middle - 1]! + measured[middle]!) / 2;
  return { min: measured[0]!, median, max: measured.at(-1)!, runs: measured.length };
}
