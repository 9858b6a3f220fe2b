import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  ADMIN_PORT,
  ENV,
  SECRETS_DIR,
  TRAFFIC_PORT,
  UPSTREAM_PROTOCOLS,
  type UpstreamProtocol,
} from '../contract/sidecar.ts';
import { EnforcerStartError, startEnforcer } from '../enforcer/enforcer.ts';
import { MAX_CONNECTIONS } from '../enforcer/traffic-server.ts';
import { parseHostPort } from './host-port.ts';

const HELP = `Usage: riskgate enforce --policy FILE|DIR --upstream URL [options]

Runs the enforcer: a reverse proxy that scores every request against the RiskPolicy and allows,
challenges, restricts or denies it. The policy file or folder (a ConfigMap mount works) is
watched and reloaded without a restart; an invalid new policy is refused and the last good one
keeps running.

Options:
  --policy FILE|DIR        the RiskPolicy (required)
  --upstream URL           the app, e.g. http://127.0.0.1:8080 (required)
  --upstream-protocol P    what the app speaks: http1 (HTTP/1.1 and WebSocket; default) or h2c
                           (HTTP/2 with prior knowledge: gRPC). Clients may speak HTTP/1.1,
                           WebSocket or h2c to the enforcer either way
  --websocket-idle-timeout-s S  close a WebSocket tunnel quiet both ways this long (default 600)
  --listen HOST:PORT       traffic listener (default 0.0.0.0:${TRAFFIC_PORT})
  --admin HOST:PORT        admin listener: /metrics /healthz /readyz /config (default 0.0.0.0:${ADMIN_PORT})
  --redis URL              shared state in Redis (redis://[:password@]host:port/db); without it
                           state is kept in memory, bounded, per process
  --redis-timeout-ms MS    longest wait for Redis before local state decides (default 50)
  --secrets-dir DIR        where referenced Secrets are mounted (default ${SECRETS_DIR})
  --log-allow-sample RATE  fraction of allow decisions logged, 0..1 (default 1)
  --max-connections N      connections held at most (default ${MAX_CONNECTIONS}); from three quarters of
                           it, those that have not sent a request are closed first
  -h, --help               show this help

Environment:
  ${ENV.powKeyFile}    file with the proof-of-work key shared by a service's enforcers
  ${ENV.logLevel}       pino level (default info)
  ${ENV.redisPassword}           Redis password, when the --redis URL has none (keeps it out of ps)
  ${ENV.podName}, ${ENV.podNamespace}  set by the injector: the enforcer takes pushed configs and
                           reports the config it runs (with --redis)
`;

export async function runEnforce(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        policy: { type: 'string' },
        upstream: { type: 'string' },
        'upstream-protocol': { type: 'string', default: 'http1' },
        'websocket-idle-timeout-s': { type: 'string', default: '600' },
        listen: { type: 'string', default: `0.0.0.0:${TRAFFIC_PORT}` },
        admin: { type: 'string', default: `0.0.0.0:${ADMIN_PORT}` },
        redis: { type: 'string' },
        'redis-timeout-ms': { type: 'string', default: '50' },
        'secrets-dir': { type: 'string' },
        'log-allow-sample': { type: 'string', default: '1' },
        'max-connections': { type: 'string', default: String(MAX_CONNECTIONS) },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`riskgate enforce: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values['help']) {
    process.stdout.write(HELP);
    return 0;
  }
  const usage = (message: string) => {
    process.stderr.write(`riskgate enforce: ${message}\n`);
    return 2;
  };
  if (typeof values['policy'] !== 'string') return usage('--policy is required');
  if (typeof values['upstream'] !== 'string') return usage('--upstream is required');
  let redisUrl: string | undefined;
  if (typeof values['redis'] === 'string') {
    try {
      const u = new URL(values['redis']);
      if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('scheme');
      const password = process.env[ENV.redisPassword];
      if (!u.password && password) u.password = password;
      redisUrl = u.toString();
    } catch {
      return usage('--redis must be a redis:// or rediss:// URL');
    }
  }
  const redisTimeoutMs = Number(values['redis-timeout-ms']);
  if (!(redisTimeoutMs >= 1 && redisTimeoutMs <= 10_000)) return usage('--redis-timeout-ms must be 1..10000');
  let upstream: URL;
  try {
    upstream = new URL(values['upstream']);
    if (upstream.protocol !== 'http:' && upstream.protocol !== 'https:') throw new Error('scheme');
  } catch {
    return usage(`--upstream must be an http(s) URL, got ${JSON.stringify(values['upstream'])}`);
  }
  const upstreamProtocol = values['upstream-protocol'] as UpstreamProtocol;
  if (!UPSTREAM_PROTOCOLS.includes(upstreamProtocol))
    return usage(`--upstream-protocol must be one of ${UPSTREAM_PROTOCOLS.join(', ')}`);
  const webSocketIdle = Number(values['websocket-idle-timeout-s']);
  if (!(Number.isInteger(webSocketIdle) && webSocketIdle >= 1 && webSocketIdle <= 86_400))
    return usage('--websocket-idle-timeout-s must be 1..86400');
  const maxConnections = Number(values['max-connections']);
  if (!(Number.isInteger(maxConnections) && maxConnections >= 16))
    return usage('--max-connections must be 16 or more');
  const sample = Number(values['log-allow-sample']);
  if (!(sample >= 0 && sample <= 1)) return usage('--log-allow-sample must be between 0 and 1');
  let listen: ReturnType<typeof parseHostPort>;
  let admin: ReturnType<typeof parseHostPort>;
  try {
    listen = parseHostPort(String(values['listen']), '0.0.0.0');
    admin = parseHostPort(String(values['admin']), '0.0.0.0');
  } catch (err) {
    return usage((err as Error).message);
  }
  const keyFile = process.env[ENV.powKeyFile];
  // The shared key's Secret may not exist (yet): a key of this pod's own then, which only costs
  // a client a second challenge when its next request lands on a sibling.
  let powKey: Buffer | undefined;
  if (keyFile) {
    try {
      powKey = readFileSync(keyFile);
    } catch (err) {
      process.stderr.write(
        `riskgate enforce: proof-of-work key ${keyFile} unreadable (${(err as NodeJS.ErrnoException).code}); using a key of this process\n`,
      );
    }
  }
  const podName = process.env[ENV.podName];
  const podNamespace = process.env[ENV.podNamespace];

  try {
    const enforcer = await startEnforcer({
      policyPath: values['policy'],
      upstream: upstream.origin,
      upstreamProtocol,
      webSocketIdleTimeoutMs: webSocketIdle * 1000,
      listen,
      admin,
      logAllowSample: sample,
      maxConnections,
      redisTimeoutMs,
      ...(redisUrl ? { redisUrl } : {}),
      secretsDir: typeof values['secrets-dir'] === 'string' ? values['secrets-dir'] : SECRETS_DIR,
      ...(podName && podNamespace ? { pod: { name: podName, namespace: podNamespace } } : {}),
      ...(powKey ? { powKey } : {}),
    });
    process.stderr.write(
      `riskgate enforce: traffic ${enforcer.trafficUrl} → ${upstream.origin} (${upstreamProtocol}), admin ${enforcer.adminUrl}\n`,
    );
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        void enforcer.close().then(resolve);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    return 0;
  } catch (err) {
    if (err instanceof EnforcerStartError) {
      process.stderr.write(`riskgate enforce: ${err.code}: the policy cannot be used:\n${err.message}\n`);
      return 1;
    }
    process.stderr.write(`riskgate enforce: ${(err as Error).message}\n`);
    return 1;
  }
}
