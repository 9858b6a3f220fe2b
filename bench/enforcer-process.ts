/** The enforcer as the benchmark runs it: one process, decision log sampled off for allows. */
import { startEnforcer } from '../enforcer/enforcer.ts';

const [listenPort, adminPort, upstreamUrl, policyPath, redisUrl] = process.argv.slice(2);
await startEnforcer({
  policyPath: policyPath!,
  upstream: upstreamUrl!,
  listen: { host: '127.0.0.1', port: Number(listenPort) },
  admin: { host: '127.0.0.1', port: Number(adminPort) },
  logAllowSample: 0,
  logLevel: process.env['BENCH_LOG'] ? 'info' : 'warn',
  ...(redisUrl ? { redisUrl } : {}),
});
process.stdout.write(`ready ${listenPort}\n`);
// Exit normally on a signal, so --cpu-prof can write its profile.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));
