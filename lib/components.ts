/**
 * A process is a few long-lived components — listeners, watchers, clients — each with its own
 * start and stop. They start in order and stop in reverse; when one fails to start, those
 * already started are stopped before the error is thrown, so nothing is left running.
 * (lib/ holds helpers that know nothing of Riskgate; enforcer/ and operator/ may import it.)
 */

export interface Component {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export interface Started {
  /** Stops every component, the last started first; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * `stopTimeoutMs`: how long one component may take to stop before the next is stopped anyway —
 * one that hangs (a client waiting on a server that is gone) must not keep the process alive.
 */
export async function startAll(
  components: readonly Component[],
  options: { stopTimeoutMs?: number; onStopTimeout?: (name: string) => void } = {},
): Promise<Started> {
  const started: Component[] = [];
  const limit = options.stopTimeoutMs ?? 10_000;
  const stopAll = async () => {
    while (started.length > 0) {
      const component = started.pop()!;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), limit);
      });
      try {
        const result = await Promise.race([
          Promise.resolve(component.stop()).then(() => 'stopped' as const),
          late,
        ]);
        if (result === 'late') options.onStopTimeout?.(component.name);
      } catch {
        // A component that fails to stop must not keep the others running.
      } finally {
        clearTimeout(timer);
      }
    }
  };
  try {
    for (const component of components) {
      await component.start();
      started.push(component);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { stop: stopAll };
}
