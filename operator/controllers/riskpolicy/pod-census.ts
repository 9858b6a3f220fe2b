/**
 * Which pods a policy reaches, counted for its status: the pods it selects, those it was injected
 * into (they carry the injector's label), those selected but running without any enforcer, and
 * the pods another policy selects too — with the one rule of ownership.ts saying which enforces.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { labelSelector } from '../../../api/schema/identity.ts';
import { type LabelSelector, selects } from '../../kube/label-selector.ts';
import { PROTECTED_LABEL, protectedLabelValue } from '../../webhook/inject.ts';
import type { RiskPolicyObject } from './desired-state.ts';
import { policiesSelecting } from './ownership.ts';

export interface PodCensus {
  selected: string[];
  /** Pods running this policy's enforcer. */
  protected: string[];
  /** Selected pods running no enforcer at all. */
  unprotected: string[];
  /** Pods another valid policy selects too, by the policy that enforces on them. */
  shared: Map<string, string[]>;
}

/**
 * The selector to count with: the valid spec's, or — while the spec is invalid and the last good
 * config keeps running — the selector as written, when that part still reads as one.
 */
export function selectorOf(
  obj: RiskPolicyObject,
  valid: LabelSelector | undefined,
): LabelSelector | undefined {
  if (valid) return valid;
  const raw = labelSelector.safeParse((obj.spec as { selector?: unknown } | undefined)?.selector);
  return raw.success ? raw.data : undefined;
}

export function podCensus(
  obj: RiskPolicyObject,
  selector: LabelSelector | undefined,
  pods: readonly V1Pod[],
  policiesInNamespace: readonly RiskPolicyObject[],
): PodCensus {
  const census: PodCensus = { selected: [], protected: [], unprotected: [], shared: new Map() };
  const mine = protectedLabelValue(obj.metadata.name);
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const name = pod.metadata?.name ?? '';
    const labels = pod.metadata?.labels ?? {};
    const protectedBy = labels[PROTECTED_LABEL];
    if (protectedBy === mine) census.protected.push(name);
    if (!selector || !selects(selector, labels)) continue;
    census.selected.push(name);
    if (protectedBy === undefined) census.unprotected.push(name);
    const owners = policiesSelecting(policiesInNamespace, labels);
    if (owners.length > 1 && owners.some((o) => o.metadata.name === obj.metadata.name)) {
      const owner = owners[0]!.metadata.name;
      census.shared.set(owner, [...(census.shared.get(owner) ?? []), name]);
    }
  }
  return census;
}

/** A few names and how many more, for a condition or event message. */
export function someOf(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}
