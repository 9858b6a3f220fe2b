/**
 * The admin listener (default :15090): /metrics, /healthz, /readyz and /config. Never the
 * traffic port: nothing here is for clients.
 */
import Fastify from 'fastify';
import type { EnforcerMetrics } from '../observability/metrics.ts';
import type { PolicyHolder } from '../policy/policy-holder.ts';

export function createAdminServer(holder: PolicyHolder, metrics: EnforcerMetrics) {
  const app = Fastify({ logger: false });

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/readyz', async (_request, reply) => {
    const policy = holder.current;
    const feeds = (policy?.feeds ?? []).map((f) => f.status());
    // Stale feeds are reported, not a reason to take the pod out of service — unless the policy
    // says a feed is required.
    const ready = policy !== undefined && feeds.every((f) => f.loaded || !f.required);
    reply.code(ready ? 200 : 503);
    return {
      ready,
      policy: policy ? { name: policy.name, hash: policy.hash } : null,
      lastError: holder.lastError ?? null,
      staleFeeds: feeds.filter((f) => f.stale).map((f) => f.name),
      missingRequiredFeeds: feeds.filter((f) => f.required && !f.loaded).map((f) => f.name),
      problems: policy?.problems ?? [],
    };
  });

  app.get('/config', async () => {
    const policy = holder.current;
    return {
      policy: policy ? policy.name : null,
      namespace: policy?.namespace ?? null,
      hash: policy?.hash ?? null,
      source: policy?.source ?? null,
      mode: policy?.mode ?? null,
      lastError: holder.lastError ?? null,
      feeds: (policy?.feeds ?? []).map((f) => f.status()),
    };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return app;
}
