import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.ts';

describe('work queue', () => {
  it('deduplicates queued keys', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands out a key twice at once, and reprocesses a key queued while in flight', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    expect(q.length).toBe(0);
    q.done(key!);
    expect(q.length).toBe(1);
  });

  it('backs off per key, exponentially, until forgotten', async () => {
    const q = new WorkQueue({ baseDelayMs: 20, maxDelayMs: 1000 });
    q.addRateLimited('x');
    q.addRateLimited('x'); // a timer is already pending: not queued twice
    expect(q.failuresOf('x')).toBe(2);
    const started = Date.now();
    expect(await q.get()).toBe('x');
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
    q.forget('x');
    expect(q.failuresOf('x')).toBe(0);
  });

  it('releases waiting workers on shutdown', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
  });
});
