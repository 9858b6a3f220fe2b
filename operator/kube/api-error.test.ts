import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { apiErrorText } from './api-error.ts';

describe('apiErrorText', () => {
  it('gives the status and the apiserver message instead of client-node’s wording', () => {
    const err = new ApiException(
      404,
      'Unknown API Status Code!',
      JSON.stringify({ kind: 'Status', message: 'configmaps "riskgate-shop" not found', code: 404 }),
      {},
    );
    expect(apiErrorText(err)).toBe('404: configmaps "riskgate-shop" not found');
  });

  it('names the network error behind a bare "fetch failed"', () => {
    const err = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
    });
    expect(apiErrorText(err)).toBe('fetch failed (ECONNREFUSED)');
  });
});
