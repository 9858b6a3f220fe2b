/**
 * On login routes the enforcer reads the body (bounded) to learn which account is tried.
 * The secret is folded into a salted hash at once, to count repeated account/secret pairs; it
 * is never stored, logged or compared.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { LoginAttempt } from './request-context.ts';

export const MAX_LOGIN_BODY_BYTES = 64 * 1024;

/** An account's name in shared state and counters: SHA-256, 22 characters, never the name. */
export function accountId(account: string): string {
  return createHash('sha256').update('account\u0000').update(account).digest('base64url').slice(0, 22);
}

export class BodyTooLargeError extends Error {
  readonly code = 'RG_ERR_BODY_TOO_LARGE';
}

export function readBody(req: IncomingMessage, limit = MAX_LOGIN_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLargeError('body too large'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(new BodyTooLargeError('body too large'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onError);
  });
}

export class LoginAttemptReader {
  private readonly salt: Buffer;

  constructor(salt: Buffer = randomBytes(16)) {
    this.salt = salt;
  }

  /** The attempt named in the body, or undefined when no account field is present. */
  read(
    body: Buffer,
    contentType: string | undefined,
    accountField: string,
    passwordField: string,
  ): LoginAttempt | undefined {
    let account: unknown;
    let secret: unknown;
    const type = (contentType ?? '').toLowerCase();
    if (type.includes('json')) {
      try {
        const parsed: unknown = JSON.parse(body.toString('utf8'));
        if (parsed && typeof parsed === 'object') {
          account = (parsed as Record<string, unknown>)[accountField];
          secret = (parsed as Record<string, unknown>)[passwordField];
        }
      } catch {
        return undefined;
      }
    } else if (type.includes('x-www-form-urlencoded')) {
      const form = new URLSearchParams(body.toString('utf8'));
      account = form.get(accountField) ?? undefined;
      secret = form.get(passwordField) ?? undefined;
    }
    if (typeof account !== 'string' || account.trim() === '') return undefined;
    const normalised = account.trim().toLowerCase().slice(0, 256);
    const credential =
      typeof secret === 'string'
        ? createHash('sha256')
            .update(this.salt)
            .update(normalised)
            .update('\0')
            .update(secret)
            .digest('base64url')
            .slice(0, 22)
        : undefined;
    return { account: normalised, accountId: accountId(normalised), credential };
  }
}
