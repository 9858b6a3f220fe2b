/**
 * Which policy enforces on a pod when several select it: the oldest (the first created), then the
 * first by name. One rule, used by the injector to choose and by the controller to report the
 * others as in conflict — never a silent, alphabetical choice, and a policy created later cannot
 * take pods over from one that already protects them.
 */
import { selects } from '../../kube/label-selector.ts';
import { type RiskPolicyObject, validateForCluster } from './desired-state.ts';

interface Candidate {
  obj: RiskPolicyObject;
  selector: Parameters<typeof selects>[0];
}

const created = (o: Candidate['obj']) => new Date(o.metadata.creationTimestamp ?? 0).getTime();

/** The valid policies of a namespace that select these labels, the one that enforces first. */
export function policiesSelecting(
  policies: readonly RiskPolicyObject[],
  labels: Record<string, string>,
): Candidate['obj'][] {
  const candidates: Candidate[] = [];
  for (const obj of policies) {
    const v = validateForCluster(obj);
    if (v.ok && selects(v.policy.spec.selector, labels))
      candidates.push({ obj, selector: v.policy.spec.selector });
  }
  return candidates
    .sort((a, b) => created(a.obj) - created(b.obj) || a.obj.metadata.name.localeCompare(b.obj.metadata.name))
    .map((c) => c.obj);
}
