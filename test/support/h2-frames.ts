/**
 * HTTP/2 frames written byte by byte (RFC 9113, HPACK RFC 7541 without Huffman coding), for the
 * attacks a well-behaved client library refuses to send: rapid resets, CONTINUATION floods,
 * HPACK bombs, SETTINGS floods, streams past the limit.
 */
import { connect, type Socket } from 'node:net';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
export const TYPE = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
};
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 };

export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK integer with an N-bit prefix, the first byte's high bits given. */
function integer(value: number, prefixBits: number, high: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const out = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

function text(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([integer(bytes.length, 7, 0), bytes]);
}

/** A header field as a literal; `index` adds it to the peer's dynamic table. */
export function literal(name: string, value: string, index = false): Buffer {
  return Buffer.concat([Buffer.from([index ? 0x40 : 0x00]), text(name), text(value)]);
}

/** A reference to a table entry (static 1–61, dynamic from 62). */
export function indexed(i: number): Buffer {
  return integer(i, 7, 0x80);
}

/** A GET request's header block: :method GET, :scheme http, :path, :authority. */
export function getRequest(path = '/', extra: Buffer[] = []): Buffer {
  return Buffer.concat([
    indexed(2),
    indexed(6),
    literal(':path', path),
    literal(':authority', 'app'),
    ...extra,
  ]);
}

export function rstStream(streamId: number, code = 8): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(TYPE.RST_STREAM, 0, streamId, p);
}

export interface RawH2 {
  socket: Socket;
  /** Frame types received, and the GOAWAY error code if one came. */
  received: {
    types: number[];
    goaway?: number;
    goaways: number[];
    rstCodes: Map<number, number>;
    headersOn: Set<number>;
  };
  closed: Promise<void>;
  write(data: Buffer): boolean;
}

/** A connection that has sent the preface and an empty SETTINGS frame, reading what comes back. */
export function rawH2(port: number): Promise<RawH2> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: RawH2['received'] = { types: [], goaways: [], rstCodes: new Map(), headersOn: new Set() };
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 9) {
        const length = buf.readUIntBE(0, 3);
        if (buf.length < 9 + length) break;
        const type = buf[3]!;
        const stream = buf.readUInt32BE(5) & 0x7fffffff;
        const payload = buf.subarray(9, 9 + length);
        if (received.types.length < 100_000) received.types.push(type);
        if (type === TYPE.GOAWAY) {
          received.goaway = payload.readUInt32BE(4);
          received.goaways.push(received.goaway);
        }
        if (type === TYPE.RST_STREAM) received.rstCodes.set(stream, payload.readUInt32BE(0));
        if (type === TYPE.HEADERS) received.headersOn.add(stream);
        buf = buf.subarray(9 + length);
      }
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => {});
    socket.once('connect', () => {
      socket.write(Buffer.concat([PREFACE, frame(TYPE.SETTINGS, 0, 0)]));
      resolve({ socket, received, closed, write: (data) => socket.write(data) });
    });
    socket.once('error', reject);
  });
}
