/**
 * What the enforcer knows about one request once the context stage has run: the input of every
 * signal, the decision and the decision log.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { JWTPayload } from 'jose';
import type { DeviceContext } from '../credentials/device.ts';
import type { ClientLocation } from '../geo/geo-lookup.ts';
import type { CompiledRoute } from '../routing/route.ts';
import type { ClientAddress } from './client-ip.ts';

export interface Subject {
  kind: 'anonymous' | 'token' | 'apikey';
  /** `sub` of a verified token, `apikey:<id>`, or undefined when anonymous. */
  id: string | undefined;
  scopes: ReadonlySet<string>;
  claims: JWTPayload | undefined;
}

export const ANONYMOUS: Subject = Object.freeze({
  kind: 'anonymous',
  id: undefined,
  scopes: new Set<string>(),
  claims: undefined,
});

export interface LoginAttempt {
  /** The account named in the body, lower-cased and trimmed. */
  account: string;
  /** How shared state names the account: a hash of it, never the name, of a bounded size. */
  accountId: string;
  /** Salted hash of account + password: pairs are counted, never stored. */
  credential: string | undefined;
}

export interface RequestContext {
  requestId: string;
  method: string;
  path: string;
  query: string;
  client: ClientAddress;
  /** Country, coordinates and ASN; UNKNOWN_LOCATION when the policy uses no geo signal. */
  location: ClientLocation;
  route: CompiledRoute;
  subject: Subject;
  /**
   * Whose history the signals consult: the subject, or on a login route the account being
   * tried (so a takeover is judged against the account owner's usual places and devices).
   * Assumes the identity provider's `sub` is the login account.
   */
  riskSubject: string | undefined;
  device: DeviceContext;
  userAgent: string;
  /** The request's headers as they arrived (read-only; signals look, never change). */
  headers: IncomingHttpHeaders;
  /** `1.0`, `1.1` or `2.0`. */
  httpVersion: string;
  login: LoginAttempt | undefined;
  /** Epoch ms at arrival. */
  now: number;
}
