/**
 * A user agent's browser and operating-system family (`firefox/linux`, `curl/other`): coarse
 * enough that a browser update does not make its user a stranger, and all the signals keep of it.
 */

const families = new Map<string, string>();

/** Memoised (bounded), since clients repeat their user agent. */
export function agentFamily(userAgent: string): string {
  let family = families.get(userAgent);
  if (family === undefined) {
    family = computeAgentFamily(userAgent);
    if (families.size >= 10_000) families.clear();
    families.set(userAgent, family);
  }
  return family;
}

function computeAgentFamily(userAgent: string): string {
  const ua = userAgent.toLowerCase();
  const browser =
    /(edg|firefox|chrome|safari|curl|python|go-http|okhttp|java|wget|postman|node)/.exec(ua)?.[1] ?? 'other';
  const os = /(windows|android|iphone|ipad|mac os|linux)/.exec(ua)?.[1] ?? 'other';
  return `${browser}/${os}`;
}
