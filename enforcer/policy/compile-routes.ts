/**
 * Routes of a RiskPolicy → the route table the request path matches against: each route's rules
 * compiled once, a variant for the methods it does not list, and the order of strictness that
 * settles which route applies when several readings of a path match different ones.
 */
import type { RiskPolicy, Route, Sensitivity } from '../../api/riskpolicy.ts';
import { thresholdsFor } from '../decision/thresholds.ts';
import { RouteTable } from '../routing/route-table.ts';
import type { CompiledRoute } from './compiled-policy.ts';

const SENSITIVITY_RANK: Record<Sensitivity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

function compileRoute(
  route: Route | undefined,
  policy: RiskPolicy,
  sensitivity?: Sensitivity,
): CompiledRoute {
  const spec = policy.spec;
  const effective = sensitivity ?? route?.sensitivity ?? spec.defaultSensitivity;
  return {
    name: route?.name ?? 'default',
    sensitivity: effective,
    thresholds: thresholdsFor(spec.thresholds, effective),
    authRequired: route?.authentication === 'required',
    requiredScopes: route?.requiredScopes ?? [],
    requiredClaims: route?.requiredClaims ?? [],
    login:
      route?.role === 'login'
        ? {
            accountField: route.login?.accountField ?? 'username',
            passwordField: route.login?.passwordField ?? 'password',
            failureStatuses: new Set(route.login?.failureStatuses ?? [401, 403]),
          }
        : undefined,
    failMode: route?.failMode ?? spec.failMode,
    allowedMethods: undefined,
  };
}

/** What a request with a method the route does not list is held to. */
function unlistedVariant(route: Route, policy: RiskPolicy, listed: CompiledRoute): CompiledRoute | undefined {
  switch (route.unlistedMethods) {
    case 'default':
      return undefined;
    case 'refuse': {
      const methods = new Set(route.methods);
      if (methods.has('GET')) methods.add('HEAD');
      return { ...listed, allowedMethods: [...methods].join(', ') };
    }
    case 'protect': {
      // Never looser than a request no route names: a low-sensitivity GET route does not make
      // a DELETE on its path low-sensitivity.
      const floor = policy.spec.defaultSensitivity;
      return SENSITIVITY_RANK[route.sensitivity] >= SENSITIVITY_RANK[floor]
        ? listed
        : compileRoute(route, policy, floor);
    }
  }
}

/**
 * Which of two routes is stricter, compared in this order: refuses the method, requires
 * authentication, requires more scopes and claims, is a login route, is more sensitive, fails
 * closed. The first difference decides; a tie keeps `a`.
 */
export function stricterRoute(a: CompiledRoute, b: CompiledRoute): CompiledRoute {
  const rank = (r: CompiledRoute) => [
    r.allowedMethods !== undefined ? 1 : 0,
    r.authRequired ? 1 : 0,
    r.requiredScopes.length + r.requiredClaims.length,
    r.login ? 1 : 0,
    SENSITIVITY_RANK[r.sensitivity],
    r.failMode === 'closed' ? 1 : 0,
  ];
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) {
    if (ra[i] !== rb[i]) return ra[i]! > rb[i]! ? a : b;
  }
  return a;
}

/**
 * Rejects (RouteTableError, RG_ERR_ROUTE_CONFLICT) when two routes claim a method and template.
 * Built in slices, the event loop free in between (RouteTable.build).
 */
export function compileRouteTable(policy: RiskPolicy): Promise<RouteTable<CompiledRoute>> {
  return RouteTable.build(
    policy.spec.routes.map((r) => {
      const value = compileRoute(r, policy);
      return { methods: r.methods, path: r.path, value, otherMethods: unlistedVariant(r, policy, value) };
    }),
    compileRoute(undefined, policy),
    stricterRoute,
  );
}
