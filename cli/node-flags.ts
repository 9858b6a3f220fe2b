/**
 * The V8 flags and environment riskgate runs with, wherever it runs: the image's entrypoint, bin/riskgate and
 * the benchmark all pass exactly these (a test keeps them in step).
 *
 * --max-semi-space-size=4: V8 otherwise grows each young-generation semi-space to 32 MB under
 * a busy proxy's allocation rate, about 100 MB of resident memory per pod for little
 * throughput. 8 MB took ~90 MB off a sidecar's RSS under load; 4 MB takes another 8–16 MB at the
 * same CPU per request, and 2 MB starts to cost CPU (+5 µs per request) — measured side by
 * side, bench/README.md.
 *
 * Not --single-threaded-gc: it holds ~20 MB more under load, past the 150 MB budget, and what
 * it buys is not established — on one core it halved the longest event-loop stalls in one A/B
 * and changed nothing in the next; with no CPU limit V8's helper threads have cores of their own
 * (bench/README.md, "Stalls, measured again" and "What stalls the enforcer and not the bare
 * proxy").
 */
export const NODE_FLAGS = ['--max-semi-space-size=4'] as const;

/**
 * The environment riskgate's process starts with, beside the flags (a variable already set wins).
 *
 * MALLOC_ARENA_MAX=1: glibc gives each thread that allocates a malloc arena of its own (up to
 * eight per core), and Node's V8 and libuv worker threads each keep one, mostly empty. One
 * shared arena took 3–9 MB off a sidecar's RSS under load at the same CPU per request (measured
 * side by side, bench/README.md). glibc reads it when the process starts: it cannot be set from
 * inside.
 */
export const PROCESS_ENV = { MALLOC_ARENA_MAX: '1' } as const;
