/**
 * The benchmark's workload, written into a folder: a pool of client addresses from real
 * residential networks (Zipf-weighted at load time), bearer tokens each used from its own home
 * address, denied addresses for the attack runs, a 100k-entry threat feed that holds the attack
 * range and none of the clients, and bench/policy.yaml in each mode. Shared by `make bench` and
 * the side-by-side comparison (bench/compare.ts), so both measure the same thing.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { asnDatabase, cityDatabase, GeoLookup } from '../enforcer/geo/geo-lookup.ts';
import { rng } from '../eval/simulation.ts';
import { samplePlace } from '../eval/world.ts';
import { demoToken } from '../test/support/tokens.ts';

const ROOT = resolve(import.meta.dirname, '..');

export interface Workload {
  ips: string[];
  tokens: string[];
  bad: string[];
  /** Environment for bench/wrk.lua. */
  files: Record<string, string>;
  /** The bench policy in `mode` (monitor or enforce), as a file. */
  policy: (mode: 'monitor' | 'enforce') => string;
  /** The bench policy (enforce) without routes, authentication or signals: forwarding only. */
  forwardingOnly: () => string;
  /** The bench policy (enforce) with routes added until it has `routes` of them, as a file. */
  policyWithRoutes: (routes: number) => string;
}

/** The bench policy's YAML with routes `/api/v1/r<i>/:id` added until it has `routes` of them. */
export function withRoutes(template: string, routes: number): string {
  const extra = Array.from(
    { length: Math.max(0, routes - 4) },
    (_, i) => `    - { name: r${i}, methods: [GET], path: /api/v1/r${i}/:id }`,
  ).join('\n');
  return template.replace('  signals:', `${extra}\n  signals:`);
}

/** A policy spec cut down to forwarding: no routes, no authentication, no signals. */
export function forwardingOnlySpec<Spec extends Record<string, unknown>>(
  spec: Spec,
): Record<string, unknown> {
  const { authentication: _a, routes: _r, ...rest } = spec;
  return { ...rest, signals: {} };
}

export async function writeWorkload(dir: string, clients: number): Promise<Workload> {
  const random = rng(7);
  const geo = new GeoLookup(cityDatabase(undefined, '.'), asnDatabase(undefined, '.'), []);
  const ips = Array.from({ length: clients }, () => samplePlace(geo, random, 'residential').ip);
  const tokens = await Promise.all(
    Array.from({ length: 100 }, (_, i) => demoToken({ sub: `bench-user-${i}` }, { expiresIn: '2h' })),
  );
  const bad = Array.from({ length: 250 }, (_, i) => `203.0.113.${i + 1}`);
  const files = {
    RG_IPS: join(dir, 'ips.txt'),
    RG_TOKENS: join(dir, 'tokens.txt'),
    RG_BAD: join(dir, 'bad.txt'),
  };
  writeFileSync(files.RG_IPS, ips.join('\n'));
  writeFileSync(files.RG_TOKENS, tokens.join('\n'));
  writeFileSync(files.RG_BAD, bad.join('\n'));

  const feed = ['203.0.113.0/24'];
  const clientSet = new Set(ips.map((ip) => ip.split('.').slice(0, 3).join('.')));
  while (feed.length < 100_000) {
    const prefix = `${1 + Math.floor(random() * 222)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`;
    if (!clientSet.has(prefix)) feed.push(`${prefix}.0/24`);
  }
  writeFileSync(join(dir, 'feed.txt'), `${feed.join('\n')}\n`);
  cpSync(join(ROOT, 'examples/keys'), join(dir, 'keys'), { recursive: true });
  const template = readFileSync(join(ROOT, 'bench/policy.yaml'), 'utf8');
  for (const mode of ['monitor', 'enforce'])
    writeFileSync(join(dir, `${mode}.yaml`), template.replace('MODE', mode));
  const policyWithRoutes = (routes: number) => {
    const file = join(dir, `enforce-${routes}-routes.yaml`);
    writeFileSync(file, withRoutes(template.replace('MODE', 'enforce'), routes));
    return file;
  };
  const forwardingOnly = () => {
    const file = join(dir, 'forwarding-only.yaml');
    const bench = parse(template.replace('MODE', 'enforce'));
    writeFileSync(file, stringify({ ...bench, spec: forwardingOnlySpec(bench.spec) }));
    return file;
  };
  return {
    ips,
    tokens,
    bad,
    files,
    policy: (mode) => join(dir, `${mode}.yaml`),
    policyWithRoutes,
    forwardingOnly,
  };
}
