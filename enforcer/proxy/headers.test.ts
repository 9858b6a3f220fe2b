import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './headers.ts';

describe('fields the Connection header names stop at the proxy', () => {
  it.each([
    ['keep-alive, x-internal', ['x-internal']],
    ['Keep-Alive, X-Internal', ['x-internal']],
    ['close,x-internal', ['x-internal']],
    ['x-internal , x-other', ['x-internal', 'x-other']],
  ])('Connection: %s drops %j from the request and from the answer', (connection, dropped) => {
    const incoming = { connection, 'x-internal': 'a', 'x-other': 'b', accept: '*/*' };
    const up = upstreamRequestHeaders(incoming, undefined, {});
    const down = downstreamResponseHeaders(incoming);
    for (const name of dropped) {
      expect(up[name]).toBeUndefined();
      expect(down[name]).toBeUndefined();
    }
    expect(up['accept']).toBe('*/*');
    expect(up['connection']).toBeUndefined();
    expect(down['connection']).toBeUndefined();
  });

  it('reads every Connection line of a request', () => {
    const up = upstreamRequestHeaders(
      { connection: ['keep-alive', 'x-internal'] as unknown as string, 'x-internal': 'a' },
      undefined,
      {},
    );
    expect(up['x-internal']).toBeUndefined();
  });

  it.each(['keep-alive', 'close'])('Connection: %s alone keeps every end-to-end field', (connection) => {
    const down = downstreamResponseHeaders({
      connection,
      'keep-alive': 'timeout=5',
      'content-type': 'text/plain',
    });
    expect(down).toEqual({ 'content-type': 'text/plain' });
  });
});
