import { type EnforcerOptions, type RunningEnforcer, startEnforcer } from '../../enforcer/enforcer.ts';

/** A real enforcer on free loopback ports, quiet, in front of `upstream`. */
export function startTestEnforcer(
  policyPath: string,
  upstream: string,
  options: Partial<EnforcerOptions> = {},
): Promise<RunningEnforcer> {
  return startEnforcer({
    policyPath,
    upstream,
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    logLevel: 'silent',
    ...options,
  });
}
