/**
 * Preloaded (`--expose-gc --import`) by bench/collected-before-traffic.ts: one full collection a
 * second after start, before any traffic — what an idle spell does to a sidecar, on cue.
 */
setTimeout(() => (globalThis as { gc?: () => void }).gc?.(), 1000).unref();
