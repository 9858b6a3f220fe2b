import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DecisionLog, type DecisionRecord } from './decision-log.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

const record = (action: string, decision = action): DecisionRecord => ({
  requestId: 'r1',
  policy: 'p',
  route: 'login',
  method: 'POST',
  path: '/login',
  client: '203.0.113.9',
  subject: undefined,
  score: 80,
  decision,
  action,
  reasons: ['ip.reputation'],
  status: 403,
  decisionUs: 3,
});

describe('DecisionLog', () => {
  it('writes records after the current turn of the event loop, in order, all of them', async () => {
    const { lines, logger } = capture();
    const log = new DecisionLog(logger, 0);
    log.write(record('deny'));
    log.write({ ...record('challenge'), requestId: 'r2' });
    expect(lines).toHaveLength(0);
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l['requestId'], l['action'], l['msg']])).toEqual([
      ['r1', 'deny', 'decision'],
      ['r2', 'challenge', 'decision'],
    ]);
  });

  it('samples only allows: every other outcome is always wanted', () => {
    const { logger } = capture();
    const none = new DecisionLog(logger, 0);
    expect(none.wants('allow', 'allow')).toBe(false);
    expect(none.wants('deny', 'deny')).toBe(true);
    // Monitor mode: allowed, but the policy would have denied.
    expect(none.wants('allow', 'deny')).toBe(true);
    expect(new DecisionLog(logger, 1).wants('allow', 'allow')).toBe(true);
  });

  it('logs a failure with the error, not the request', () => {
    const { lines, logger } = capture();
    const err = Object.assign(new TypeError('boom'), { code: 'X_CODE' });
    new DecisionLog(logger, 1).failure('r9', err);
    expect(lines[0]).toMatchObject({
      level: 50,
      requestId: 'r9',
      error: { name: 'TypeError', code: 'X_CODE', message: 'boom' },
      msg: 'request failed',
    });
  });

  it('under a flood, logs a client’s first refusal in full and folds the rest of the second into one counted line', async () => {
    const { lines, logger } = capture();
    const log = new DecisionLog(logger, 0);
    for (let i = 0; i < 1000; i++) log.write({ ...record('deny'), requestId: `a${i}` });
    for (let i = 0; i < 10; i++) log.write({ ...record('deny'), requestId: `b${i}`, client: '198.51.100.7' });
    // Another reason from the same client is its own line.
    log.write({ ...record('deny'), requestId: 'c', reasons: ['geo.country_denied'] });
    // Allows are never folded.
    for (let i = 0; i < 3; i++) log.write({ ...record('allow'), requestId: `ok${i}` });
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l['requestId'])).toEqual(['a0', 'b0', 'c', 'ok0', 'ok1', 'ok2']);
    log.flush();
    const repeats = lines.filter((l) => l['msg'] === 'decisions repeated');
    expect(repeats.map((l) => [l['client'], l['reason'], l['repeats']])).toEqual([
      ['203.0.113.9', 'ip.reputation', 999],
      ['198.51.100.7', 'ip.reputation', 9],
    ]);
  });

  it('flush writes what is pending at once', () => {
    const { lines, logger } = capture();
    const log = new DecisionLog(logger, 0);
    log.write(record('deny'));
    log.flush();
    expect(lines).toHaveLength(1);
  });
});
