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

export async function startAll(components: readonly Component[]): Promise<Started> {
  const started: Component[] = [];
  const stopAll = async () => {
    while (started.length > 0) {
      const component = started.pop()!;
      try {
        await component.stop();
      } catch {
        // A component that fails to stop must not keep the others running.
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
