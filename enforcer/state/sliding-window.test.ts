import { describe, expect, it } from 'vitest';
import { SlidingWindowCounter } from './sliding-window.ts';

describe('sliding window counter', () => {
  it('counts within the window and forgets after it', () => {
    const c = new SlidingWindowCounter(10_000, 100);
    const t0 = 1_000_000;
    c.add('k', t0);
    c.add('k', t0 + 2_000);
    expect(c.count('k', t0 + 5_000)).toBe(2);
    expect(c.count('k', t0 + 10_500)).toBe(1);
    expect(c.count('k', t0 + 13_000)).toBe(0);
    expect(c.count('other', t0)).toBe(0);
  });

  it('stays bounded under key churn', () => {
    const c = new SlidingWindowCounter(60_000, 1000);
    for (let i = 0; i < 50_000; i++) c.add(`ip-${i}`, 1_000_000);
    expect(c.size).toBe(1000);
  });
});
