/**
 * Every risk signal, in the order their contributions are listed. Compile, evaluate and the
 * outcome stage iterate this list; adding a signal is a module, its schema fragment, its tests,
 * and a line here (CONTRIBUTING.md has the recipe).
 */
import { automation } from './automation.ts';
import { behaviour } from './behaviour/behaviour.ts';
import { credentialStuffing } from './credential-stuffing.ts';
import { device } from './device.ts';
import { geoVelocity } from './geo-velocity.ts';
import { geoip } from './geoip.ts';
import { ipReputation } from './ip-reputation.ts';
import { loginFamiliarity } from './login-familiarity.ts';
import type { SignalDefinition } from './signal.ts';

export const SIGNALS: readonly SignalDefinition[] = [
  ipReputation,
  geoip,
  geoVelocity,
  device,
  behaviour,
  credentialStuffing,
  loginFamiliarity,
  automation,
] as readonly SignalDefinition[];
