import type { HostPort } from '../enforcer/enforcer.ts';

/** Parses HOST:PORT, [IPv6]:PORT or :PORT. */
export function parseHostPort(text: string, defaultHost: string): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  if (!m) throw new Error(`expected HOST:PORT, got ${JSON.stringify(text)}`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`port out of range: ${port}`);
  return { host: m[1] ?? (m[2] || defaultHost), port };
}
