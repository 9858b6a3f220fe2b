/**
 * Matches method + path to a policy route with fastify's own router (find-my-way): static
 * segments beat `:params`, which beat a trailing `*`. Matching is case-insensitive and ignores a
 * trailing slash because many apps route that way: a rule on /transfer must also cover
 * /Transfer and /transfer/.
 *
 * A route names the methods it is written for; what happens to the other methods on its path is
 * the route's own `otherMethods` value (held to the route's rules, refused, or left to the
 * default route). When several readings of one path match different routes, the strictest wins.
 */
import { createRequire } from 'node:module';
import FindMyWay from 'find-my-way';
import { templateKey } from '../../api/route-conflicts.ts';

// Through require: an ESM import of node:http reads its lazy exports, which loads Node's
// bundled undici into every enforcer (enforcer/net/http-client.test.ts keeps it out).
const { METHODS } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export class RouteTableError extends Error {
  readonly code = 'RG_ERR_ROUTE_CONFLICT';
}

export interface RouteDefinition<T> {
  methods: readonly string[];
  path: string;
  value: T;
  /** The value for every method not listed on this path; undefined leaves them to the fallback. */
  otherMethods?: T | undefined;
}

export class RouteTable<T> {
  private readonly router = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true });
  private readonly fallback: T;
  private readonly stricter: (a: T, b: T) => T;

  /**
   * `stricter` picks between two values that could both apply: to several routes sharing a
   * template (their other methods), and to several readings of one path (matchStrictest).
   */
  constructor(routes: readonly RouteDefinition<T>[], fallback: T, stricter: (a: T, b: T) => T = (a) => a) {
    this.fallback = fallback;
    this.stricter = stricter;
    const claimed = new Map<string, { path: string; methods: Set<string>; other: T | undefined }>();
    for (const route of routes) {
      for (const method of route.methods) {
        try {
          this.router.on(method as 'GET', route.path, () => {}, { value: route.value });
        } catch (err) {
          throw new RouteTableError(`${method} ${route.path}: ${(err as Error).message}`);
        }
      }
      const key = templateKey(route.path);
      const entry = claimed.get(key) ?? { path: route.path, methods: new Set<string>(), other: undefined };
      for (const m of route.methods) entry.methods.add(m);
      if (route.otherMethods !== undefined) {
        entry.other =
          entry.other === undefined ? route.otherMethods : stricter(entry.other, route.otherMethods);
      }
      claimed.set(key, entry);
    }
    // HEAD is GET without the body: a rule on GET covers HEAD unless HEAD has its own.
    for (const route of routes) {
      const entry = claimed.get(templateKey(route.path))!;
      if (route.methods.includes('GET') && !entry.methods.has('HEAD')) {
        this.router.on('HEAD', route.path, () => {}, { value: route.value });
        entry.methods.add('HEAD');
      }
    }
    for (const { path, methods, other } of claimed.values()) {
      if (other === undefined) continue;
      const rest = METHODS.filter((m) => !methods.has(m));
      if (rest.length > 0) this.router.on(rest as 'GET'[], path, () => {}, { value: other });
    }
  }

  match(method: string, path: string): T {
    const found = this.router.find(method as 'GET', path);
    if (found === null) return this.fallback;
    return (found.store as { value: T }).value;
  }

  /** The strictest route that the path or any of its other readings matches. */
  matchStrictest(method: string, path: string, alternates: readonly string[] | undefined): T {
    let value = this.match(method, path);
    if (alternates === undefined) return value;
    for (const reading of alternates) value = this.stricter(value, this.match(method, reading));
    return value;
  }
}
