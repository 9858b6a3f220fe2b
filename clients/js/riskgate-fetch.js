/**
 * Riskgate's client helper: `fetch` that meets the enforcer's challenges, for single-page apps,
 * mobile web views, Node services and scripts that call an API behind Riskgate. No dependencies.
 *
 *   import { withRiskgate } from './riskgate-fetch.js';
 *   const api = withRiskgate(fetch, {
 *     onStepUp: ({ acrValues, maxAge }) => startLogin({ acrValues, maxAge }),
 *   });
 *   const res = await api('/api/orders', { method: 'POST', body: JSON.stringify(order) });
 *
 * On a proof-of-work challenge (401, `WWW-Authenticate: PoW …`) it solves off the main thread —
 * a Web Worker (pow-worker.js, beside this file) in a browser, a worker thread with node:crypto
 * in Node — and sends the request once more with the answer. On a step-up challenge (RFC 9470:
 * `error="insufficient_user_authentication"`) it calls `onStepUp` with the acr values and max age
 * the app must obtain, and returns the 401. Bodies must be replayable to be retried (a string,
 * ArrayBuffer, Blob, URLSearchParams or FormData in `init`); a stream body's 401 is returned as is.
 */

const POW_HEADER = 'x-riskgate-pow';

/** The parameters of a `WWW-Authenticate` challenge of `scheme`, or undefined. */
export function challengeOf(header, scheme) {
  if (typeof header !== 'string') return undefined;
  const at = header.toLowerCase().indexOf(`${scheme.toLowerCase()} `);
  if (at === -1) return undefined;
  const params = {};
  for (const m of header.slice(at + scheme.length + 1).matchAll(/([\w-]+)=(?:"([^"]*)"|([^\s,]+))/g)) {
    params[m[1].toLowerCase()] = m[2] ?? m[3];
  }
  return params;
}

const isNode =
  typeof process !== 'undefined' &&
  typeof process.versions?.node === 'string' &&
  typeof window === 'undefined';

/** Solves in a Node worker thread with node:crypto. */
async function solveInNode(challenge, difficulty) {
  const { Worker } = await import('node:worker_threads');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { createHash } = require('node:crypto');
    const zeroBits = (d) => { let b = 0; for (const x of d) { if (x !== 0) return b + Math.clz32(x) - 24; b += 8; } return b; };
    for (let i = 0; ; i++) {
      const answer = workerData.challenge + ':' + i.toString(36);
      if (zeroBits(createHash('sha256').update(answer).digest()) >= workerData.difficulty) { parentPort.postMessage(answer); break; }
    }`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { challenge, difficulty } });
    worker.once('message', (answer) => {
      resolve(answer);
      worker.terminate();
    });
    worker.once('error', reject);
  });
}

/** Solves in a browser Web Worker running pow-worker.js. */
function solveInBrowser(challenge, difficulty, workerUrl) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl);
    worker.onmessage = (event) => {
      if (event.data.answer === undefined) return;
      resolve(event.data.answer);
      worker.terminate();
    };
    worker.onerror = (event) => reject(new Error(event.message || 'proof-of-work worker failed'));
    worker.postMessage({ challenge, difficulty });
  });
}

/** Finds the answer to a proof-of-work challenge, off the main thread. */
export function solveChallenge(challenge, difficulty, options = {}) {
  if (difficulty > 30) return Promise.reject(new Error(`refusing a proof of work of ${difficulty} bits`));
  if (isNode) return solveInNode(challenge, difficulty);
  return solveInBrowser(
    challenge,
    difficulty,
    options.workerUrl ?? new URL('./pow-worker.js', import.meta.url),
  );
}

/**
 * Wraps `fetchImpl` (default: the global fetch). Options: `onStepUp({acrValues, maxAge,
 * response})` for step-up challenges; `onChallenge({difficulty})` before solving one;
 * `workerUrl` where pow-worker.js is served, in a browser.
 */
export function withRiskgate(fetchImpl = globalThis.fetch, options = {}) {
  return async function riskgateFetch(input, init = {}) {
    const response = await fetchImpl(input, init);
    if (response.status !== 401) return response;
    const header = response.headers.get('www-authenticate');
    const pow = challengeOf(header, 'PoW');
    if (pow?.challenge && pow.difficulty) {
      const body = init.body;
      if (body !== undefined && body !== null && typeof body.getReader === 'function') return response;
      const difficulty = Number(pow.difficulty);
      options.onChallenge?.({ difficulty });
      const answer = await solveChallenge(pow.challenge, difficulty, options);
      const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
      headers.set(POW_HEADER, answer);
      await response.body?.cancel();
      return fetchImpl(input, { ...init, headers });
    }
    const bearer = challengeOf(header, 'Bearer');
    if (bearer?.error === 'insufficient_user_authentication') {
      options.onStepUp?.({
        acrValues: bearer.acr_values ? bearer.acr_values.split(' ') : [],
        maxAge: bearer.max_age === undefined ? undefined : Number(bearer.max_age),
        response,
      });
    }
    return response;
  };
}
