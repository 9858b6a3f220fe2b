import { parseArgs } from 'node:util';
import { parseDuration } from '../api/duration.ts';
import { startOperator } from '../operator/operator.ts';
import { parseHostPort } from './host-port.ts';

const HELP = `Usage: riskgate operator [options]

Runs the Kubernetes operator: reconciles RiskPolicies into the config enforcers mount (a
ConfigMap per policy) and a NetworkPolicy, reports status, and injects the enforcer sidecar into
opted-in pods through a mutating webhook whose TLS it manages itself. Replicas elect a leader on
a Lease; every replica serves the webhook.

Options:
  --kubeconfig FILE          run outside the cluster (the webhook registers by URL on loopback)
  --namespace NS             the operator's namespace (default: $POD_NAMESPACE or riskgate-system)
  --admin HOST:PORT          /metrics /healthz /readyz (default 0.0.0.0:15091)
  --webhook-listen HOST:PORT webhook HTTPS listener (default 0.0.0.0:9443)
  --webhook-service NAME:PORT register the webhook through this Service (in cluster)
  --webhook-url URL          register the webhook at this URL instead
  --webhook-cert-dir DIR     serve a certificate managed elsewhere (cert-manager): tls.crt,
                             tls.key and ca.crt; followed when rotated
  --failure-policy P         Ignore (default) or Fail: what the apiserver does when the webhook is down
  --image IMAGE              the enforcer image to inject (default ghcr.io/riskgate/riskgate:0.1.0)
  --redis URL                Redis the enforcers share; also where they report their config hash
  --redis-password-secret NAME:KEY  Secret in --namespace with the Redis password; the operator
                             copies it to each namespace with policies, for the sidecars
  --redis-password-create    create that Secret with a random password when it is missing
  --sidecar-pull-policy P    imagePullPolicy of the injected enforcer (default IfNotPresent)
  --owner-deployment NAME    the operator's Deployment in --namespace: it owns the Secrets and
                             the Lease the operator makes, so they go when it goes
  --pow-key-secret NAME      Secret with the proof-of-work key shared by a service's enforcers
  --sidecar-requests LIST    injected enforcer requests, e.g. cpu=50m,memory=256Mi (the default)
  --sidecar-limits LIST      injected enforcer limits, e.g. memory=384Mi (the default)
  --identity NAME            this replica's name in the leader election (default: hostname-pid)
  --lease-duration DURATION  leader lease (default 15s); the leader renews every ~2/15 of it
  --resync-period DURATION   how often every policy is reconciled anyway (default 30s)
  -h, --help                 show this help
`;

/** "cpu=50m,memory=128Mi" → { cpu: '50m', memory: '128Mi' } */
function quantities(list: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list.split(',').filter(Boolean)) {
    const [name, value] = item.split('=');
    if (!name || !value || !/^[0-9.]+[a-zA-Z]*$/.test(value))
      throw new Error(`not a resource quantity: ${JSON.stringify(item)}`);
    out[name.trim()] = value.trim();
  }
  return out;
}

export async function runOperator(args: string[]): Promise<number> {
  let v: Record<string, string | boolean | undefined>;
  try {
    v = parseArgs({
      args,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', default: process.env['POD_NAMESPACE'] ?? 'riskgate-system' },
        admin: { type: 'string', default: '0.0.0.0:15091' },
        'webhook-listen': { type: 'string', default: '0.0.0.0:9443' },
        'webhook-service': { type: 'string' },
        'webhook-url': { type: 'string' },
        'webhook-cert-dir': { type: 'string' },
        'failure-policy': { type: 'string', default: 'Ignore' },
        image: { type: 'string', default: 'ghcr.io/riskgate/riskgate:0.1.0' },
        redis: { type: 'string' },
        'redis-password-secret': { type: 'string' },
        'redis-password-create': { type: 'boolean' },
        'sidecar-pull-policy': { type: 'string', default: 'IfNotPresent' },
        'owner-deployment': { type: 'string' },
        'pow-key-secret': { type: 'string' },
        identity: { type: 'string' },
        'sidecar-requests': { type: 'string', default: 'cpu=50m,memory=256Mi' },
        'sidecar-limits': { type: 'string', default: 'memory=384Mi' },
        'lease-duration': { type: 'string', default: '15s' },
        'resync-period': { type: 'string', default: '30s' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`riskgate operator: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (v['help']) {
    process.stdout.write(HELP);
    return 0;
  }
  const fail = (m: string) => {
    process.stderr.write(`riskgate operator: ${m}\n`);
    return 2;
  };
  const policy = String(v['failure-policy']);
  if (policy !== 'Ignore' && policy !== 'Fail') return fail('--failure-policy must be Ignore or Fail');
  let service: { name: string; port: number } | undefined;
  if (typeof v['webhook-service'] === 'string') {
    const [name, port] = v['webhook-service'].split(':');
    if (!name || !Number(port)) return fail('--webhook-service must be NAME:PORT');
    service = { name, port: Number(port) };
  }
  let redisSecret: { name: string; key: string } | undefined;
  if (typeof v['redis-password-secret'] === 'string') {
    const [name, key] = v['redis-password-secret'].split(':');
    if (!name || !key) return fail('--redis-password-secret must be NAME:KEY');
    redisSecret = { name, key };
  }
  const pullPolicy = String(v['sidecar-pull-policy']);
  if (pullPolicy !== 'Always' && pullPolicy !== 'IfNotPresent' && pullPolicy !== 'Never') {
    return fail('--sidecar-pull-policy must be Always, IfNotPresent or Never');
  }
  let leaseMs: number;
  let resyncMs: number;
  try {
    leaseMs = parseDuration(String(v['lease-duration']));
    resyncMs = parseDuration(String(v['resync-period']));
  } catch (err) {
    return fail((err as Error).message);
  }
  try {
    const operator = await startOperator({
      ...(typeof v['identity'] === 'string' ? { identity: v['identity'] } : {}),
      leaseDurationMs: leaseMs,
      retryPeriodMs: Math.max(100, Math.round(leaseMs / 7.5)),
      resyncMs,
      ...(typeof v['kubeconfig'] === 'string' ? { kubeconfig: v['kubeconfig'] } : {}),
      namespace: String(v['namespace']),
      admin: parseHostPort(String(v['admin']), '0.0.0.0'),
      webhook: {
        ...parseHostPort(String(v['webhook-listen']), '0.0.0.0'),
        ...(typeof v['webhook-url'] === 'string' ? { url: v['webhook-url'] } : {}),
        ...(typeof v['webhook-cert-dir'] === 'string' ? { certDir: v['webhook-cert-dir'] } : {}),
        ...(service ? { service } : {}),
      },
      failurePolicy: policy,
      injection: {
        image: String(v['image']),
        imagePullPolicy: pullPolicy,
        resources: {
          requests: quantities(String(v['sidecar-requests'])),
          limits: quantities(String(v['sidecar-limits'])),
        },
        ...(typeof v['redis'] === 'string' ? { redis: { url: v['redis'] } } : {}),
        ...(typeof v['pow-key-secret'] === 'string' ? { powKeySecret: v['pow-key-secret'] } : {}),
      },
      ...(typeof v['redis'] === 'string' ? { redisUrl: v['redis'] } : {}),
      ...(typeof v['owner-deployment'] === 'string' ? { ownerDeployment: v['owner-deployment'] } : {}),
      ...(redisSecret
        ? { redisPassword: { secret: redisSecret, create: v['redis-password-create'] === true } }
        : {}),
    });
    process.stderr.write(`riskgate operator: admin ${operator.adminUrl}, webhook :${operator.webhookPort}\n`);
    await new Promise<void>((resolve) => {
      // A second signal does not wait for the graceful stop.
      const stop = () => {
        process.once('SIGTERM', () => process.exit(143));
        process.once('SIGINT', () => process.exit(130));
        void operator.stop().then(resolve);
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    // Stopped: a client's idle socket or timer must not keep a stopped operator alive until the
    // kubelet kills it at the end of the grace period.
    process.exit(0);
  } catch (err) {
    process.stderr.write(`riskgate operator: ${(err as Error).message}\n`);
    // A client's socket or timer left from the failed start would keep a process that serves
    // nothing alive; exit, so the kubelet restarts it.
    process.exit(1);
  }
}
