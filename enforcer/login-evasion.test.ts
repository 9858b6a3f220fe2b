/**
 * A login attempt dressed so that the enforcer would not see the account the app authenticates:
 * compressed, with a byte-order mark, in UTF-16, as multipart, behind a media-type parameter, in
 * the query, in another case, as an array, twice. Through a real enforcer over sockets, each
 * dress of the same attack must be counted against the account as plain JSON is (the app sees
 * the first three and no more), and what cannot be read unambiguously is refused. The observed
 * rows are the login table of docs/security.md (UPDATE_SECURITY_DOC=1 rewrites it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RecordingUpstream, startRecordingUpstream } from '../test/support/recording-upstream.ts';
import { type TempPolicy, tempPolicy } from '../test/support/temp-policy.ts';
import { startTestEnforcer } from '../test/support/test-enforcer.ts';
import type { RunningEnforcer } from './enforcer.ts';

const POLICY = `
apiVersion: riskgate.dev/v1alpha1
kind: RiskPolicy
metadata: {name: login-evasion}
spec:
  selector: {}
  clientIdentity: {trustedProxies: [127.0.0.0/8]}
  routes:
    - {name: login, methods: [POST], path: /login, sensitivity: high, role: login, login: {failureStatuses: [401]}}
  signals:
    credentialStuffing:
      thresholds: {perIp: 100, perAsn: 1000, perAccount: 4, perCredential: 100, global: 100000, distinctAccountsPerIp: 100}
`;

let app: RecordingUpstream;
let policy: TempPolicy;
let enforcer: RunningEnforcer;
let address = 0;
const rows: string[] = [];

interface Dress {
  name: string;
  headers: Record<string, string>;
  body: (account: string, i: number) => Buffer | string;
  path?: (account: string) => string;
}

const json = (account: string, i: number) => JSON.stringify({ username: account, password: `guess-${i}` });
const form = (account: string, i: number) => `username=${encodeURIComponent(account)}&password=guess-${i}`;
const multipart = (account: string, i: number) =>
  [
    '--b0undary',
    'Content-Disposition: form-data; name="username"',
    '',
    account,
    '--b0undary',
    'Content-Disposition: form-data; name="password"',
    '',
    `guess-${i}`,
    '--b0undary--',
    '',
  ].join('\r\n');
const JSON_TYPE = { 'content-type': 'application/json' };

const DRESSES: Dress[] = [
  { name: 'plain JSON', headers: JSON_TYPE, body: json },
  {
    name: 'gzip',
    headers: { ...JSON_TYPE, 'content-encoding': 'gzip' },
    body: (a, i) => gzipSync(json(a, i)),
  },
  {
    name: 'deflate',
    headers: { ...JSON_TYPE, 'content-encoding': 'deflate' },
    body: (a, i) => deflateSync(json(a, i)),
  },
  {
    name: 'raw deflate',
    headers: { ...JSON_TYPE, 'content-encoding': 'deflate' },
    body: (a, i) => deflateRawSync(json(a, i)),
  },
  {
    name: 'br',
    headers: { ...JSON_TYPE, 'content-encoding': 'br' },
    body: (a, i) => brotliCompressSync(json(a, i)),
  },
  {
    name: 'UTF-8 byte-order mark',
    headers: JSON_TYPE,
    body: (a, i) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(json(a, i))]),
  },
  {
    name: 'UTF-16 with byte-order mark',
    headers: JSON_TYPE,
    body: (a, i) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(json(a, i), 'utf16le')]),
  },
  {
    name: 'UTF-16LE by charset',
    headers: { 'content-type': 'application/json; charset=utf-16le' },
    body: (a, i) => Buffer.from(json(a, i), 'utf16le'),
  },
  { name: 'form', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form },
  {
    name: 'form with ;x=json',
    headers: { 'content-type': 'application/x-www-form-urlencoded;x=json' },
    body: form,
  },
  {
    name: 'multipart/form-data',
    headers: { 'content-type': 'multipart/form-data; boundary=b0undary' },
    body: multipart,
  },
  {
    name: 'account in the query',
    headers: JSON_TYPE,
    body: (_a, i) => JSON.stringify({ password: `guess-${i}` }),
    path: (a) => `/login?username=${encodeURIComponent(a)}`,
  },
  {
    name: 'key in upper case (USERNAME)',
    headers: JSON_TYPE,
    body: (a, i) => JSON.stringify({ USERNAME: a, password: `guess-${i}` }),
  },
  { name: 'account in upper case', headers: JSON_TYPE, body: (a, i) => json(a.toUpperCase(), i) },
  {
    name: 'account in full width',
    headers: JSON_TYPE,
    body: (a, i) =>
      json(
        a.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
        i,
      ),
  },
  {
    name: 'HTTP Basic',
    headers: { authorization: `Basic ${Buffer.from('basic-victim:guess').toString('base64')}` },
    body: () => '',
  },
];

/** `401 ×3, then RG_ERR_… ×5`: each run of one answer once. */
function runs(codes: string[]): string {
  const out: string[] = [];
  for (let i = 0; i < codes.length; ) {
    let j = i;
    while (j < codes.length && codes[j] === codes[i]) j++;
    out.push(`${codes[i]} ×${j - i}`);
    i = j;
  }
  return out.join(', then ');
}

async function send(d: Dress, account: string, i: number) {
  const ip = `100.99.${address >> 8}.${address++ & 255}`;
  const res = await request(`${enforcer.trafficUrl}${d.path?.(account) ?? '/login'}`, {
    method: 'POST',
    headers: { 'x-forwarded-for': ip, ...d.headers },
    body: d.body(account, i),
  });
  const text = await res.body.text();
  return text.startsWith('{"type"') ? (JSON.parse(text).code as string) : String(res.statusCode);
}

beforeAll(async () => {
  app = await startRecordingUpstream();
  app.respond = (_req, res) => {
    res.statusCode = 401;
    res.end('{"error":"bad credentials"}');
  };
  policy = tempPolicy(POLICY);
  enforcer = await startTestEnforcer(policy.file, app.url);
});

afterAll(async () => {
  await enforcer?.close();
  await app?.close();
  policy?.remove();
});

describe('every dress of a login attempt is counted against the account it names', () => {
  it.each(DRESSES.map((d) => [d.name, d] as const))(
    '%s: the app sees three failures, then the account is challenged',
    async (name, d) => {
      const account = d.name === 'HTTP Basic' ? 'basic-victim' : `victim-${DRESSES.indexOf(d)}@example.com`;
      const codes: string[] = [];
      for (let i = 0; i < 8; i++) codes.push(await send(d, account, i));
      rows.push(`| ${name} | ${runs(codes)} |`);
      expect(codes.slice(0, 3)).toEqual(['401', '401', '401']);
      expect(codes.slice(3)).toEqual(Array(5).fill('RG_ERR_PROOF_OF_WORK_REQUIRED'));
    },
  );
});

describe('an attempt that cannot be read unambiguously is refused, never counted as no account', () => {
  it.each([
    [
      'duplicate form keys',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'username=decoy&username=victim&password=x',
      400,
    ],
    ['duplicate JSON keys', JSON_TYPE, '{"username":"decoy","username":"victim","password":"x"}', 400],
    [
      'JSON keys differing in case',
      JSON_TYPE,
      '{"username":"decoy","Username":"victim","password":"x"}',
      400,
    ],
    [
      'an escaped duplicate key',
      JSON_TYPE,
      '{"username":"decoy","us\\u0065rname":"victim","password":"x"}',
      400,
    ],
    ['the account as an array', JSON_TYPE, '{"username":["decoy","victim"],"password":"x"}', 400],
    [
      'PHP array syntax',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'username[]=victim&password=x',
      400,
    ],
    [
      'trailing data after the JSON',
      JSON_TYPE,
      '{"username":"victim","password":"x"} {"username":"other"}',
      400,
    ],
    ['a JSON body that is not JSON', JSON_TYPE, '{"username":"victim",', 400],
    ['an unknown content coding', { ...JSON_TYPE, 'content-encoding': 'compress' }, '{}', 415],
    ['a gzip body that does not decompress', { ...JSON_TYPE, 'content-encoding': 'gzip' }, 'not gzip', 400],
    ['text/plain', { 'content-type': 'text/plain' }, '{"username":"victim","password":"x"}', 415],
    ['XML', { 'content-type': 'application/xml' }, '<login><username>victim</username></login>', 415],
    ['no content type', {}, '{"username":"victim","password":"x"}', 415],
    [
      'an unknown charset',
      { 'content-type': 'application/json; charset=shift_jis' },
      '{"username":"victim"}',
      415,
    ],
    ['invalid UTF-8', JSON_TYPE, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400],
  ] as const)('%s → %i', async (name, headers, body, status) => {
    const before = app.requests.length;
    const res = await request(`${enforcer.trafficUrl}/login`, {
      method: 'POST',
      headers: { 'x-forwarded-for': '100.98.0.1', ...headers },
      body,
    });
    const problem = await res.body.json();
    rows.push(`| ${name} | ${res.statusCode} \`${(problem as { code: string }).code}\` |`);
    expect(res.statusCode).toBe(status);
    expect(app.requests.length).toBe(before);
  });

  it('an account in the query and another in the body → 400', async () => {
    const res = await request(`${enforcer.trafficUrl}/login?username=decoy`, {
      method: 'POST',
      headers: { 'x-forwarded-for': '100.98.0.2', ...JSON_TYPE },
      body: JSON.stringify({ username: 'victim', password: 'x' }),
    });
    const problem = (await res.body.json()) as { code: string };
    rows.push(`| query and body name different accounts | ${res.statusCode} \`${problem.code}\` |`);
    expect([res.statusCode, problem.code]).toEqual([400, 'RG_ERR_LOGIN_BODY']);
  });

  it('a gzip bomb is refused within the login body limit', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await request(`${enforcer.trafficUrl}/login`, {
      method: 'POST',
      headers: { 'x-forwarded-for': '100.98.0.3', ...JSON_TYPE, 'content-encoding': 'gzip' },
      body: bomb,
    });
    const problem = (await res.body.json()) as { code: string };
    rows.push(
      `| gzip of 50 MB in ${Math.round(bomb.length / 1024)} KB | ${res.statusCode} \`${problem.code}\` |`,
    );
    expect([res.statusCode, problem.code]).toEqual([413, 'RG_ERR_BODY_TOO_LARGE']);
  });
});

describe('docs/security.md', () => {
  it('shows the login table these tests observed', () => {
    const table = [
      '| login attempt | what the enforcer answered, attempt by attempt |',
      '| --- | --- |',
      ...rows,
    ].join('\n');
    const doc = readFileSync('docs/security.md', 'utf8');
    const start = '<!-- logins:start -->';
    const end = '<!-- logins:end -->';
    const from = doc.indexOf(start);
    const to = doc.indexOf(end);
    expect(from, 'docs/security.md has logins markers').toBeGreaterThan(-1);
    if (process.env['UPDATE_SECURITY_DOC']) {
      writeFileSync('docs/security.md', `${doc.slice(0, from + start.length)}\n${table}\n${doc.slice(to)}`);
      return;
    }
    expect(doc.slice(from + start.length, to).trim()).toBe(table);
  });
});
