/**
 * Reading a login body into memory, bounded three ways: by size (64 KiB a body), by time (a body
 * must arrive within its deadline, not a slow minute), and by what all bodies being read hold at
 * once — in all and per client — so that thousands of connections trickling bodies cannot grow
 * the heap. A body over a bound is refused at once and its bytes let go.
 */
import type { IncomingMessage } from 'node:http';

export const MAX_LOGIN_BODY_BYTES = 64 * 1024;

export class BodyReadError extends Error {
  readonly code: 'RG_ERR_BODY_TOO_LARGE' | 'RG_ERR_BODY_TIMEOUT' | 'RG_ERR_OVERLOADED';
  readonly reason: string;

  constructor(code: BodyReadError['code'], reason: string) {
    super(reason);
    this.code = code;
    this.reason = reason;
  }
}

/** What every login body being read holds, in all and per client. */
export class BodyBudget {
  readonly maxBytes: number;
  readonly maxBytesPerClient: number;
  private held = 0;
  private readonly byClient = new Map<string, number>();

  constructor(maxBytes = 16 * 1024 * 1024, maxBytesPerClient = 8 * MAX_LOGIN_BODY_BYTES) {
    this.maxBytes = maxBytes;
    this.maxBytesPerClient = maxBytesPerClient;
  }

  get bytes(): number {
    return this.held;
  }

  /** Takes `bytes` for `client`; false when that would pass a bound (nothing is taken then). */
  take(client: string, bytes: number): boolean {
    const mine = this.byClient.get(client) ?? 0;
    if (this.held + bytes > this.maxBytes || mine + bytes > this.maxBytesPerClient) return false;
    this.held += bytes;
    this.byClient.set(client, mine + bytes);
    return true;
  }

  give(client: string, bytes: number): void {
    this.held -= bytes;
    const left = (this.byClient.get(client) ?? 0) - bytes;
    if (left <= 0) this.byClient.delete(client);
    else this.byClient.set(client, left);
  }
}

export interface ReadBodyOptions {
  limit?: number;
  /** The whole body must have arrived within this. Default 10 s. */
  deadlineMs?: number;
  budget: BodyBudget;
  /** Who is sending it (the client key): its share of the budget. */
  client: string;
}

export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const limit = options.limit ?? MAX_LOGIN_BODY_BYTES;
  const { budget, client } = options;
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyReadError('RG_ERR_BODY_TOO_LARGE', 'request.body_too_large'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (err: Error) => {
      cleanup();
      // The connection is of no more use: what it would still send is not read.
      req.pause();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limit) {
        fail(new BodyReadError('RG_ERR_BODY_TOO_LARGE', 'request.body_too_large'));
        return;
      }
      if (!budget.take(client, chunk.length)) {
        fail(new BodyReadError('RG_ERR_OVERLOADED', 'request.login_bodies_over_budget'));
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => {
      const body = Buffer.concat(chunks, size);
      cleanup();
      resolve(body);
    };
    const onError = (err: Error) => fail(err);
    const timer = setTimeout(
      () => fail(new BodyReadError('RG_ERR_BODY_TIMEOUT', 'request.body_timeout')),
      options.deadlineMs ?? 10_000,
    );
    const cleanup = () => {
      clearTimeout(timer);
      budget.give(client, size);
      chunks.length = 0;
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
