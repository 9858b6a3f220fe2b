import { describe, expect, it } from 'vitest';
import { BoundedCache } from './bounded-cache.ts';

describe('BoundedCache', () => {
  it('never holds more than max entries, however many keys an attacker spins through', () => {
    const cache = new BoundedCache<string, number>({ max: 100 });
    for (let i = 0; i < 10_000; i++) {
      cache.set(`k${i}`, i);
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.get('k9999')).toBe(9999);
    expect(cache.get('k0')).toBeUndefined();
  });

  it('keeps entries that are used while others come and go', () => {
    const cache = new BoundedCache<string, number>({ max: 10 });
    cache.set('hot', 1);
    for (let i = 0; i < 1000; i++) {
      cache.set(`cold${i}`, i);
      expect(cache.get('hot')).toBe(1);
    }
  });

  it('forgets entries that are not used within max/2 insertions', () => {
    const cache = new BoundedCache<string, number>({ max: 10 });
    cache.set('once', 1);
    for (let i = 0; i < 10; i++) cache.set(`other${i}`, i);
    expect(cache.get('once')).toBeUndefined();
  });

  it('expires entries after the default ttl or their own', () => {
    let now = 1_000;
    const cache = new BoundedCache<string, string>({ max: 10, ttlMs: 100, now: () => now });
    cache.set('default', 'a');
    cache.set('short', 'b', 10);
    cache.set('forever', 'c', Number.POSITIVE_INFINITY);
    now += 10;
    expect(cache.get('short')).toBeUndefined();
    expect(cache.get('default')).toBe('a');
    now += 90;
    expect(cache.get('default')).toBeUndefined();
    expect(cache.get('forever')).toBe('c');
  });

  it('expires entries that were moved to the old generation', () => {
    let now = 0;
    const cache = new BoundedCache<string, number>({ max: 4, ttlMs: 50, now: () => now });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3); // a and b are now old
    now = 60;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it('updates, renews and deletes', () => {
    let now = 0;
    const cache = new BoundedCache<string, number>({ max: 10, ttlMs: 100, now: () => now });
    cache.set('k', 1);
    now = 90;
    cache.set('k', 2);
    now = 150;
    expect(cache.get('k')).toBe(2);
    cache.delete('k');
    expect(cache.get('k')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
