import { describe, expect, it } from 'vitest';
import { decide, decideContributions, scoreOf } from './decide.ts';
import { thresholdsFor } from './thresholds.ts';

const base = { challenge: 40, restrict: 60, deny: 80 };

describe('decision', () => {
  it('applies thresholds at or above each level', () => {
    expect(decide(39, base)).toBe('allow');
    expect(decide(40, base)).toBe('challenge');
    expect(decide(60, base)).toBe('restrict');
    expect(decide(80, base)).toBe('deny');
    expect(decide(100, base)).toBe('deny');
  });

  it('tightens with sensitivity and keeps the order', () => {
    expect(thresholdsFor(base, 'critical')).toEqual({ challenge: 10, restrict: 30, deny: 50 });
    expect(thresholdsFor(base, 'low')).toEqual({ challenge: 50, restrict: 70, deny: 90 });
    expect(thresholdsFor({ challenge: 5, restrict: 10, deny: 20 }, 'critical')).toEqual({
      challenge: 1,
      restrict: 1,
      deny: 1,
    });
    expect(decide(50, thresholdsFor(base, 'critical'))).toBe('deny');
    expect(decide(50, thresholdsFor(base, 'medium'))).toBe('challenge');
  });

  it('caps the score at 100', () => {
    expect(scoreOf([{ points: 90 }, { points: 70 }])).toBe(100);
    expect(scoreOf([])).toBe(0);
  });
});

describe('levers', () => {
  const login = thresholdsFor(base, 'high'); // challenge 25, restrict 45, deny 65

  it('a lever alone challenges, never restricts or denies', () => {
    expect(decideContributions([{ points: 70, lever: true }], login)).toBe('challenge');
    expect(
      decideContributions(
        [
          { points: 42, lever: true },
          { points: 70, lever: true },
        ],
        login,
      ),
    ).toBe('challenge');
    expect(decideContributions([{ points: 10, lever: true }], login)).toBe('allow');
  });

  it('beyond a challenge, only the request’s own evidence counts', () => {
    // 20 of its own and 70 of levers: challenged, not denied.
    expect(decideContributions([{ points: 20 }, { points: 70, lever: true }], login)).toBe('challenge');
    // its own evidence reaches restrict and deny as it would alone
    expect(decideContributions([{ points: 50 }, { points: 70, lever: true }], login)).toBe('restrict');
    expect(decideContributions([{ points: 70 }, { points: 30, lever: true }], login)).toBe('deny');
  });

  it('without levers decides on the score', () => {
    expect(decideContributions([{ points: 30 }, { points: 40 }], login)).toBe('deny');
    expect(decideContributions([], login)).toBe('allow');
  });
});
