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

/** Methods that get a tree of their own in every table, beside any method a route names. */
const OWN_TREE = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'QUERY'];

/** Work between two yields to the event loop while a table is built with build(). */
const SLICE_MS = 2;

export class RouteTable<T> {
  private readonly router = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true });
  private readonly fallback: T;
  private readonly stricter: (a: T, b: T) => T;
  /** Methods with a tree of their own. */
  private readonly own: ReadonlySet<string>;
  /**
   * The one tree every other method shares — WebDAV's dozen, and any token an HTTP/2 client
   * sends as a method — under a method name no route uses. No route lists those methods, so
   * their trees would all hold the same entries: the other-method values of every path. One
   * tree instead of ~25 made a 1,000-route table 580–800 → 230–260 ms to build and 50–77 → ~20 MB.
   */
  private readonly standIn: string | undefined;
  private readonly pending: Generator<() => void>;

  /**
   * `stricter` picks between two values that could both apply: to several routes sharing a
   * template (their other methods), and to several readings of one path (matchStrictest).
   */
  constructor(
    routes: readonly RouteDefinition<T>[],
    fallback: T,
    stricter: (a: T, b: T) => T = (a) => a,
    registration: 'now' | 'later' = 'now',
  ) {
    this.fallback = fallback;
    this.stricter = stricter;
    const own = new Set(OWN_TREE);
    for (const route of routes) for (const m of route.methods) own.add(m);
    this.own = own;
    this.standIn = METHODS.find((m) => !own.has(m));
    this.pending = this.registrations(routes);
    if (registration === 'now') for (const step of this.pending) step();
  }

  /**
   * The same table, built in slices of a few milliseconds with the event loop free in between:
   * a policy with a thousand routes takes hundreds of milliseconds to register, and requests
   * keep being decided on the running policy meanwhile.
   */
  static async build<T>(
    routes: readonly RouteDefinition<T>[],
    fallback: T,
    stricter: (a: T, b: T) => T = (a) => a,
  ): Promise<RouteTable<T>> {
    const table = new RouteTable(routes, fallback, stricter, 'later');
    let sliceStart = performance.now();
    for (const step of table.pending) {
      step();
      if (performance.now() - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    return table;
  }

  /** Each route's registrations in the router, one step each, in the order they must run. */
  private *registrations(routes: readonly RouteDefinition<T>[]): Generator<() => void> {
    const claimed = new Map<string, { path: string; methods: Set<string>; other: T | undefined }>();
    for (const route of routes) {
      for (const method of route.methods) {
        yield () => {
          try {
            this.router.on(method as 'GET', route.path, () => {}, { value: route.value });
          } catch (err) {
            throw new RouteTableError(`${method} ${route.path}: ${(err as Error).message}`);
          }
        };
      }
      const key = templateKey(route.path);
      const entry = claimed.get(key) ?? { path: route.path, methods: new Set<string>(), other: undefined };
      for (const m of route.methods) entry.methods.add(m);
      if (route.otherMethods !== undefined) {
        entry.other =
          entry.other === undefined ? route.otherMethods : this.stricter(entry.other, route.otherMethods);
      }
      claimed.set(key, entry);
    }
    // HEAD is GET without the body: a rule on GET covers HEAD unless HEAD has its own.
    for (const route of routes) {
      const entry = claimed.get(templateKey(route.path))!;
      if (route.methods.includes('GET') && !entry.methods.has('HEAD')) {
        yield () => this.router.on('HEAD', route.path, () => {}, { value: route.value });
        entry.methods.add('HEAD');
      }
    }
    for (const { path, methods, other } of claimed.values()) {
      if (other === undefined) continue;
      const rest = [...this.own].filter((m) => !methods.has(m));
      if (this.standIn !== undefined) rest.push(this.standIn);
      // One method a step: each registration compiles the node's matchers anew.
      for (const method of rest)
        yield () => this.router.on(method as 'GET', path, () => {}, { value: other });
    }
  }

  match(method: string, path: string): T {
    const tree = this.own.has(method) ? method : (this.standIn ?? method);
    const found = this.router.find(tree as 'GET', path);
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
