/**
 * The V8 flags riskgate runs with, wherever it runs: the image's entrypoint, bin/riskgate and
 * the benchmark all pass exactly these (a test keeps them in step).
 *
 * --max-semi-space-size=4: V8 otherwise grows each young-generation semi-space to 32 MB under
 * a busy proxy's allocation rate, about 100 MB of resident memory per pod for little
 * throughput. 8 MB took ~90 MB off a sidecar's RSS under load; 4 MB takes another 8–16 MB at the
 * same CPU per request, and 2 MB starts to cost CPU (+5 µs per request) — measured side by
 * side, bench/README.md.
 */
export const NODE_FLAGS = ['--max-semi-space-size=4'] as const;
