/** The few statistics the benchmark reports, in one place. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** max − min. */
export function range(xs: readonly number[]): number {
  return Math.max(...xs) - Math.min(...xs);
}

/** max ÷ min − 1, to three decimals: how far apart the slowest and the fastest run are. */
export function relativeSpread(xs: readonly number[]): number {
  return +(Math.max(...xs) / Math.min(...xs) - 1).toFixed(3);
}

/**
 * A stall from perf_hooks' event-loop histogram: it records the whole interval between its
 * timer's runs, not the delay beyond it, so the longest reading less one interval is the stall.
 */
export function stallBeyondIntervalMs(longestIntervalMs: number, resolutionMs: number): number {
  return Math.max(0, longestIntervalMs - resolutionMs);
}
