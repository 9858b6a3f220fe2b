/** The risk signals and their settings. */
import { z } from 'zod';
import { keyedList, withRules } from '../rule.ts';
import { countryCode, duration, name, weight } from './fields.ts';
import { algorithm, keySource, noPrivateKeys, oneKeySource } from './identity.ts';

// ---------------------------------------------------------------------------------------------
// signals

const feed = withRules(
  z
    .strictObject({
      name: name.describe('Feed name, used in reasons and metrics.'),
      url: z
        .url({ protocol: /^https?$/ })
        .max(2048)
        .optional()
        .describe('Fetched with conditional GET.'),
      file: z.string().max(1024).optional().describe('A local file, relative to the policy file.'),
      format: z
        .enum(['plain', 'netset', 'spamhaus-drop'])
        .default('plain')
        .describe(
          'plain: one IP or CIDR a line, # comments. netset: FireHOL. spamhaus-drop: `CIDR ; SBL id`.',
        ),
      refreshInterval: duration('1h'),
      category: z
        .string()
        .max(63)
        .default('malicious')
        .describe('What listed addresses are (botnet, tor, scanner, …); shows in reasons.'),
      weight: z
        .number()
        .int()
        .min(0)
        .max(100)
        .optional()
        .describe('Points a hit adds. Defaults to the signal weight.'),
      required: z
        .boolean()
        .default(false)
        .describe(
          'Not ready without it: the enforcer answers /readyz with 503 (so the pod takes no traffic) until this feed has loaded once. Otherwise a feed that cannot be loaded runs empty and stale, counted in riskgate_feed_stale and retried with backoff, and traffic flows.',
        ),
    })
    .describe('A threat feed of IPs and CIDRs.'),
  [
    {
      cel: 'has(self.url) != has(self.file)',
      message: 'exactly one of url or file must be set',
      check: (v) => (v.url === undefined) !== (v.file === undefined),
    },
  ],
);

const crawler = withRules(
  z
    .strictObject({
      name: name.describe('The crawler, used in reasons and metrics (e.g. googlebot).'),
      userAgent: z
        .string()
        .min(3)
        .max(64)
        .describe('A token its user agent carries, matched case-insensitively (e.g. Googlebot, bingbot).'),
      url: z
        .url({ protocol: /^https?$/ })
        .max(2048)
        .optional()
        .describe(
          'The ranges it publishes, e.g. https://developers.google.com/static/search/apis/ipranges/googlebot.json or https://www.bing.com/toolbox/bingbot.json.',
        ),
      file: z.string().max(1024).optional().describe('A local copy, relative to the policy file.'),
      format: z
        .enum(['prefixes-json', 'plain'])
        .default('prefixes-json')
        .describe(
          'prefixes-json: `{"prefixes": [{"ipv4Prefix": …}, {"ipv6Prefix": …}]}` (Google, Bing); plain: one CIDR a line.',
        ),
      refreshInterval: duration('24h'),
      credit: z
        .number()
        .int()
        .min(0)
        .max(100)
        .default(20)
        .describe(
          'Points taken off a request from a verified crawler: by default what the hosting-network penalty adds.',
        ),
    })
    .describe('A search-engine crawler and the address ranges it publishes.'),
  [
    {
      cel: 'has(self.url) != has(self.file)',
      message: 'exactly one of url or file must be set',
      check: (v) => (v.url === undefined) !== (v.file === undefined),
    },
  ],
);

export const signals = z
  .strictObject({
    ipReputation: z
      .strictObject({
        weight: weight(90),
        feeds: keyedList(feed, 32).default([]),
      })
      .optional()
      .describe('IP reputation from threat feeds, compiled into a prefix trie.'),
    geoip: withRules(
      z
        .strictObject({
          weight: weight(50),
          cityDatabase: z
            .string()
            .max(1024)
            .optional()
            .describe('.mmdb city database. Default: the bundled one.'),
          asnDatabase: z
            .string()
            .max(1024)
            .optional()
            .describe('.mmdb ASN database. Default: the bundled one.'),
          allowedCountries: z
            .array(countryCode)
            .max(250)
            .optional()
            .describe('Only these countries are trusted.'),
          deniedCountries: z
            .array(countryCode)
            .max(250)
            .optional()
            .describe('These countries score full weight.'),
          hostingAsnPenalty: z
            .number()
            .int()
            .min(0)
            .max(100)
            .default(20)
            .describe('Points for a hosting/datacenter ASN on routes meant for people.'),
          hostingAsns: z.array(z.number().int().min(0)).max(4096).default([]).describe('Extra hosting ASNs.'),
        })
        .describe('Country and ASN of the client.'),
      [
        {
          cel: '!has(self.allowedCountries) || !has(self.deniedCountries)',
          message: 'set allowedCountries or deniedCountries, not both',
          check: (v) => v.allowedCountries === undefined || v.deniedCountries === undefined,
        },
      ],
    ).optional(),
    geoVelocity: z
      .strictObject({
        weight: weight(60),
        maxSpeedKmh: z
          .number()
          .int()
          .min(100)
          .max(20000)
          .default(1000)
          .describe('Fastest plausible travel. Default 1000 km/h, an airliner.'),
      })
      .optional()
      .describe('Impossible travel between a subject’s consecutive requests.'),
    device: withRules(
      z
        .strictObject({
          weight: weight(30),
          idHeader: z.string().max(64).optional().describe('Header carrying a stable device id.'),
          idCookie: z.string().max(64).optional().describe('Cookie carrying a stable device id.'),
          newDevicePenalty: z
            .number()
            .int()
            .min(0)
            .max(100)
            .default(15)
            .describe('Points for a device never seen for this subject.'),
          posture: withRules(
            z
              .strictObject({
                issuer: z.string().min(1).max(2048).describe('Required `iss` of posture tokens.'),
                header: z
                  .string()
                  .max(64)
                  .default('x-device-posture')
                  .describe('Header carrying the posture token. Default x-device-posture.'),
                ...keySource,
                algorithms: z.array(algorithm).min(1).max(9).default(['RS256', 'ES256', 'EdDSA']),
                requiredClaims: z
                  .record(z.string().max(128), z.string().max(256))
                  .prefault({})
                  .describe(
                    'Claims the posture token must carry, compared as strings, e.g. compliant: "true".',
                  ),
              })
              .describe(
                'A signed device-posture token (e.g. from an MDM). Missing: half weight; invalid or non-compliant: full weight.',
              ),
            [oneKeySource, noPrivateKeys],
          ).optional(),
        })
        .describe('Device identity and posture.'),
      [
        {
          cel: 'has(self.idHeader) || has(self.idCookie)',
          message: 'one of idHeader or idCookie must be set',
          check: (v) => v.idHeader !== undefined || v.idCookie !== undefined,
        },
      ],
    ).optional(),
    behaviour: z
      .strictObject({
        weight: weight(30),
        window: duration('24h').describe('How far back the learned baselines look. Default 24h.'),
        sensitivity: z.enum(['low', 'medium', 'high']).default('medium'),
      })
      .optional()
      .describe('Deviation from the subject’s and the route’s learned baselines.'),
    credentialStuffing: z
      .strictObject({
        weight: weight(70),
        window: duration('10m').describe('Sliding window for failure counts. Default 10m.'),
        thresholds: z
          .strictObject({
            perIp: z
              .number()
              .int()
              .min(1)
              .max(1000000)
              .default(10)
              .describe('Failed or refused attempts from one client (an IPv4 address or an IPv6 prefix).'),
            perAsn: z
              .number()
              .int()
              .min(1)
              .max(1000000)
              .default(50)
              .describe('Failed attempts from one network.'),
            perAccount: z
              .number()
              .int()
              .min(1)
              .max(1000000)
              .default(5)
              .describe('Failed attempts on one account.'),
            perCredential: z
              .number()
              .int()
              .min(1)
              .max(1000000)
              .default(3)
              .describe('Failed attempts of one account and password pair.'),
            global: z
              .number()
              .int()
              .min(1)
              .max(10000000)
              .default(500)
              .describe(
                'Failed or refused attempts on a login route, whatever its baseline: the ceiling of a wave.',
              ),
            distinctAccountsPerIp: z
              .number()
              .int()
              .min(1)
              .max(1000000)
              .default(5)
              .describe('Distinct accounts tried from one client.'),
          })
          .prefault({})
          .describe(
            'Counts in the window at which each view reaches full weight (it says nothing below half).',
          ),
        wave: z
          .strictObject({
            factor: z
              .number()
              .min(1.5)
              .max(1000)
              .default(5)
              .describe(
                "A wave: failed or refused attempts in the window at this many times the route's learned baseline…",
              ),
            floor: z
              .number()
              .int()
              .min(1)
              .max(1000000)
              .default(10)
              .describe('…and at least this many, so a quiet route is not in a wave after two typos.'),
          })
          .prefault({})
          .describe(
            "A login wave measured against the route's own baseline (learned by each enforcer while no wave is on, after its first hour); thresholds.global stays the ceiling.",
          ),
      })
      .optional()
      .describe(
        'Failed logins counted per client, network, account, credential pair, and per route against its baseline. Only the app refusing a password the enforcer let through is a failure; counts against an account, a network or a route challenge at most, and never an owner logging in from a context the account knows.',
      ),
    loginFamiliarity: z
      .strictObject({
        weight: weight(30),
      })
      .optional()
      .describe(
        "How familiar a login attempt's context (network prefix, ASN, country, browser family, device) is for the account, from its recent successful logins: the owner passes, a stranger pays.",
      ),
    automation: z
      .strictObject({
        weight: weight(30),
        crawlers: keyedList(crawler, 16).default([]),
      })
      .optional()
      .describe(
        'Clients that are plainly automated: a browser user agent without the headers that browser always sends, an HTTP library on a request from no known subject, no user agent, HTTP/1.0, a crawler user agent from outside the ranges that crawler publishes. A guess about the client, not proof: it challenges at most (the challenge page a browser passes unnoticed), never restricts or denies on its own. Verified crawlers get `credit` points off.',
      ),
  })
  .describe('Risk signals. A signal that is not listed is off.');
