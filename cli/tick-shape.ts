/**
 * Keeps one `process.nextTick` tick object alive for the life of the process, so V8 never
 * collects the shape (hidden class) Node's tick objects are built with.
 *
 * Node builds every tick object as an object literal with computed symbol keys. V8 defines such
 * keys through a feedback slot that remembers the first shape it saw and turns megamorphic, for
 * good, the first time it sees another. Nothing keeps that shape alive between ticks, so a full
 * collection while no tick is pending — a sidecar idling, a collection right after start —
 * frees it; the next tick builds a new shape, and from then on every `process.nextTick`, several
 * per proxied request, defines its properties in V8's runtime (~1 µs each instead of ~50 ns).
 * Measured (bench/README.md, "What idle did to the enforcer"): one forced collection before any
 * traffic took the forwarding-only enforcer from 55–58 to 65–66 µs of CPU per request; holding one
 * tick object from the start, 55–57 (`node bench/collected-before-traffic.ts` shows it again).
 */
import { executionAsyncResource } from 'node:async_hooks';

let held: object | undefined;

/** Holds the first tick object after this call (once per process; the shape is all that matters). */
export function holdTickShape(): void {
  if (held !== undefined) return;
  // Inside a tick's callback, the current async resource is the tick object itself.
  process.nextTick(() => {
    held ??= executionAsyncResource();
  });
}

/** The tick object held, once the tick has run. */
export function heldTickObject(): object | undefined {
  return held;
}
