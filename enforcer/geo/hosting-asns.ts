/**
 * Hosting and datacenter networks: where scripts run, not where people sit. A curated list of
 * large clouds and hosters, plus organisation names that say so; policies add their own
 * (spec.signals.geoip.hostingAsns).
 */
export const KNOWN_HOSTING_ASNS: ReadonlySet<number> = new Set([
  16509,
  14618,
  8987, // Amazon
  15169,
  396982,
  19527, // Google, Google Cloud
  8075,
  8068,
  8069, // Microsoft / Azure
  14061, // DigitalOcean
  16276, // OVH
  24940,
  213230, // Hetzner
  63949, // Akamai Connected Cloud (Linode)
  20473, // Vultr (Choopa)
  31898, // Oracle Cloud
  45102,
  37963, // Alibaba Cloud
  132203, // Tencent Cloud
  12876, // Scaleway
  51167, // Contabo
  36352, // ColoCrossing
  9009, // M247
  60781,
  28753, // Leaseweb
  46606, // Unified Layer
  29802, // HIVELOCITY
  62567, // DigitalOcean (legacy)
  53667, // FranTech / BuyVM
  40021, // Contabo US
  212238, // Datacamp
]);

const HOSTING_NAME =
  /\b(hosting|host|cloud|datacenter|data center|data-center|server|servers|vps|colo|colocation|dedicated|compute)\b/i;

export function isHostingAsn(asn: number, organisation: string, extra: ReadonlySet<number>): boolean {
  return KNOWN_HOSTING_ASNS.has(asn) || extra.has(asn) || HOSTING_NAME.test(organisation);
}
