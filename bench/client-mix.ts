/**
 * How the benchmark's requests pick their clients, the same in every load generator: a few
 * addresses send most requests, as real traffic does (a Zipf-like weighting by the golden ratio).
 * bench/wrk.lua computes the same picks in Lua.
 */

/** An index in 0..count-1 for request i, spread evenly. */
export function spread(count: number, i: number): number {
  return Math.floor(count * ((i * 0.618033988749895) % 1));
}

/** An entry of `list` for request i, the first entries far more often than the last. */
export function zipfPick<T>(list: readonly T[], i: number): T {
  return list[Math.floor(list.length * ((i * 0.618033988749895) % 1) ** 3)]!;
}
