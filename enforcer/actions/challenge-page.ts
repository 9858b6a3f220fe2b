/**
 * The challenge as a person meets it: a browser navigating to a page that scored `challenge` gets
 * a small page instead of a JSON error. It solves the proof of work in a Web Worker (the solver is
 * pow-worker.ts), shows its progress, stores the answer in a cookie and reloads the page — the
 * enforcer accepts the answer once and gives the browser a clearance cookie, so the next pages
 * pass. A form that was posted is not sent again behind the person's back: the page says so and
 * offers to go back. Everything is inline under a Content-Security-Policy that allows only this
 * page's own nonce and a worker from a blob: nothing is loaded from anywhere.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { POW_WORKER_SOURCE } from './pow-worker.ts';
import { POW_COOKIE } from './proof-of-work.ts';

/** A browser's navigation to a document, not a script's call or a subresource. */
export function isNavigation(method: string, headers: IncomingHttpHeaders): boolean {
  const mode = headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  // Browsers without Fetch Metadata: a document request says it accepts HTML.
  const accept = headers['accept'];
  return (
    (method === 'GET' || method === 'POST') && typeof accept === 'string' && accept.includes('text/html')
  );
}

interface Texts {
  title: string;
  working: string;
  progress: string;
  done: string;
  resubmit: string;
  back: string;
  noscript: string;
  why: string;
  failed: string;
}

/** The page's words, by language; add one here to localise it (the tests check every key). */
export const TEXTS: Record<string, Texts> = {
  en: {
    title: 'Checking your browser',
    working:
      'Your browser is doing a short calculation to show it is not a bot. This usually takes a moment.',
    progress: 'Working…',
    done: 'Done. Loading the page…',
    resubmit: 'Done. Your form was not sent again automatically: go back and submit it once more.',
    back: 'Go back',
    noscript: 'This check needs JavaScript. Turn it on for this site and reload, or contact the site owner.',
    why: 'Unusual traffic came from your network, so this site asks for a small amount of computing work before it continues. No data about you is collected by this check.',
    failed: 'The check could not finish. Reload the page to try again.',
  },
  de: {
    title: 'Ihr Browser wird geprüft',
    working:
      'Ihr Browser führt eine kurze Berechnung durch, um zu zeigen, dass er kein Bot ist. Das dauert meist nur einen Moment.',
    progress: 'Wird berechnet…',
    done: 'Fertig. Die Seite wird geladen…',
    resubmit:
      'Fertig. Ihr Formular wurde nicht automatisch erneut gesendet: Gehen Sie zurück und senden Sie es noch einmal.',
    back: 'Zurück',
    noscript:
      'Diese Prüfung braucht JavaScript. Aktivieren Sie es für diese Seite und laden Sie neu, oder wenden Sie sich an den Betreiber.',
    why: 'Aus Ihrem Netz kam ungewöhnlicher Verkehr, deshalb verlangt diese Seite etwas Rechenarbeit, bevor sie fortfährt. Diese Prüfung erhebt keine Daten über Sie.',
    failed:
      'Die Prüfung konnte nicht abgeschlossen werden. Laden Sie die Seite neu, um es erneut zu versuchen.',
  },
};

/** The first language of Accept-Language the page speaks; English otherwise. */
export function languageOf(acceptLanguage: string | string[] | undefined): string {
  if (typeof acceptLanguage !== 'string') return 'en';
  for (const part of acceptLanguage.split(',')) {
    const tag = part.split(';')[0]!.trim().toLowerCase().split('-')[0]!;
    if (tag in TEXTS) return tag;
  }
  return 'en';
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** `</script>` and friends cannot end the script a JSON value sits in. */
const inScript = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

/** The solver as a script literal: the same for every page, so serialised once. */
const WORKER_LITERAL = inScript(POW_WORKER_SOURCE);

export interface ChallengePage {
  html: string;
  /** The Content-Security-Policy that goes with it. */
  csp: string;
}

export function challengePage(options: {
  challenge: string;
  difficulty: number;
  ttlSeconds: number;
  method: string;
  lang: string;
  requestId: string;
}): ChallengePage {
  const t = TEXTS[options.lang] ?? TEXTS['en']!;
  const nonce = randomBytes(16).toString('base64');
  const replay = options.method === 'GET' || options.method === 'HEAD';
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    'worker-src blob:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const html = `<!doctype html>
<html lang="${escapeHtml(options.lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(t.title)}</title>
<style nonce="${nonce}">
body{font:16px/1.5 system-ui,sans-serif;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center;background:#f6f7f9;color:#1b1f24}
main{max-width:32rem;margin:1rem;padding:2rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}
h1{font-size:1.4rem;margin:0 0 1rem}
progress{width:100%;height:1rem}
#status{font-weight:600}
small{color:#57606a;display:block;margin-top:1.5rem}
button{font:inherit;padding:.4rem 1rem;margin-top:1rem}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(t.title)}</h1>
<p>${escapeHtml(t.working)}</p>
<progress id="bar" max="100" aria-label="${escapeHtml(t.progress)}"></progress>
<p id="status" role="status" aria-live="polite">${escapeHtml(t.progress)}</p>
<button id="back" type="button" hidden>${escapeHtml(t.back)}</button>
<noscript><p><strong>${escapeHtml(t.noscript)}</strong></p></noscript>
<small>${escapeHtml(t.why)} (${escapeHtml(options.requestId)})</small>
</main>
<script nonce="${nonce}">
(() => {
  const challenge = ${inScript(options.challenge)};
  const difficulty = ${options.difficulty};
  const expected = Math.pow(2, difficulty);
  const replay = ${replay};
  const text = ${inScript({ done: t.done, resubmit: t.resubmit, failed: t.failed })};
  const bar = document.getElementById('bar');
  const status = document.getElementById('status');
  let worker;
  try {
    worker = new Worker(URL.createObjectURL(new Blob([${WORKER_LITERAL}], { type: 'text/javascript' })));
  } catch {
    status.textContent = text.failed;
    return;
  }
  worker.onerror = () => { status.textContent = text.failed; };
  worker.onmessage = (event) => {
    const { answer, tries } = event.data;
    // Tries against the expected number of tries: a guide, since luck decides when it ends.
    bar.value = Math.min(95, Math.round((100 * tries) / (2 * expected)));
    if (answer === undefined) return;
    bar.value = 100;
    document.cookie = '${POW_COOKIE}=' + answer + '; Path=/; Max-Age=${options.ttlSeconds}; SameSite=Strict';
    if (replay) {
      status.textContent = text.done;
      location.reload();
    } else {
      status.textContent = text.resubmit;
      const back = document.getElementById('back');
      back.hidden = false;
      back.onclick = () => history.back();
      back.focus();
    }
  };
  worker.postMessage({ challenge, difficulty });
})();
</script>
</body>
</html>
`;
  return { html, csp };
}
