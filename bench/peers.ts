/**
 * The proxies users would run instead, as the benchmark starts them: Caddy's `reverse_proxy`, and
 * Caddy with the Coraza web application firewall and the OWASP Core Rule Set (paranoia level 1,
 * blocking), both from one binary built by bench/build-peers.sh, pinned to the core under test.
 */

import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pinned, SUT_CORE } from './processes.ts';

/** The peer binary's path, built once and cached; undefined (with the reason on stderr) when it cannot be built here. */
export function peerBinary(root: string): string | undefined {
  try {
    const out = execFileSync(join(root, 'bench/build-peers.sh'), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return out.trim().split('\n').at(-1);
  } catch (err) {
    console.error(
      `bench: the peer proxies could not be built (${(err as Error).message}); their rows are left out`,
    );
    return undefined;
  }
}

function caddyfile(port: number, upstreamPort: number, waf: boolean): string {
  const coraza = waf
    ? `  coraza_waf {
    load_owasp_crs
    directives \`
      Include @coraza.conf-recommended
      Include @crs-setup.conf.example
      Include @owasp_crs/*.conf
      SecRuleEngine On
      SecAuditEngine Off
    \`
  }
`
    : '';
  return `{
  admin off
  auto_https off
  persist_config off
  order coraza_waf first
  # Discarded, as the enforcers' decision lines are in the bench (log level warn): a WAF's
  # per-match log lines would be most of what an attack run measured.
  log {
    output discard
  }
}
http://127.0.0.1:${port} {
${coraza}  reverse_proxy 127.0.0.1:${upstreamPort}
}
`;
}

async function listening(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`caddy exited (${child.exitCode})`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('caddy did not start listening');
}

export async function startCaddy(
  binary: string,
  dir: string,
  options: { port: number; upstreamPort: number; waf: boolean },
): Promise<ChildProcess> {
  const file = join(dir, `Caddyfile-${options.port}`);
  writeFileSync(file, caddyfile(options.port, options.upstreamPort, options.waf));
  const child = pinned(SUT_CORE, binary, ['run', '--config', file, '--adapter', 'caddyfile'], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
  });
  child.stdout!.resume();
  await listening(options.port, child);
  return child;
}
