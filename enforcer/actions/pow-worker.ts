/**
 * The proof-of-work solver a browser runs in a Web Worker: the challenge page inlines it, and
 * `make crds` writes it out as clients/js/pow-worker.js for the client helper (a test keeps the
 * two equal). SHA-256 is written out here because the page may load nothing from anywhere (its
 * Content-Security-Policy allows no source but itself) and WebCrypto's digest is asynchronous, a
 * promise per hash: tens of times slower for a million small hashes. Its round constants are
 * computed, not typed in, and a test checks it against node:crypto.
 */
export const POW_WORKER_SOURCE = `// Riskgate proof-of-work solver. Generated from enforcer/actions/pow-worker.ts: do not edit.
// Message {challenge, difficulty} in; {tries} now and then, then {answer, tries} out, where
// SHA-256(answer) has at least \`difficulty\` leading zero bits and answer = challenge + ':' + s.
'use strict';
const primes = [];
for (let n = 2; primes.length < 64; n++) if (primes.every((p) => n % p !== 0)) primes.push(n);
const frac = (x) => (x - Math.floor(x)) * 0x100000000;
const K = new Uint32Array(primes.map((p) => frac(Math.cbrt(p))));
const H0 = new Uint32Array(primes.slice(0, 8).map((p) => frac(Math.sqrt(p))));
const W = new Uint32Array(64);

function sha256(bytes) {
  const blocks = (bytes.length + 72) >> 6;
  const buf = new Uint8Array(blocks * 64);
  buf.set(bytes);
  buf[bytes.length] = 0x80;
  const view = new DataView(buf.buffer);
  view.setUint32(buf.length - 8, Math.floor(bytes.length / 0x20000000));
  view.setUint32(buf.length - 4, bytes.length * 8);
  const h = H0.slice();
  for (let off = 0; off < buf.length; off += 64) {
    for (let i = 0; i < 16; i++) W[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const x = W[i - 15];
      const y = W[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      W[i] = W[i - 16] + s0 + W[i - 7] + s1;
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (k + S1 + ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setUint32(i * 4, h[i]);
  return out;
}

function zeroBits(digest) {
  let bits = 0;
  for (const byte of digest) {
    if (byte !== 0) return bits + Math.clz32(byte) - 24;
    bits += 8;
  }
  return bits;
}

function solve(challenge, difficulty, progress) {
  const prefix = new TextEncoder().encode(challenge + ':');
  for (let i = 0; ; i++) {
    const s = i.toString(36);
    const message = new Uint8Array(prefix.length + s.length);
    message.set(prefix);
    for (let j = 0; j < s.length; j++) message[prefix.length + j] = s.charCodeAt(j);
    if (zeroBits(sha256(message)) >= difficulty) return { answer: challenge + ':' + s, tries: i + 1 };
    if ((i & 4095) === 4095) progress(i + 1);
  }
}

if (typeof self !== 'undefined' && typeof self.postMessage === 'function') {
  self.onmessage = (event) => {
    const { challenge, difficulty } = event.data;
    self.postMessage(solve(challenge, difficulty, (tries) => self.postMessage({ tries })));
  };
}
`;
