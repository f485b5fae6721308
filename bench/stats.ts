/**
 * Figures the benchmarks share, in a module of their own: a bench that needs only these does not load
 * what starting worker processes needs (worker-process.ts: the bundle's build).
 */

/** The median of `values` (the mean of the two middle ones for an even count); 0 for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
