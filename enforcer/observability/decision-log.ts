/**
 * One structured line per request (pino, JSON on stdout), serialised after the response has
 * been handed to the socket, in a batch on the next turn of the event loop, so logging never
 * sits on the response path. Allows can be sampled; every non-allow is logged. Credentials,
 * bodies and query strings are never logged. Lines are written in 4 KB batches, and at least
 * once a second whatever is waiting (a quiet hour's one denial shows within a second), and
 * synchronously when the process exits, so a crash does not lose the lines before it.
 *
 * Under a flood of refusals logging must not become the bottleneck: the first refusal of a
 * client for a reason on a route in each second is logged in full, the rest of that second are
 * counted and written as one `decisions repeated` line with the count. Allows are never folded.
 */
import pino, { type Logger } from 'pino';

/** A pending write buffer goes out at least this often; repeated refusals are folded per interval. */
export const FLUSH_INTERVAL_MS = 1000;

/** Distinct client × reason pairs folded per interval; past it, repeats are counted per reason only. */
const MAX_FOLDED = 10_000;

interface Folded {
  record: DecisionRecord;
  repeats: number;
}

/** Every stdout destination made here, written out synchronously when the process exits. */
const destinations = new Set<{ flushSync(): void }>();
let exitHook = false;

function flushAllSync(): void {
  for (const d of destinations) {
    try {
      d.flushSync();
    } catch {}
  }
}

export interface DecisionRecord {
  requestId: string;
  policy: string;
  route: string;
  method: string;
  path: string;
  client: string;
  subject: string | undefined;
  score: number;
  decision: string;
  /** What was done: may differ from decision (monitor mode, a challenge passed, a rule). */
  action: string;
  reasons: string[];
  status: number;
  decisionUs: number;
}

export function createLogger(level = process.env['RISKGATE_LOG_LEVEL'] ?? 'info'): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  destinations.add(destination);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', flushAllSync);
  }
  return pino({ level, base: { component: 'enforcer' } }, destination);
}

export class DecisionLog {
  private readonly logger: Logger;
  private readonly allowSampleRate: number;

  private written = false;
  private readonly timer: NodeJS.Timeout;
  /** Refusals seen this interval, by client, action, first reason and route. */
  private folded = new Map<string, Folded>();

  constructor(logger: Logger, allowSampleRate: number) {
    this.logger = logger;
    this.allowSampleRate = allowSampleRate;
    this.timer = setInterval(() => {
      this.writeRepeats();
      if (!this.written) return;
      this.written = false;
      this.logger.flush();
    }, FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  private pending: DecisionRecord[] = [];

  /** Whether a request with this outcome is logged: sampled allows are skipped before any record is built. */
  wants(action: string, decision: string): boolean {
    return action !== 'allow' || decision !== 'allow' || Math.random() < this.allowSampleRate;
  }

  write(record: DecisionRecord): void {
    if (record.action !== 'allow') {
      const overflow = this.folded.size >= MAX_FOLDED;
      const key = `${overflow ? '*' : record.client}\u0000${record.action}\u0000${record.reasons[0] ?? ''}\u0000${record.route}`;
      const seen = this.folded.get(key);
      if (seen !== undefined) {
        seen.repeats++;
        return;
      }
      this.folded.set(key, { record: overflow ? { ...record, client: '*' } : record, repeats: 0 });
      if (overflow) return;
    }
    if (this.pending.push(record) === 1) setImmediate(this.drain);
  }

  /** One line for each refusal that repeated this interval, with how many times; then a new interval. */
  private writeRepeats(): void {
    if (this.folded.size === 0) return;
    const folded = this.folded;
    this.folded = new Map();
    for (const { record, repeats } of folded.values()) {
      if (repeats === 0) continue;
      this.logger.info(
        {
          policy: record.policy,
          route: record.route,
          client: record.client,
          action: record.action,
          reason: record.reasons[0],
          status: record.status,
          repeats,
          seconds: FLUSH_INTERVAL_MS / 1000,
        },
        'decisions repeated',
      );
      this.written = true;
    }
  }

  private readonly drain = (): void => {
    const records = this.pending;
    this.pending = [];
    for (const record of records) this.logger.info(record, 'decision');
    this.written = true;
  };

  /**
   * A request the enforcer failed on (a bug, not a decision): logged at once, with the error's
   * name, code and message; never the request itself, which may carry credentials.
   */
  failure(requestId: string, err: unknown): void {
    const e = err as { name?: string; code?: string; message?: string };
    this.logger.error(
      { requestId, error: { name: e.name, code: e.code, message: e.message } },
      'request failed',
    );
    this.written = true;
  }

  /** Writes out what is waiting, and stops the timer (the enforcer is stopping). */
  flush(): void {
    clearInterval(this.timer);
    this.drain();
    this.writeRepeats();
    this.logger.flush();
  }
}
