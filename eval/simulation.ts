/**
 * A discrete-event clock for the evaluation: many actors (users, bots) each run as a coroutine
 * that sleeps in simulated time; the scheduler wakes exactly one at a time, earliest first, and
 * sets the clock the enforcer reads. Days of traffic play in a minute, in a reproducible order.
 */

interface Waiter {
  at: number;
  seq: number;
  wake: () => void;
}

export class Simulation {
  now: number;
  private readonly queue: Waiter[] = [];
  private seq = 0;
  private yielded: (() => void) | undefined;

  constructor(start: number) {
    this.now = start;
  }

  /** Suspends the calling actor until simulated time `at`. */
  sleepUntil(at: number): Promise<void> {
    return new Promise<void>((wake) => {
      this.push({ at: Math.max(at, this.now), seq: this.seq++, wake });
      this.yieldControl();
    });
  }

  sleep(ms: number): Promise<void> {
    return this.sleepUntil(this.now + ms);
  }

  /** Starts an actor at `at`; it runs only when the scheduler wakes it. */
  spawn(at: number, actor: (sim: Simulation) => Promise<void>): void {
    this.push({
      at,
      seq: this.seq++,
      wake: () => {
        actor(this).then(
          () => this.yieldControl(),
          (err: unknown) => {
            console.error('actor failed:', err);
            this.yieldControl();
          },
        );
      },
    });
  }

  /** Runs until no actor is waiting. */
  async run(): Promise<void> {
    while (this.queue.length > 0) {
      const next = this.pop();
      this.now = next.at;
      const done = new Promise<void>((resolve) => {
        this.yielded = resolve;
      });
      next.wake();
      await done;
    }
  }

  private yieldControl(): void {
    const y = this.yielded;
    this.yielded = undefined;
    y?.();
  }

  private push(w: Waiter): void {
    const q = this.queue;
    q.push(w);
    let i = q.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (before(q[parent]!, q[i]!)) break;
      [q[parent], q[i]] = [q[i]!, q[parent]!];
      i = parent;
    }
  }

  private pop(): Waiter {
    const q = this.queue;
    const top = q[0]!;
    const last = q.pop()!;
    if (q.length > 0) {
      q[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < q.length && before(q[l]!, q[m]!)) m = l;
        if (r < q.length && before(q[r]!, q[m]!)) m = r;
        if (m === i) break;
        [q[m], q[i]] = [q[i]!, q[m]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Waiter, b: Waiter): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A small, fast, seeded PRNG (mulberry32): the same seed plays the same traffic. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
