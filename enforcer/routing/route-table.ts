/**
 * Matches method + path to a policy route with fastify's own router (find-my-way): static
 * segments beat `:params`, which beat a trailing `*`. Matching is case-insensitive and ignores a
 * trailing slash because many apps route that way: a rule on /transfer must also cover
 * /Transfer and /transfer/.
 */
import FindMyWay from 'find-my-way';

export class RouteTableError extends Error {
  readonly code = 'RG_ERR_ROUTE_CONFLICT';
}

export interface RouteDefinition<T> {
  methods: readonly string[];
  path: string;
  value: T;
}

export class RouteTable<T> {
  private readonly router = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true });
  private readonly fallback: T;
  private readonly hasHead = new Set<string>();

  constructor(routes: readonly RouteDefinition<T>[], fallback: T) {
    this.fallback = fallback;
    for (const route of routes) {
      for (const method of route.methods) {
        try {
          this.router.on(method as 'GET', route.path, () => {}, { value: route.value });
        } catch (err) {
          throw new RouteTableError(`${method} ${route.path}: ${(err as Error).message}`);
        }
        if (method === 'HEAD') this.hasHead.add(route.path);
      }
    }
    // HEAD is GET without the body: a rule on GET covers HEAD unless HEAD has its own.
    for (const route of routes) {
      if (route.methods.includes('GET') && !route.methods.includes('HEAD') && !this.hasHead.has(route.path)) {
        this.router.on('HEAD', route.path, () => {}, { value: route.value });
      }
    }
  }

  match(method: string, path: string): T {
    const found = this.router.find(method as 'GET', path);
    if (found === null) return this.fallback;
    return (found.store as { value: T }).value;
  }
}
