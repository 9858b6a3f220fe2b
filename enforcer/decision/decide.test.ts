import { describe, expect, it } from 'vitest';
import { decide, scoreOf } from './decide.ts';
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
