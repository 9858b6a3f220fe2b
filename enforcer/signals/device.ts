/**
 * Device posture and novelty: a missing posture token costs half the weight, an invalid or
 * non-compliant one the full weight, and a device this subject has never used before costs the
 * new-device penalty — unless the subject has no known device yet (a first login enrols).
 */
import type { RequestContext } from '../context/request-context.ts';
import type { StateSnapshot } from '../state/state-store.ts';
import type { Contribution, Signal } from './signal.ts';

export class DeviceSignal implements Signal {
  readonly name = 'device';
  private readonly weight: number;
  private readonly newDevicePenalty: number;

  constructor(weight: number, newDevicePenalty: number) {
    this.weight = weight;
    this.newDevicePenalty = newDevicePenalty;
  }

  evaluate(ctx: RequestContext, state: StateSnapshot, out: Contribution[]): void {
    const { posture, id } = ctx.device;
    if (posture === 'missing')
      out.push({ code: 'device.posture_missing', points: Math.round(this.weight / 2), detail: '' });
    else if (posture === 'invalid')
      out.push({ code: 'device.posture_invalid', points: this.weight, detail: '' });
    else if (posture === 'noncompliant')
      out.push({ code: 'device.posture_noncompliant', points: this.weight, detail: '' });
    if (id !== undefined && ctx.riskSubject !== undefined && state.device === 'new') {
      out.push({ code: 'device.new', points: this.newDevicePenalty, detail: id.slice(0, 16) });
    }
  }
}
