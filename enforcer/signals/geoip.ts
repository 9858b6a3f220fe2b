/**
 * Country and network of the client: denied countries (or countries outside an allow-list)
 * score full weight; a hosting/datacenter ASN scores a penalty on requests from people —
 * anything not authenticated by an API key, which is how machines are expected to call.
 */
import type { RequestContext } from '../context/request-context.ts';
import { type CompiledSignal, type Contribution, defineSignal } from './signal.ts';

export interface GeoIpSettings {
  weight: number;
  allowedCountries: ReadonlySet<string> | undefined;
  deniedCountries: ReadonlySet<string> | undefined;
  hostingAsnPenalty: number;
}

export class GeoIpSignal implements CompiledSignal {
  readonly name = 'geoip';
  private readonly settings: GeoIpSettings;

  constructor(settings: GeoIpSettings) {
    this.settings = settings;
  }

  score(ctx: RequestContext, _state: unknown, _slots: unknown, out: Contribution[]): void {
    const { country, hosting, asn } = ctx.location;
    const s = this.settings;
    if (country !== undefined) {
      if (s.deniedCountries?.has(country)) {
        out.push({ code: 'geo.country_denied', points: s.weight, detail: country });
      } else if (s.allowedCountries && !s.allowedCountries.has(country)) {
        out.push({ code: 'geo.country_not_allowed', points: s.weight, detail: country });
      }
    }
    if (hosting && s.hostingAsnPenalty > 0 && ctx.subject.kind !== 'apikey') {
      out.push({ code: 'geo.hosting_asn', points: s.hostingAsnPenalty, detail: `AS${asn}` });
    }
  }
}

export const geoip = defineSignal({
  name: 'geoip',
  usesLocation: true,
  reasons: [
    { code: 'geo.country_denied', points: 'weight', when: "the client's country is in `deniedCountries`" },
    {
      code: 'geo.country_not_allowed',
      points: 'weight',
      when: '`allowedCountries` is set and the country is not in it',
    },
    {
      code: 'geo.hosting_asn',
      points: '`hostingAsnPenalty`',
      when: "the client's network is a hosting/datacenter ASN and the subject is not an API key",
    },
  ],
  compile: (spec) =>
    new GeoIpSignal({
      weight: spec.weight,
      allowedCountries: spec.allowedCountries ? new Set(spec.allowedCountries) : undefined,
      deniedCountries: spec.deniedCountries ? new Set(spec.deniedCountries) : undefined,
      hostingAsnPenalty: spec.hostingAsnPenalty,
    }),
});
