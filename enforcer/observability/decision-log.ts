/**
 * One structured line per request (pino, JSON on stdout), serialised after the response has
 * been handed to the socket, in a batch on the next turn of the event loop, so logging never
 * sits on the response path. Allows can be sampled; every non-allow is logged. Credentials,
 * bodies and query strings are never logged.
 */
import pino, { type Logger } from 'pino';

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
  return pino(
    { level, base: { component: 'enforcer' } },
    pino.destination({ dest: 1, sync: false, minLength: 4096 }),
  );
}

export class DecisionLog {
  private readonly logger: Logger;
  private readonly allowSampleRate: number;

  constructor(logger: Logger, allowSampleRate: number) {
    this.logger = logger;
    this.allowSampleRate = allowSampleRate;
  }

  private pending: DecisionRecord[] = [];

  /** Whether a request with this outcome is logged: sampled allows are skipped before any record is built. */
  wants(action: string, decision: string): boolean {
    return action !== 'allow' || decision !== 'allow' || Math.random() < this.allowSampleRate;
  }

  write(record: DecisionRecord): void {
    if (this.pending.push(record) === 1) setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    const records = this.pending;
    this.pending = [];
    for (const record of records) this.logger.info(record, 'decision');
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
  }

  flush(): void {
    this.drain();
    this.logger.flush();
  }
}
