/**
 * The answer to one request on the traffic port, for the request path: a status and headers
 * gathered, then sent once — a document, nothing, or a stream piped to the client. It is the
 * part of fastify's reply the request path used; the traffic port takes every request on one
 * catch-all route and parses no body, so fastify's router, hooks and serialisers did nothing for
 * it but cost ~20% of a bare proxy's CPU per request (measured, bench/README.md). The admin port
 * stays on fastify.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

export type Headers = Record<string, string | string[] | number>;

/** A request on the traffic port: Node's request and the id the enforcer gave it. */
export interface TrafficRequest {
  readonly id: string;
  readonly raw: IncomingMessage;
}

export class Reply {
  statusCode = 200;
  readonly request: TrafficRequest;
  readonly raw: ServerResponse;
  private readonly fields: Headers = {};
  private done = false;

  constructor(request: TrafficRequest, raw: ServerResponse) {
    this.request = request;
    this.raw = raw;
  }

  /** Sent, or handed over (hijack): nothing more may be written through the reply. */
  get sent(): boolean {
    return this.done || this.raw.writableEnded;
  }

  code(status: number): this {
    this.statusCode = status;
    return this;
  }

  /** Sets a header (names are lower case); set-cookie values add up, as each is a cookie of its own. */
  header(name: string, value: string | string[] | number): this {
    if (name === 'set-cookie') {
      const prior = this.fields[name];
      if (prior !== undefined) {
        this.fields[name] = [
          ...(Array.isArray(prior) ? prior : [String(prior)]),
          ...(Array.isArray(value) ? value : [String(value)]),
        ];
        return this;
      }
    }
    this.fields[name] = value;
    return this;
  }

  headers(values: Record<string, string | string[] | number>): this {
    for (const name in values) this.header(name, values[name]!);
    return this;
  }

  getHeader(name: string): string | string[] | number | undefined {
    return this.fields[name];
  }

  /** The response is the caller's from here (a tunnel, an HTTP/2 stream answered directly). */
  hijack(): this {
    this.done = true;
    return this;
  }

  /** Sends the status, the headers and `payload`: text, bytes, a stream to pipe, or nothing. */
  send(payload?: string | Buffer | Readable): this {
    if (this.sent) {
      // A stream nobody will read would hold its upstream connection.
      if (payload !== undefined && typeof payload !== 'string' && !Buffer.isBuffer(payload))
        payload.destroy();
      return this;
    }
    this.done = true;
    const res = this.raw;
    if (payload === undefined || typeof payload === 'string' || Buffer.isBuffer(payload)) {
      if (this.fields['content-length'] === undefined)
        this.fields['content-length'] = payload === undefined ? 0 : Buffer.byteLength(payload);
      res.writeHead(this.statusCode, this.fields);
      res.end(payload);
      return this;
    }
    res.writeHead(this.statusCode, this.fields);
    pipeToClient(payload, res);
    return this;
  }
}

/**
 * Streams the app's answer to the client. Either side's failure ends the other: a source that
 * fails cuts the client's response (its head is gone already), and a client that leaves early
 * stops the source, which hands its upstream connection back.
 */
function pipeToClient(source: Readable, res: ServerResponse): void {
  source.once('error', () => res.destroy());
  res.once('close', () => {
    if (!source.readableEnded) source.destroy();
  });
  source.pipe(res);
}
