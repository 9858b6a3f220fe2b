/**
 * Generates the RiskPolicy CustomResourceDefinition from the zod schema. The output is a
 * structural schema (every node typed, no additionalProperties beside properties) so the
 * apiserver can prune, default and run the CEL rules the schema carries.
 */
import { z } from 'zod';
import { API_VERSION, GROUP, KIND, PLURAL, riskPolicySpec, riskPolicyStatus, VERSION } from './riskpolicy.ts';

type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `value` with every missing field that has a default filled in (fields' defaults already expanded). */
function withFieldDefaults(value: Json, properties: Json): Json {
  const out: Json = { ...value };
  for (const [name, schema] of Object.entries(properties)) {
    const field = schema as Json;
    if (out[name] === undefined && field['default'] !== undefined)
      out[name] = structuredClone(field['default']);
    else if (isPlainObject(out[name]) && field['properties']) {
      out[name] = withFieldDefaults(out[name] as Json, field['properties'] as Json);
    }
  }
  return out;
}

/** Turns zod's OpenAPI output into what a CRD accepts. */
function toStructural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toStructural);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    if (key === 'additionalProperties') {
      // false: strictness comes from kubectl's strict field validation and pruning, and a CRD
      // may not combine it with properties. {}: an open object.
      if (value === false) continue;
      if (value && typeof value === 'object' && Object.keys(value).length === 0) {
        out['x-kubernetes-preserve-unknown-fields'] = true;
        continue;
      }
    }
    if (key === 'default' || key === 'enum' || key === 'x-kubernetes-list-map-keys') {
      out[key] = value;
      continue;
    }
    if (key === 'properties') {
      const props: Json = {};
      for (const [p, schema] of Object.entries(value as Json)) props[p] = toStructural(schema);
      out[key] = props;
      continue;
    }
    out[key] = toStructural(value);
  }
  // A default written once in zod as `{}` (prefault) is expanded here with its fields' own
  // defaults: the apiserver checks a default against the schema and its CEL rules as written.
  if (out['type'] === 'object' && isPlainObject(out['default']) && out['properties']) {
    out['default'] = withFieldDefaults(out['default'] as Json, out['properties'] as Json);
  }
  // zod marks safe-integer bounds on every int; they add noise, not meaning.
  if (out['minimum'] === Number.MIN_SAFE_INTEGER) delete out['minimum'];
  if (out['maximum'] === Number.MAX_SAFE_INTEGER) delete out['maximum'];
  return out;
}

/**
 * Defaults inside list items are left to the operator and the enforcer (the same zod schema
 * fills them): `kubectl apply` sends a whole list whenever the live list differs from the
 * applied one, so items the apiserver had defaulted would make every apply of an unchanged
 * policy a change ("configured"). Defaults of objects are merged field by field and stay.
 */
function withoutItemDefaults(node: unknown, inItems = false): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutItemDefaults(n, inItems));
  if (!isPlainObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (inItems && key === 'default') continue;
    if (key === 'enum' || key === 'x-kubernetes-list-map-keys') out[key] = value;
    else out[key] = withoutItemDefaults(value, inItems || key === 'items');
  }
  return out;
}

function schemaOf(schema: z.ZodType): Json {
  const json = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'throw',
  }) as Json;
  delete json['$schema'];
  return toStructural(json) as Json;
}

export function generateCrd(): Json {
  const spec = withoutItemDefaults(schemaOf(riskPolicySpec)) as Json;
  const status = schemaOf(riskPolicyStatus);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${PLURAL}.${GROUP}`,
      labels: { 'app.kubernetes.io/part-of': 'riskgate' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: 'riskpolicy',
        shortNames: ['rpol'],
        categories: ['riskgate'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Selected', type: 'integer', jsonPath: '.status.enforcers.selected' },
            { name: 'Up-To-Date', type: 'integer', jsonPath: '.status.enforcers.upToDate' },
            { name: 'Unprotected', type: 'integer', jsonPath: '.status.enforcers.unprotected' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
            // -o wide: why, and which config.
            {
              name: 'Reason',
              type: 'string',
              priority: 1,
              jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
            },
            {
              name: 'Conflict',
              type: 'string',
              priority: 1,
              jsonPath: '.status.conditions[?(@.type=="Conflict")].status',
            },
            {
              name: 'Feeds',
              type: 'string',
              priority: 1,
              jsonPath: '.status.conditions[?(@.type=="FeedsReady")].status',
            },
            { name: 'Config', type: 'string', priority: 1, jsonPath: '.status.configHash' },
          ],
          schema: {
            openAPIV3Schema: {
              description: `RiskPolicy (${API_VERSION}) scores every request to the pods it selects and allows, challenges, restricts or denies it.`,
              type: 'object',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: 'APIVersion of this object.' },
                kind: { type: 'string', description: 'Kind of this object.' },
                metadata: { type: 'object' },
                spec,
                status,
              },
            },
          },
        },
      ],
    },
  };
}
