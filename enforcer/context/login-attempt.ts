/**
 * On login routes the enforcer reads the attempt (the body, bounded; the query; an HTTP Basic
 * header) to learn which account is tried — the way the app will read it, or not at all
 * (login-body.ts). The secret is folded into a salted hash at once, to count repeated
 * account/secret pairs; it is never stored, logged or compared.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Field, formFields, LoginBodyError, loginBodyFields } from './login-body.ts';
import { MAX_LOGIN_BODY_BYTES } from './read-body.ts';
import type { LoginAttempt } from './request-context.ts';

/** An account's name in shared state and counters: SHA-256, 22 characters, never the name. */
export function accountId(account: string): string {
  return createHash('sha256').update('account\u0000').update(account).digest('base64url').slice(0, 22);
}

/** Where a login attempt may name its account: the body, the query, an HTTP Basic header. */
export interface LoginSource {
  body: Buffer;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** The query string with its leading '?', or ''. */
  query: string;
  authorization: string | undefined;
}

const ambiguous = (message: string) =>
  new LoginBodyError('RG_ERR_LOGIN_BODY', 'request.login_ambiguous', message);

/** NFKC, trimmed, lower case: how the views name an account, whatever width or case it came in. */
function normalise(account: string): string {
  return account.normalize('NFKC').trim().toLowerCase();
}

/**
 * The one value of `field` among these fields: undefined when absent; an error when it occurs
 * twice (in any case: `username` and `Username` are one field to Go's encoding/json), as an
 * array (`username[]`, PHP's and Rails' syntax) or as anything but text.
 */
function single(fields: readonly Field[], field: string, where: string): string | undefined {
  const wanted = field.toLowerCase();
  const found = fields.filter((f) => {
    const name = f.name.normalize('NFKC').toLowerCase();
    return name === wanted || name.startsWith(`${wanted}[`);
  });
  if (found.length === 0) return undefined;
  if (found.length > 1) throw ambiguous(`${field} occurs ${found.length} times in the ${where}`);
  const [one] = found;
  if (one!.name.includes('[')) throw ambiguous(`${field} is an array in the ${where}`);
  if (typeof one!.value !== 'string') throw ambiguous(`${field} is not text in the ${where}`);
  return one!.value;
}

/** HTTP Basic credentials (RFC 7617): user and password, or undefined. */
function basic(authorization: string | undefined): { user: string; password: string } | undefined {
  if (authorization === undefined || authorization.slice(0, 6).toLowerCase() !== 'basic ') return undefined;
  const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class LoginAttemptReader {
  private readonly salt: Buffer;

  constructor(salt: Buffer = randomBytes(16)) {
    this.salt = salt;
  }

  /**
   * The attempt, as the app will read it: the account from the body, the query or an HTTP Basic
   * header — which must agree where more than one names it — or undefined when none does. Throws
   * LoginBodyError for what cannot be read unambiguously; a promise only for multipart bodies.
   */
  read(
    source: LoginSource,
    accountField: string,
    passwordField: string,
  ): LoginAttempt | undefined | Promise<LoginAttempt | undefined> {
    const fields = loginBodyFields(
      source.body,
      { contentType: source.contentType, contentEncoding: source.contentEncoding },
      MAX_LOGIN_BODY_BYTES,
    );
    return fields instanceof Promise
      ? fields.then((f) => this.attempt(f, source, accountField, passwordField))
      : this.attempt(fields, source, accountField, passwordField);
  }

  private attempt(
    body: readonly Field[],
    source: LoginSource,
    accountField: string,
    passwordField: string,
  ): LoginAttempt | undefined {
    const query = source.query.length > 1 ? formFields(source.query.slice(1), undefined) : [];
    const header = basic(source.authorization);
    const named: { account: string; secret: string | undefined }[] = [];
    const fromBody = single(body, accountField, 'body');
    if (fromBody !== undefined)
      named.push({ account: fromBody, secret: single(body, passwordField, 'body') });
    const fromQuery = single(query, accountField, 'query');
    if (fromQuery !== undefined)
      named.push({ account: fromQuery, secret: single(query, passwordField, 'query') });
    if (header) named.push({ account: header.user, secret: header.password });
    const accounts = new Set(named.map((n) => normalise(n.account)).filter((a) => a !== ''));
    if (accounts.size > 1)
      throw ambiguous('the body, the query and the Authorization header name different accounts');
    if (accounts.size === 0) return undefined;
    const full = [...accounts][0]!;
    const secret = named.find((n) => n.secret !== undefined)?.secret;
    // Kept whole in its hash, cut for the name the other signals key on.
    const account = full.slice(0, 256);
    const credential =
      secret === undefined
        ? undefined
        : createHash('sha256')
            .update(this.salt)
            .update(full)
            .update('\0')
            .update(secret)
            .digest('base64url')
            .slice(0, 22);
    return { account, accountId: accountId(full), credential };
  }
}
