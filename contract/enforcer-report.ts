/**
 * What an enforcer reports about itself in the policy's enforcers hash, field = pod name:
 * "<config hash> <epoch ms>". The operator counts the fresh reports of the current hash.
 */

/** Reports older than this are not counted: the enforcer is gone or cut off. */
export const REPORT_FRESH_MS = 30_000;
/** How often an enforcer reports; well inside REPORT_FRESH_MS. */
export const REPORT_INTERVAL_MS = 10_000;
/** The hash expires when no enforcer has reported for this long. */
export const REPORTS_TTL_MS = 5 * 60_000;

export interface EnforcerReport {
  hash: string;
  at: number;
}

export function encodeReport(report: EnforcerReport): string {
  return `${report.hash} ${report.at}`;
}

export function decodeReport(text: string | undefined): EnforcerReport | undefined {
  if (!text) return undefined;
  const [hash, at] = text.split(' ');
  const when = Number(at);
  if (!hash || !Number.isFinite(when)) return undefined;
  return { hash, at: when };
}

/** Whether a report says the enforcer runs `hash` now. */
export function isUpToDate(report: EnforcerReport | undefined, hash: string, now: number): boolean {
  return report !== undefined && report.hash === hash && now - report.at < REPORT_FRESH_MS;
}
