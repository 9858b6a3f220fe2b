/**
 * Two routes that claim the same method on the same path template cannot both apply: a request
 * could match either. The check uses the enforcer's router (find-my-way, as fastify does), so
 * `riskgate validate`, the operator and the enforcer call the same policies valid. The CRD does
 * not carry it as CEL: comparing every pair of routes was estimated at 4.8 times the apiserver's
 * cost budget for a rule already at 256 routes (measured on kube-apiserver 1.36; the limit is now
 * 1,024), and the apiserver refuses such a CRD. In a cluster the operator reports a conflict as Ready=False with this message.
 */
import FindMyWay from 'find-my-way';
import type { z } from 'zod';

export interface RouteShape {
  name: string;
  methods: readonly string[];
  path: string;
}

export interface RouteConflict {
  /** Index of the route that conflicts with an earlier one. */
  index: number;
  message: string;
}

/** The same template however its parameters are named or cased: `/Orders/:id/` is `/orders/:oid`. */
export function templateKey(path: string): string {
  const key = path.toLowerCase().replace(/:[^/]+/g, ':');
  return key.length > 1 && key.endsWith('/') ? key.slice(0, -1) : key;
}

export function routeConflicts(routes: readonly RouteShape[]): RouteConflict[] {
  const router = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true });
  const owners = new Map<string, string>();
  const conflicts: RouteConflict[] = [];
  routes.forEach((route, index) => {
    for (const method of route.methods) {
      const key = `${method} ${templateKey(route.path)}`;
      try {
        router.on(method as 'GET', route.path, () => {});
      } catch (err) {
        const owner = owners.get(key);
        conflicts.push({
          index,
          message: owner
            ? `${method} ${route.path} is already claimed by route ${owner}`
            : `${method} ${route.path}: ${(err as Error).message}`,
        });
        return;
      }
      owners.set(key, route.name);
    }
  });
  return conflicts;
}

export function withoutRouteConflicts<S extends z.ZodType<RouteShape[]>>(routes: S): S {
  const refined = routes.superRefine((list, ctx) => {
    for (const c of routeConflicts(list))
      ctx.addIssue({ code: 'custom', message: c.message, path: [c.index, 'path'] });
  }) as unknown as S;
  // The list keeps its own metadata (x-kubernetes-list-type: map) in the generated CRD.
  return refined.meta({ ...routes.meta() }) as S;
}
