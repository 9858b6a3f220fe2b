/**
 * Device posture and novelty: a missing posture token costs half the weight, an invalid or
 * non-compliant one the full weight, and a device this subject has never used before costs the
 * new-device penalty — unless the subject has no known device yet (a first login enrols). The
 * device itself (its id, its posture token) is read by the context stage (credentials/device.ts).
 */
import type { RequestContext } from '../context/request-context.ts';
import { membershipAt, type StatePlan, type StateView, type StateWrites } from '../state/slots.ts';
import { type CompiledSignal, type Contribution, defineSignal, type Outcome } from './signal.ts';

export const MAX_DEVICES_PER_SUBJECT = 32;
const DEVICES_TTL_MS = 90 * 24 * 60 * 60_000;

/** The slot space of subjects' known devices (other signals may ask whether a device is known). */
export const KNOWN_DEVICES = 'dev';

export class DeviceSignal implements CompiledSignal<number | undefined> {
  readonly name = 'device';
  private readonly weight: number;
  private readonly newDevicePenalty: number;

  constructor(weight: number, newDevicePenalty: number) {
    this.weight = weight;
    this.newDevicePenalty = newDevicePenalty;
  }

  plan(ctx: RequestContext, plan: StatePlan): number | undefined {
    if (ctx.riskSubject === undefined || ctx.device.id === undefined) return undefined;
    return plan.member(KNOWN_DEVICES, ctx.riskSubject, ctx.device.id);
  }

  score(ctx: RequestContext, state: StateView, slot: number | undefined, out: Contribution[]): void {
    const { posture, id } = ctx.device;
    if (posture === 'missing')
      out.push({ code: 'device.posture_missing', points: Math.round(this.weight / 2), detail: '' });
    else if (posture === 'invalid')
      out.push({ code: 'device.posture_invalid', points: this.weight, detail: '' });
    else if (posture === 'noncompliant')
      out.push({ code: 'device.posture_noncompliant', points: this.weight, detail: '' });
    if (slot === undefined || id === undefined) return;
    const known = membershipAt(state, slot);
    if (!known.isMember && known.size > 0) {
      out.push({ code: 'device.new', points: this.newDevicePenalty, detail: id.slice(0, 16) });
    }
  }

  /** An accepted request enrols its device for the subject (bounded per subject). */
  learn(ctx: RequestContext, outcome: Outcome, _memo: unknown, writes: StateWrites): void {
    const subject = ctx.riskSubject;
    const id = ctx.device.id;
    if (subject === undefined || id === undefined || !outcome.accepted) return;
    writes.add(KNOWN_DEVICES, subject, id, MAX_DEVICES_PER_SUBJECT, DEVICES_TTL_MS);
  }
}

export const device = defineSignal({
  name: 'device',
  usesLocation: false,
  reasons: [
    {
      code: 'device.posture_missing',
      points: 'weight ÷ 2',
      when: 'a posture issuer is configured and no posture token came',
    },
    { code: 'device.posture_invalid', points: 'weight', when: 'the posture token does not verify' },
    {
      code: 'device.posture_noncompliant',
      points: 'weight',
      when: 'a required posture claim is missing or different',
    },
    {
      code: 'device.new',
      points: '`newDevicePenalty`',
      when: 'the subject has known devices and this is not one of them (a first device enrols)',
    },
  ],
  compile: (spec) => new DeviceSignal(spec.weight, spec.newDevicePenalty),
});
