/**
 * A client-node error in words: its HTTP status and the apiserver's own message (client-node's
 * message is "HTTP-Code: 404 Message: Unknown API Status Code! Body: …"), or a network error's.
 */
export function apiErrorText(err: unknown): string {
  const e = err as { code?: unknown; body?: unknown; message?: string; cause?: { code?: string } };
  if (typeof e.code === 'number') {
    let message: string | undefined;
    try {
      const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
      message = (body as { message?: string } | undefined)?.message;
    } catch {}
    return `${e.code}${message ? `: ${message}` : ''}`;
  }
  const cause = e.cause?.code ? ` (${e.cause.code})` : '';
  return `${e.message ?? String(err)}${cause}`;
}
