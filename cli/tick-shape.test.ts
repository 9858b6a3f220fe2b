import { describe, expect, it } from 'vitest';
import { heldTickObject, holdTickShape } from './tick-shape.ts';

const tick = () => new Promise<void>((resolve) => process.nextTick(resolve));

describe('holdTickShape', () => {
  // If Node stops handing out the tick object as the async resource, the hold would keep
  // something else alive and the shape would be collectable again: this test is the alarm.
  it('holds a real tick object: callback, args and the async id symbols', async () => {
    holdTickShape();
    await tick();
    const held = heldTickObject() as Record<string | symbol, unknown> | undefined;
    expect(held).toBeTypeOf('object');
    expect(held?.['callback']).toBeTypeOf('function');
    expect(Object.keys(held ?? {})).toEqual(['callback', 'args']);
    const symbols = Object.getOwnPropertySymbols(held ?? {}).map((s) => s.description);
    expect(symbols).toContain('async_id_symbol');
    expect(symbols).toContain('trigger_async_id_symbol');
  });

  it('holds the first one only: later calls keep the same object', async () => {
    holdTickShape();
    await tick();
    const first = heldTickObject();
    holdTickShape();
    await tick();
    expect(heldTickObject()).toBe(first);
  });
});
