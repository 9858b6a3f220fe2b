/**
 * The V8 flags riskgate runs with, wherever it runs: the image's entrypoint, bin/riskgate and
 * the benchmark all pass exactly these (a test keeps them in step).
 *
 * --max-semi-space-size=8: V8 otherwise grows each young-generation semi-space to 32 MB under
 * a busy proxy's allocation rate, about 100 MB of resident memory per pod for little
 * throughput; with 8 MB a sidecar's RSS under load drops by ~90 MB (measured, bench/README.md).
 */
export const NODE_FLAGS = ['--max-semi-space-size=8'] as const;
