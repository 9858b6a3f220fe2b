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

/** The common methods, each looked up by its own name; those no route names share the tree of the other-method values. */
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

/** Which tree each method is looked up in, and what each tree holds. */
interface TreePlan<T> {
  treeOf: Map<string, string>;
  /** The tree of a method outside the common ten that no route names; undefined when there is none. */
  otherTree: string | undefined;
  trees: Map<string, Entry<T>[]>;
}

/** Routes (or templates) worked through between two yields while a table is planned. */
const PLAN_SLICE = 64;

/**
 * Works out each method's entries, in registration order — the methods routes list; HEAD where
 * GET is listed and HEAD is not; each template's other-method value under every method it does
 * not list — and which methods can share a tree. Methods no route names (the rest of the common
 * ten, and a stand-in for every other method) hold only the other-method values, the same for
 * all of them: one list. Methods with the same entries in the same order share the tree of the
 * first of them. Yields every few dozen routes, so a large table is planned in slices too.
 */
function* planTrees<T>(
  routes: readonly RouteDefinition<T>[],
  stricter: (a: T, b: T) => T,
): Generator<void, TreePlan<T>> {
  const named = new Set<string>();
  for (const route of routes) for (const m of route.methods) named.add(m);
  if (named.has('GET')) named.add('HEAD');
  const unnamed = OWN_TREE.filter((m) => !named.has(m));
  // Under a method name no route uses, the tree of every method outside the common ten
  // (WebDAV's dozen, any token an HTTP/2 client sends as a method).
  const standIn = METHODS.find((m) => !named.has(m) && !OWN_TREE.includes(m));
  if (standIn !== undefined) unnamed.push(standIn);

  const lists = new Map<string, Entry<T>[]>();
  for (const m of named) lists.set(m, []);
  const others: Entry<T>[] = [];
  const claimed = new Map<string, { path: string; methods: Set<string>; other: T | undefined }>();
  let step = 0;
  for (const route of routes) {
    for (const method of route.methods)
      lists.get(method)!.push({ path: route.path, value: route.value, listed: true });
    const key = templateKey(route.path);
    const entry = claimed.get(key) ?? { path: route.path, methods: new Set<string>(), other: undefined };
    for (const m of route.methods) entry.methods.add(m);
    if (route.otherMethods !== undefined) {
      entry.other =
        entry.other === undefined ? route.otherMethods : stricter(entry.other, route.otherMethods);
    }
    claimed.set(key, entry);
    if (++step % PLAN_SLICE === 0) yield;
  }
  // HEAD is GET without the body: a rule on GET covers HEAD unless HEAD has its own.
  for (const route of routes) {
    const entry = claimed.get(templateKey(route.path))!;
    if (route.methods.includes('GET') && !entry.methods.has('HEAD')) {
      lists.get('HEAD')!.push({ path: route.path, value: route.value, listed: false });
      entry.methods.add('HEAD');
    }
    if (++step % PLAN_SLICE === 0) yield;
  }
  for (const { path, methods, other } of claimed.values()) {
    if (other === undefined) continue;
    const entry = { path, value: other, listed: false };
    for (const [method, list] of lists) if (!methods.has(method)) list.push(entry);
    others.push(entry);
    if (++step % PLAN_SLICE === 0) yield;
  }

  const ids = new Map<T, number>();
  const idOf = (value: T) => {
    let id = ids.get(value);
    if (id === undefined) {
      id = ids.size;
      ids.set(value, id);
    }
    return id;
  };
  const candidates: [string, Entry<T>[]][] = [...lists];
  if (unnamed.length > 0) candidates.push([unnamed[0]!, others]);
  const bySignature = new Map<string, string>();
  const treeOf = new Map<string, string>();
  const trees = new Map<string, Entry<T>[]>();
  for (const [method, list] of candidates) {
    // Paths hold neither spaces nor line breaks (api/schema/routes.ts).
    const signature = list.map((e) => `${idOf(e.value)} ${e.path}`).join('\n');
    const tree = bySignature.get(signature) ?? method;
    treeOf.set(method, tree);
    if (tree === method) {
      bySignature.set(signature, method);
      trees.set(method, list);
    }
    yield;
  }
  const othersTree = unnamed.length > 0 ? treeOf.get(unnamed[0]!)! : undefined;
  for (const m of unnamed) treeOf.set(m, othersTree!);
  // With every method named, a token no route can name has no tree: the fallback takes it.
  return { treeOf, otherTree: standIn === undefined ? undefined : othersTree, trees };
}

export class RouteTable<T> {
  private readonly router = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true });
  private readonly fallback: T;
  private readonly stricter: (a: T, b: T) => T;
  /**
   * The tree each method is looked up in (planTrees). Registering every method's tree made a
   * 1,000-route table ~27 KB of heap per route, nine tenths of it copies (bench/README.md).
   */
  private treeOf: ReadonlyMap<string, string> = new Map();
  /** The tree of a method outside the common ten that no route names; undefined when there is none. */
  private otherTree: string | undefined;
  private readonly steps: Generator<void>;

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
    this.steps = this.registrations(routes);
    if (registration === 'now') for (const _ of this.steps);
  }

  /**
   * The same table, built in slices of a few milliseconds with the event loop free in between:
   * a policy with a thousand routes takes tens of milliseconds to plan and register, and
   * requests keep being decided on the running policy meanwhile.
   */
  static async build<T>(
    routes: readonly RouteDefinition<T>[],
    fallback: T,
    stricter: (a: T, b: T) => T = (a) => a,
  ): Promise<RouteTable<T>> {
    const table = new RouteTable(routes, fallback, stricter, 'later');
    let sliceStart = performance.now();
    for (const _ of table.steps) {
      if (performance.now() - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    return table;
  }

  /** Plans the trees, then registers one entry a step (each compiles the node's matchers anew). */
  private *registrations(routes: readonly RouteDefinition<T>[]): Generator<void> {
    const plan = yield* planTrees(routes, this.stricter);
    for (const [method, entries] of plan.trees) {
      for (const { path, value, listed } of entries) {
        try {
          this.router.on(method as 'GET', path, () => {}, { value });
        } catch (err) {
          if (!listed) throw err;
          throw new RouteTableError(`${method} ${path}: ${(err as Error).message}`);
        }
        yield;
      }
    }
    this.treeOf = plan.treeOf;
    this.otherTree = plan.otherTree;
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
