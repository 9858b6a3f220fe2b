import { describe, expect, it } from 'vitest';
import { selects } from './label-selector.ts';

describe('label selector', () => {
  it('matches labels and expressions like the apiserver', () => {
    const labels = { app: 'shop', tier: 'web' };
    expect(selects({ matchLabels: { app: 'shop' } }, labels)).toBe(true);
    expect(selects({ matchLabels: { app: 'api' } }, labels)).toBe(false);
    expect(
      selects({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'edge'] }] }, labels),
    ).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels)).toBe(
      false,
    );
    expect(selects({ matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, labels)).toBe(false);
  });

  it('selects nothing with an empty selector', () => {
    expect(selects({}, { app: 'shop' })).toBe(false);
  });
});
