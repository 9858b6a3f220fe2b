/**
 * One structured line per request (pino, JSON on stdout), written asynchronously after the
 * response so logging never sits on the response path. Allows can be sampled; every
 * non-allow is logged. Credentials, bodies and query strings are never logged.
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

  write(record: DecisionRecord): void {
    if (record.action === 'allow' && record.decision === 'allow' && Math.random() >= this.allowSampleRate)
      return;
    this.logger.info(record, 'decision');
  }

  flush(): void {
    this.logger.flush();
  }
}
