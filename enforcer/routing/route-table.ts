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

/** Methods whose entries every table works out by name, beside any method a route names; the rest take the stand-in's. */
const OWN_TREE = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'QUERY'];

/** Work between two yields to the event loop while a table is built with build(). */
const SLICE_MS = 2;

/** One registration in a method's tree. */
interface Entry<T> {
  path: string;
  value: T;
  /** Written by a route for this method (not HEAD from GET, not an other-method value). */
  listed: boolean;
}

/**
 * What each method's tree holds, in registration order: the methods routes list, HEAD where GET
 * is listed and HEAD is not, and each template's other-method value under every method it does
 * not list — the common ten, any method a route names, and a stand-in for all the rest.
 */
function entriesByMethod<T>(
  routes: readonly RouteDefinition<T>[],
  stricter: (a: T, b: T) => T,
): { entries: Map<string, Entry<T>[]>; standIn: string | undefined } {
  const own = new Set(OWN_TREE);
  for (const route of routes) for (const m of route.methods) own.add(m);
  // Under a method name no route uses: no route lists those methods, so their trees would all
  // hold the same entries (WebDAV's dozen, any token an HTTP/2 client sends as a method).
  const standIn = METHODS.find((m) => !own.has(m));
  const entries = new Map<string, Entry<T>[]>();
  for (const m of own) entries.set(m, []);
  if (standIn !== undefined) entries.set(standIn, []);
  const add = (method: string, entry: Entry<T>) => entries.get(method)!.push(entry);

  const claimed = new Map<string, { path: string; methods: Set<string>; other: T | undefined }>();
  for (const route of routes) {
    for (const method of route.methods) add(method, { path: route.path, value: route.value, listed: true });
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
      add('HEAD', { path: route.path, value: route.value, listed: false });
      entry.methods.add('HEAD');
    }
  }
  for (const { path, methods, other } of claimed.values()) {
    if (other === undefined) continue;
    for (const method of entries.keys())
      if (!methods.has(method)) add(method, { path, value: other, listed: false });
  }
  return { entries, standIn };
}

/** Methods with the same entries, in the same order, share the tree of the first of them. */
function sharedTrees<T>(entries: ReadonlyMap<string, Entry<T>[]>): {
  treeOf: Map<string, string>;
  trees: Map<string, Entry<T>[]>;
} {
  const ids = new Map<T, number>();
  const idOf = (value: T) => {
    let id = ids.get(value);
    if (id === undefined) {
      id = ids.size;
      ids.set(value, id);
    }
    return id;
  };
  const bySignature = new Map<string, string>();
  const treeOf = new Map<string, string>();
  const trees = new Map<string, Entry<T>[]>();
  for (const [method, list] of entries) {
    // Paths hold neither spaces nor line breaks (api/schema/routes.ts).
    const signature = list.map((e) => `${idOf(e.value)} ${e.path}`).join('\n');
    const tree = bySignature.get(signature) ?? method;
    treeOf.set(method, tree);
    if (tree !== method) continue;
    bySignature.set(signature, method);
    trees.set(method, list);
  }
  return { treeOf, trees };
}

export class RouteTable<T> {
  private readonly router = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true });
  private readonly fallback: T;
  private readonly stricter: (a: T, b: T) => T;
  /**
   * The tree each method is looked up in. Methods whose trees would hold the same entries share
   * one, registered under the first of them: every method no route lists (PUT, DELETE … and any
   * token an HTTP/2 client sends) holds the same other-method values, and HEAD holds what GET
   * holds unless a route lists HEAD itself. Registering every method's tree made a 1,000-route
   * table ~27 KB of heap per route, nine tenths of it copies (bench/README.md).
   */
  private readonly treeOf: ReadonlyMap<string, string>;
  /** The tree of a method the table has no entry for; undefined when every method has its own. */
  private readonly otherTree: string | undefined;
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
    const { entries, standIn } = entriesByMethod(routes, stricter);
    const { treeOf, trees } = sharedTrees(entries);
    this.treeOf = treeOf;
    this.otherTree = standIn === undefined ? undefined : treeOf.get(standIn);
    this.pending = this.registrations(trees);
    if (registration === 'now') for (const step of this.pending) step();
  }

  /**
   * The same table, built in slices of a few milliseconds with the event loop free in between:
   * a policy with a thousand routes takes tens of milliseconds to register, and requests keep
   * being decided on the running policy meanwhile.
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

  /** One registration in the router a step (each compiles the node's matchers anew). */
  private *registrations(trees: ReadonlyMap<string, readonly Entry<T>[]>): Generator<() => void> {
    for (const [method, entries] of trees) {
      for (const { path, value, listed } of entries) {
        yield () => {
          try {
            this.router.on(method as 'GET', path, () => {}, { value });
          } catch (err) {
            if (!listed) throw err;
            throw new RouteTableError(`${method} ${path}: ${(err as Error).message}`);
          }
        };
      }
    }
  }

  match(method: string, path: string): T {
    const tree = this.treeOf.get(method) ?? this.otherTree;
    if (tree === undefined) return this.fallback;
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
