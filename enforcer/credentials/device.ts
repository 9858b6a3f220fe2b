/**
 * The device behind a request: its stable id (a header or a cookie, as the policy says) and the
 * state of its posture token, verified like a subject token and checked for required claims.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { RiskPolicySpec } from '../../api/riskpolicy.ts';
import { buildKeyLookup } from './key-source.ts';
import { TokenVerifier } from './token-verifier.ts';

export type PostureState = 'not-configured' | 'missing' | 'valid' | 'invalid' | 'noncompliant';

export interface DeviceContext {
  id: string | undefined;
  posture: PostureState;
}

export const NO_DEVICE: DeviceContext = Object.freeze({ id: undefined, posture: 'not-configured' });

export interface DeviceSettings {
  idHeader: string | undefined;
  idCookie: string | undefined;
  posture:
    | {
        header: string;
        verifier: TokenVerifier;
        requiredClaims: readonly [string, string][];
      }
    | undefined;
}

const DEVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function deviceIdOf(settings: DeviceSettings, headers: IncomingHttpHeaders): string | undefined {
  let id: string | undefined;
  if (settings.idHeader) {
    const v = headers[settings.idHeader];
    if (typeof v === 'string') id = v;
  }
  if (id === undefined && settings.idCookie) id = cookieValue(headers['cookie'], settings.idCookie);
  return id !== undefined && DEVICE_ID.test(id) ? id : undefined;
}

function postureOf(
  settings: NonNullable<DeviceSettings['posture']>,
  result: Awaited<ReturnType<TokenVerifier['verify']>>,
): PostureState {
  if (!result.ok) return 'invalid';
  for (const [claim, expected] of settings.requiredClaims) {
    if (String(result.claims[claim]) !== expected) return 'noncompliant';
  }
  return 'valid';
}

/** Synchronous unless a posture token must be verified for the first time. */
export function identifyDevice(
  settings: DeviceSettings,
  headers: IncomingHttpHeaders,
): DeviceContext | Promise<DeviceContext> {
  const id = deviceIdOf(settings, headers);
  const posture = settings.posture;
  if (!posture) return { id, posture: 'not-configured' };
  const token = headers[posture.header];
  if (typeof token !== 'string' || token.length === 0) return { id, posture: 'missing' };
  const cached = posture.verifier.cached(token);
  if (cached) return { id, posture: postureOf(posture, cached) };
  return posture.verifier.verify(token).then((r) => ({ id, posture: postureOf(posture, r) }));
}

/** The device signal's spec → how the context stage reads a request's device. */
export async function compileDeviceIdentity(
  spec: NonNullable<RiskPolicySpec['signals']['device']>,
  baseDir: string,
): Promise<DeviceSettings> {
  let posture: DeviceSettings['posture'];
  if (spec.posture) {
    const p = spec.posture;
    posture = {
      header: p.header.toLowerCase(),
      requiredClaims: Object.entries(p.requiredClaims),
      verifier: new TokenVerifier([
        {
          name: 'posture',
          issuer: p.issuer,
          audiences: [],
          algorithms: p.algorithms,
          clockToleranceSeconds: 30,
          scopeClaim: 'scope',
          keys: await buildKeyLookup(p, baseDir),
        },
      ]),
    };
  }
  return { idHeader: spec.idHeader?.toLowerCase(), idCookie: spec.idCookie, posture };
}
