import { type z, z as zod } from 'zod';

/**
 * A cross-field rule, written once and enforced twice: as a zod refinement (offline
 * `riskgate validate`, the enforcer, the operator) and as a CEL `x-kubernetes-validations`
 * entry in the generated CRD (the apiserver at apply time). The CEL text and the predicate
 * sit side by side so a reviewer sees both; test/controlplane proves the apiserver agrees.
 */
export interface CrossFieldRule<T> {
  /** CEL evaluated by the apiserver against this object (`self`). */
  cel: string;
  /** The message both the apiserver and `riskgate validate` print. */
  message: string;
  /** Field the error is reported at, relative to this object (CEL `fieldPath`). */
  field?: string;
  check: (value: T) => boolean;
}

export function withRules<S extends z.ZodType>(schema: S, rules: CrossFieldRule<z.output<S>>[]): S {
  const refined = schema.superRefine((value, ctx) => {
    for (const rule of rules) {
      if (!rule.check(value)) {
        ctx.addIssue({ code: 'custom', message: rule.message, path: rule.field ? [rule.field] : [] });
      }
    }
  }) as unknown as S;
  return refined.meta({
    ...schema.meta(),
    'x-kubernetes-validations': rules.map((r) => ({
      rule: r.cel,
      message: r.message,
      ...(r.field ? { fieldPath: `.${r.field}` } : {}),
    })),
  }) as S;
}

/**
 * A list of objects keyed by `name`: unique names are checked here and, in the CRD, enforced by
 * the apiserver itself through `x-kubernetes-list-type: map`, which also lets server-side apply
 * merge entries by name instead of replacing the whole list.
 */
export function keyedList<S extends z.ZodType<{ name: string }>>(item: S, maxItems: number) {
  return zod
    .array(item)
    .max(maxItems)
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((entry, index) => {
        if (seen.has(entry.name)) {
          ctx.addIssue({ code: 'custom', message: `duplicate name "${entry.name}"`, path: [index, 'name'] });
        }
        seen.add(entry.name);
      });
    })
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
}
