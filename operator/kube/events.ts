/**
 * Kubernetes Events about RiskPolicies, as `kubectl describe` shows them. An event that cannot
 * be written is logged, never fatal: events are for people, reconciling must go on.
 */
import type { CoreV1Api } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION, KIND } from '../../api/riskpolicy.ts';
import { apiErrorText } from './api-error.ts';

export interface EventSubject {
  metadata: { name: string; namespace: string; uid?: string };
}

export type RecordEvent = (
  obj: EventSubject,
  type: 'Normal' | 'Warning',
  reason: string,
  message: string,
) => Promise<void>;

export function eventRecorder(core: CoreV1Api, log: Logger): RecordEvent {
  return async (obj, type, reason, message) => {
    // Each event is a log line too, keyed by the policy, for whoever reads logs, not events.
    const keys = { namespace: obj.metadata.namespace, policy: obj.metadata.name, reason };
    if (type === 'Warning') log.warn(keys, message);
    else log.info(keys, message);
    const now = new Date();
    try {
      await core.createNamespacedEvent({
        namespace: obj.metadata.namespace,
        body: {
          metadata: { generateName: `${obj.metadata.name}.`, namespace: obj.metadata.namespace },
          involvedObject: {
            apiVersion: API_VERSION,
            kind: KIND,
            name: obj.metadata.name,
            namespace: obj.metadata.namespace,
            ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
          },
          reason,
          message: message.slice(0, 1024),
          type,
          source: { component: 'riskgate-operator' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (err) {
      log.warn({ ...keys, err: apiErrorText(err) }, 'could not record event');
    }
  };
}
