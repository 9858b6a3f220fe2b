/**
 * A RequestContext for unit tests of signals and state stores: an anonymous GET / from
 * 192.0.2.1 with nothing known about it, and whatever a test overrides.
 */
import { ANONYMOUS, type RequestContext, type Subject } from '../../enforcer/context/request-context.ts';
import { NO_DEVICE } from '../../enforcer/credentials/device.ts';
import { UNKNOWN_LOCATION } from '../../enforcer/geo/geo-lookup.ts';

export function testContext(over: Partial<RequestContext> = {}): RequestContext {
  return {
    requestId: 'r',
    method: 'GET',
    path: '/',
    query: '',
    client: { ip: '192.0.2.1', key: '192.0.2.1', family: 4, words: new Uint32Array(4) },
    location: UNKNOWN_LOCATION,
    route: {} as RequestContext['route'],
    subject: ANONYMOUS,
    riskSubject: undefined,
    device: NO_DEVICE,
    userAgent: '',
    headers: {},
    httpVersion: '1.1',
    login: undefined,
    now: 0,
    ...over,
  };
}

/** A subject signed in with a token: the subject and risk subject of a context. */
export function tokenSubject(id: string): Pick<RequestContext, 'subject' | 'riskSubject'> {
  const subject: Subject = { ...ANONYMOUS, kind: 'token', id };
  return { subject, riskSubject: id };
}
