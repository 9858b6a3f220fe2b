import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../test/support/free-port.ts';
import { eventually } from '../../test/support/temp-policy.ts';
import { ResilientInformer } from './resilient-informer.ts';

/**
 * A stand-in apiserver over real HTTP, for the one fault a real kube-apiserver cannot be made to
 * show on demand: a connection it accepts and never answers. Once told to, it answers lists (and
 * holds watches open, as the apiserver does).
 */
async function silentApiserver() {
  let answering = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    if (!answering) return; // never answers
    if (req.url?.includes('watch=true')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders(); // a watch stays open, with no events
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '7' },
        items: [{ metadata: { name: 'listed', namespace: 'pets', resourceVersion: '7' } }],
      }),
    );
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    kc,
    answer: () => {
      answering = true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('ResilientInformer', () => {
  it('gives up on a list that never answers, is not synced meanwhile, and syncs once lists answer', async () => {
    const apiserver = await silentApiserver();
    cleanups.push(apiserver.close);
    const core = apiserver.kc.makeApiClient(CoreV1Api);
    const errors: string[] = [];
    const informer = new ResilientInformer<V1ConfigMap>(
      apiserver.kc,
      '/api/v1/configmaps',
      () => core.listConfigMapForAllNamespaces(),
      { onChange: () => {}, onDelete: () => {}, onError: (err) => errors.push((err as Error).message) },
      { listTimeoutMs: 200, maxBackoffMs: 200 },
    );
    cleanups.push(() => informer.stop());
    let synced = false;
    void informer.synced.then(() => {
      synced = true;
    });

    // start() returns though the list hangs; the hang is reported and retried, and the empty
    // cache is not taken for a synced one.
    await informer.start();
    expect(await eventually(() => errors.length >= 2, 5000)).toBe(true);
    expect(errors[0]).toBe('the list of /api/v1/configmaps did not answer within 200 ms');
    expect(synced).toBe(false);
    expect(informer.list()).toEqual([]);

    apiserver.answer();
    expect(await eventually(() => synced, 5000)).toBe(true);
    expect(informer.list().map((c) => c.metadata?.name)).toEqual(['listed']);
  });
});
