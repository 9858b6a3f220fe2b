/**
 * A client-node informer with the known pitfalls handled: the ListWatch stops for good on a
 * watch error (only 410 Gone re-lists by itself), so errors restart it with backoff; a watchdog
 * restarts a watch that has gone silent, since a dropped connection does not always say so; and
 * a first list that fails does not count as synced (client-node's start() then resolves all the
 * same, with an empty cache: a webhook answering from it would admit pods unprotected). start()
 * returns at once and never throws; `synced` resolves once a list has come back. Handlers
 * receive objects; callers only enqueue keys from them.
 */
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  makeInformer,
} from '@kubernetes/client-node';

export interface InformerHandlers<T> {
  onChange: (obj: T) => void;
  onDelete: (obj: T) => void;
  onError?: (err: unknown) => void;
}

export interface ResilientInformerOptions {
  /** Restart a watch that saw no event or (re)connect for this long. */
  silenceMs?: number;
  maxBackoffMs?: number;
  /**
   * Give up on a list that has not answered in this long, and retry. An apiserver that accepts a
   * connection and never answers (overloaded, or the connection black-holed) would otherwise hold
   * the list, and `synced` with it, for ever; the watchdog only watches a running watch.
   */
  listTimeoutMs?: number;
}

export class ResilientInformer<T extends KubernetesObject> {
  private readonly informer: ReturnType<typeof makeInformer<T>>;
  private lastActivity = Date.now();
  private backoffMs = 0;
  private restarting: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly silenceMs: number;
  private readonly maxBackoffMs: number;
  private syncedResolve: (() => void) | undefined;
  private readonly onError: ((err: unknown) => void) | undefined;
  /** Resolves once a list has come back and its objects are in the cache. */
  readonly synced: Promise<void>;
  restarts = 0;

  constructor(
    kubeconfig: KubeConfig,
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    handlers: InformerHandlers<T>,
    options: ResilientInformerOptions & { labelSelector?: string } = {},
  ) {
    this.onError = handlers.onError;
    this.silenceMs = options.silenceMs ?? 5 * 60_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.synced = new Promise((r) => {
      this.syncedResolve = r;
    });
    const touched = (fn: (o: T) => void) => (o: T) => {
      this.lastActivity = Date.now();
      this.backoffMs = 0;
      fn(o);
    };
    this.informer = makeInformer<T>(
      kubeconfig,
      path,
      async () => {
        const timeoutMs = options.listTimeoutMs ?? 60_000;
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the list of ${path} did not answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        });
        try {
          const result = await Promise.race([list(), late]);
          this.lastActivity = Date.now();
          // client-node adds the listed objects as soon as this returns, before it opens the
          // watch; setImmediate runs after that, and does not wait for the watch to connect.
          setImmediate(() => this.syncedResolve?.());
          return result;
        } finally {
          clearTimeout(timer);
        }
      },
      options.labelSelector,
    );
    this.informer.on('add', touched(handlers.onChange));
    this.informer.on('update', touched(handlers.onChange));
    this.informer.on('delete', touched(handlers.onDelete));
    this.informer.on('connect', () => {
      this.lastActivity = Date.now();
    });
    this.informer.on('error', (err) => {
      handlers.onError?.(err);
      this.scheduleRestart();
    });
  }

  /** Starts listing and watching; returns at once (failures are retried), `synced` says when listed. */
  async start(): Promise<void> {
    this.stopped = false;
    void this.startOnce();
    this.watchdog = setInterval(
      () => {
        if (Date.now() - this.lastActivity > this.silenceMs) this.scheduleRestart(true);
      },
      Math.min(this.silenceMs, 60_000),
    );
    this.watchdog.unref();
  }

  /** One start of the ListWatch; a failure is reported and retried, never thrown. */
  private async startOnce(): Promise<void> {
    try {
      // A failed list is reported through the 'error' event (which schedules the restart) and
      // start() resolves; a failed watch request after a good list throws.
      await this.informer.start();
    } catch (err) {
      this.onError?.(err);
      this.scheduleRestart();
    }
  }

  private scheduleRestart(now = false): void {
    if (this.stopped || this.restarting) return;
    this.backoffMs = now ? 0 : Math.min(this.maxBackoffMs, this.backoffMs ? this.backoffMs * 2 : 500);
    this.restarting = setTimeout(async () => {
      this.restarting = undefined;
      if (this.stopped) return;
      this.restarts++;
      this.lastActivity = Date.now();
      try {
        await this.informer.stop();
      } catch {}
      await this.startOnce();
    }, this.backoffMs);
    this.restarting.unref();
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    if (this.restarting) clearTimeout(this.restarting);
    await this.informer.stop();
  }
}
