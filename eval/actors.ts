/**
 * The people and bots of the evaluation, each a coroutine in simulated time that sends real
 * HTTP requests through the enforcer and records, per traffic class, what happened to each.
 */
import { dictionary } from '@zxcvbn-ts/language-common';
import UserAgent from 'user-agents';
import { solve } from '../enforcer/actions/proof-of-work.ts';
import type { GeoLookup } from '../enforcer/geo/geo-lookup.ts';
import { greatCircleKm } from '../enforcer/signals/geo-velocity.ts';
import type { Simulation } from './simulation.ts';
import { type Place, sameNetwork, samplePlace } from './world.ts';

export type Outcome = 'allowed' | 'challenged' | 'restricted' | 'denied' | 'refused';
export type TrafficClass =
  | 'legitimate'
  | 'legitimate: no device cookie'
  | 'legitimate: login during a wave'
  | 'legitimate: owners under a lockout attack'
  | 'legitimate: neighbours of a noisy address'
  | 'legitimate: browsing through a VPN exit'
  | 'credential stuffing (distributed)'
  | 'low-and-slow spray'
  | 'lockout attack on members'
  | 'noisy address'
  | 'rotating inside one IPv6 /64'
  | 'account takeover (impossible travel)'
  | 'stolen token, new device'
  | 'scraping / enumeration'
  | 'known-bad IPs';

export const isLegitimate = (cls: TrafficClass) => cls.startsWith('legitimate');

export interface Sent {
  cls: TrafficClass;
  outcome: Outcome;
  code: string | undefined;
  /** For login attempts: the client address, for the per-IP baseline. */
  loginIp?: string;
  /** The difficulty of the proof of work asked, when one was. */
  pow?: number | undefined;
  at: number;
}

export interface Request {
  method: 'GET' | 'POST';
  path: string;
  ip: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface Response {
  status: number;
  outcome: Outcome;
  code: string | undefined;
  json: Record<string, unknown> | undefined;
}

export interface World {
  sim: Simulation;
  geo: GeoLookup;
  random: () => number;
  send: (r: Request) => Promise<Response>;
  record: (s: Sent) => void;
  /** A person's client solved a proof of work: how long it took, and at what difficulty. */
  solved: (ms: number, difficulty: number) => void;
  /** The identity provider: a token for a user, optionally after MFA. */
  token: (user: string, mfa: boolean) => Promise<string>;
  passwords: Map<string, string>;
  knownBadIps: string[];
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;
const COMMON = dictionary['passwords-common'] as string[];

/** The difficulty of the proof of work a response asked for, if it asked for one. */
export function powOf(res: Response): number | undefined {
  if (res.code !== 'RG_ERR_PROOF_OF_WORK_REQUIRED') return undefined;
  return (res.json?.['proofOfWork'] as { difficulty?: number } | undefined)?.difficulty;
}

/** What a person's browser does with a challenge: solves it, timed. */
function solveAsPerson(w: World, pow: { challenge: string; difficulty: number }): string {
  const started = performance.now();
  const answer = solve(pow.challenge, pow.difficulty)!;
  w.solved(performance.now() - started, pow.difficulty);
  return answer;
}

export function classify(status: number, code: string | undefined): Outcome {
  if (code === 'RG_ERR_DENIED') return 'denied';
  if (code === 'RG_ERR_PROOF_OF_WORK_REQUIRED' || code === 'RG_ERR_STEP_UP_REQUIRED') return 'challenged';
  if (code === 'RG_ERR_RESTRICTED' || code === 'RG_ERR_RATE_LIMITED') return 'restricted';
  if (code?.startsWith('RG_ERR_')) return 'refused';
  return status >= 500 ? 'refused' : 'allowed';
}

export interface Person {
  name: string;
  home: Place;
  agent: string;
  /** An API or mobile client sends none. */
  device: string | undefined;
  cls: TrafficClass;
  /** Hours east of UTC, from the longitude: when the person's day starts. */
  offsetHours: number;
  traveller: boolean;
  /** The day a phished password is used from far away, shortly after the owner was online. */
  takeoverDay: number | undefined;
}

/**
 * The site's members: homes on residential networks of eight countries; three in ten are API or
 * mobile clients that send no device cookie; one in twenty flies abroad mid-week. `homes`, when
 * given, places them all on one network (the neighbours of a noisy address).
 */
export function makePeople(
  w: World,
  count: number,
  options: { prefix?: string; cls?: TrafficClass; homes?: () => Place } = {},
): Person[] {
  const people: Person[] = [];
  const countries = new Set(['DE', 'FR', 'GB', 'NL', 'US', 'ES', 'IT', 'SE']);
  for (let i = 0; i < count; i++) {
    const home =
      options.homes?.() ?? samplePlace(w.geo, w.random, 'residential', (p) => countries.has(p.country));
    const name = `${options.prefix ?? 'user'}${i}@example.com`;
    w.passwords.set(name, `correct-horse-${name}`);
    const cookie = i % 10 >= 3;
    people.push({
      name,
      home,
      agent: new UserAgent({ deviceCategory: w.random() < 0.8 ? 'desktop' : 'mobile' }).toString(),
      device: cookie ? `dev-${i}-${Math.floor(w.random() * 1e9).toString(36)}` : undefined,
      cls: options.cls ?? (cookie ? 'legitimate' : 'legitimate: no device cookie'),
      offsetHours: Math.round(home.longitude / 15),
      traveller: options.homes === undefined && i % 20 === 7,
      takeoverDay: undefined,
    });
  }
  return people;
}

/** A member's login from home, as the member's browser or app sends it (challenges met). */
export async function memberLogin(w: World, p: Person, cls: TrafficClass): Promise<Response> {
  const headers = {
    'user-agent': p.agent,
    ...(p.device ? { cookie: `device_id=${p.device}` } : {}),
  };
  const r = {
    method: 'POST' as const,
    path: '/login',
    body: { username: p.name, password: w.passwords.get(p.name) },
  };
  let res = await w.send({ ...r, ip: p.home.ip, headers });
  w.record({ cls, outcome: res.outcome, code: res.code, pow: powOf(res), at: w.sim.now });
  if (res.code === 'RG_ERR_PROOF_OF_WORK_REQUIRED' && res.json) {
    const pow = res.json['proofOfWork'] as { challenge: string; difficulty: number };
    res = await w.send({
      ...r,
      ip: p.home.ip,
      headers: { ...headers, 'x-riskgate-pow': solveAsPerson(w, pow) },
    });
  }
  return res;
}

/** A person's week: office-hours sessions from home (new IPs on the same ISP), typos, a flight. */
export function person(w: World, p: Person, start: number, days: number) {
  return async (sim: Simulation) => {
    let place = p.home;
    let token: string | undefined;
    let mfaToken = false;
    const headers = () => ({
      'user-agent': p.agent,
      ...(p.device ? { cookie: `device_id=${p.device}` } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });
    const act = async (r: Omit<Request, 'ip'>): Promise<Response> => {
      let res = await w.send({ ...r, ip: place.ip, headers: { ...headers(), ...(r.headers ?? {}) } });
      w.record({ cls: p.cls, outcome: res.outcome, code: res.code, pow: powOf(res), at: sim.now });
      if (process.env['EVAL_LOG'] && res.outcome !== 'allowed') {
        console.error(
          `legit ${res.outcome}: ${p.name} ${r.method} ${r.path} from ${place.ip} (${place.country}) home ${p.home.ip} traveller=${p.traveller}`,
        );
      }
      // People meet challenges: the browser runs the proof of work, the person does MFA.
      if (res.code === 'RG_ERR_PROOF_OF_WORK_REQUIRED' && res.json) {
        const pow = res.json['proofOfWork'] as { challenge: string; difficulty: number };
        const answer = solveAsPerson(w, pow);
        res = await w.send({
          ...r,
          ip: place.ip,
          headers: { ...headers(), ...(r.headers ?? {}), 'x-riskgate-pow': answer! },
        });
      } else if (res.code === 'RG_ERR_STEP_UP_REQUIRED') {
        token = await w.token(p.name, true);
        mfaToken = true;
        res = await w.send({ ...r, ip: place.ip, headers: { ...headers(), ...(r.headers ?? {}) } });
      }
      return res;
    };

    let away: Place | undefined;
    for (let day = 0; day < days; day++) {
      const dayStart = start + day * DAY - p.offsetHours * HOUR;
      const weekday = new Date(dayStart + 12 * HOUR).getUTCDay() % 6 !== 0;
      if (!weekday && w.random() < 0.7) continue;
      // The traveller flies far away on day 3 and stays; the flight takes its time.
      if (p.traveller && day === 3) {
        away = samplePlace(
          w.geo,
          w.random,
          'residential',
          (q) => greatCircleKm(q.latitude, q.longitude, p.home.latitude, p.home.longitude) > 3000,
        );
        const hours = greatCircleKm(away.latitude, away.longitude, place.latitude, place.longitude) / 800 + 3;
        await sim.sleepUntil(sim.now + hours * HOUR);
        place = away;
      }
      const sessions = 1 + Math.floor(w.random() * 3);
      for (let s = 0; s < sessions; s++) {
        await sim.sleepUntil(Math.max(sim.now, dayStart + (8 + w.random() * 10) * HOUR));
        // At home the address changes now and then, on the same ISP.
        if (!away && w.random() < 0.3) place = sameNetwork(w.geo, w.random, p.home);
        if (!token || w.random() < 0.3) {
          if (w.random() < 0.05) {
            await act({
              method: 'POST',
              path: '/login',
              body: { username: p.name, password: 'correct-horse-typo' },
            });
            await sim.sleep(8_000);
          }
          const login = await act({
            method: 'POST',
            path: '/login',
            body: { username: p.name, password: w.passwords.get(p.name) },
          });
          if (login.status === 200) {
            token = await w.token(p.name, mfaToken);
          }
        }
        if (p.takeoverDay === day && s === 0) {
          const at = sim.now + (30 + w.random() * 60) * MINUTE;
          sim.spawn(at, takeover(w, p, at));
        }
        const requests = 4 + Math.floor(w.random() * 12);
        for (let i = 0; i < requests; i++) {
          await sim.sleep(5_000 + w.random() * 40_000);
          const roll = w.random();
          if (roll < 0.03) {
            await act({
              method: 'POST',
              path: '/transfer',
              body: { to: 'DE89370400440532013000', amount: 20 },
            });
          } else if (roll < 0.5) {
            await act({ method: 'GET', path: `/orders/${Math.floor(w.random() * 900)}` });
          } else {
            await act({ method: 'GET', path: `/products/${Math.floor(w.random() * 5000)}` });
          }
        }
      }
    }
  };
}

/** A botnet spending one or two attempts per address, over many networks and countries. */
export function distributedStuffing(w: World, at: number, attempts: number, victims: string[]) {
  return async (sim: Simulation) => {
    const bots: Place[] = [];
    for (let i = 0; i < Math.ceil(attempts / 2); i++) bots.push(samplePlace(w.geo, w.random, 'residential'));
    for (let i = 0; i < attempts; i++) {
      await sim.sleepUntil(at + i * 900);
      const bot = bots[Math.floor(i / 2)]!;
      const username =
        w.random() < 0.3
          ? victims[Math.floor(w.random() * victims.length)]!
          : `${Math.floor(w.random() * 1e9).toString(36)}@example.net`;
      const res = await w.send({
        method: 'POST',
        path: '/login',
        ip: bot.ip,
        headers: { 'user-agent': new UserAgent().toString() },
        body: { username, password: COMMON[Math.floor(w.random() * 2000)] },
      });
      w.record({
        cls: 'credential stuffing (distributed)',
        outcome: res.outcome,
        code: res.code,
        pow: powOf(res),
        loginIp: bot.ip,
        at: sim.now,
      });
    }
  };
}

/** A phished password used from far away: the login, then (if it worked) the account. */
export function takeover(w: World, victim: Person, at: number) {
  return async (sim: Simulation) => {
    await sim.sleepUntil(at);
    const far = samplePlace(
      w.geo,
      w.random,
      w.random() < 0.3 ? 'hosting' : 'residential',
      (q) => greatCircleKm(q.latitude, q.longitude, victim.home.latitude, victim.home.longitude) > 4000,
    );
    const headers = { 'user-agent': new UserAgent().toString(), cookie: 'device_id=attacker-box' };
    const cls = 'account takeover (impossible travel)' as const;
    const login = await w.send({
      method: 'POST',
      path: '/login',
      ip: far.ip,
      headers,
      body: { username: victim.name, password: w.passwords.get(victim.name) },
    });
    w.record({ cls, outcome: login.outcome, code: login.code, pow: powOf(login), at: sim.now });
    if (login.status !== 200) return;
    const token = await w.token(victim.name, false);
    for (let i = 0; i < 10; i++) {
      await sim.sleep(3_000);
      const path = i === 9 ? '/transfer' : `/orders/${i}`;
      const res = await w.send({
        method: i === 9 ? 'POST' : 'GET',
        path,
        ip: far.ip,
        headers: { ...headers, authorization: `Bearer ${token}` },
        body: i === 9 ? { to: 'attacker', amount: 5000 } : undefined,
      });
      w.record({ cls, outcome: res.outcome, code: res.code, pow: powOf(res), at: sim.now });
    }
  };
}

/** A token lifted from the victim, replayed from another machine in the victim's country. */
export function stolenToken(w: World, victim: Person, at: number) {
  return async (sim: Simulation) => {
    await sim.sleepUntil(at);
    const near = samplePlace(
      w.geo,
      w.random,
      'residential',
      (q) => q.country === victim.home.country && q.asn !== victim.home.asn,
    );
    const token = await w.token(victim.name, false);
    const headers = {
      'user-agent': 'python-requests/2.32.3',
      cookie: 'device_id=lifted-session',
      authorization: `Bearer ${token}`,
    };
    for (let i = 0; i < 10; i++) {
      await sim.sleep(2_000);
      const res = await w.send({ method: 'GET', path: `/orders/${i * 37}`, ip: near.ip, headers });
      w.record({
        cls: 'stolen token, new device',
        outcome: res.outcome,
        code: res.code,
        pow: powOf(res),
        at: sim.now,
      });
    }
  };
}

/** A fresh account walking through object ids as fast as it can. */
export function scraper(w: World, name: string, at: number) {
  return async (sim: Simulation) => {
    await sim.sleepUntil(at);
    const place = samplePlace(w.geo, w.random, 'hosting');
    const token = await w.token(name, false);
    const headers = { 'user-agent': 'Go-http-client/1.1', authorization: `Bearer ${token}` };
    for (let i = 0; i < 300; i++) {
      await sim.sleep(400);
      const res = await w.send({ method: 'GET', path: `/orders/${1000 + i}`, ip: place.ip, headers });
      w.record({
        cls: 'scraping / enumeration',
        outcome: res.outcome,
        code: res.code,
        pow: powOf(res),
        at: sim.now,
      });
    }
  };
}

/** One attempt per address, a new account each, slowly: far below an absolute count. */
export function spray(w: World, at: number, attempts: number, everyMs: number) {
  return async (sim: Simulation) => {
    for (let i = 0; i < attempts; i++) {
      await sim.sleepUntil(at + i * everyMs);
      const bot = samplePlace(w.geo, w.random, 'residential');
      const res = await w.send({
        method: 'POST',
        path: '/login',
        ip: bot.ip,
        headers: { 'user-agent': new UserAgent().toString() },
        body: {
          username: `${Math.floor(w.random() * 1e9).toString(36)}@example.org`,
          password: 'Summer2026!',
        },
      });
      w.record({
        cls: 'low-and-slow spray',
        outcome: res.outcome,
        code: res.code,
        pow: powOf(res),
        loginIp: bot.ip,
        at: sim.now,
      });
    }
  };
}

/**
 * Someone who wants members locked out: wrong passwords on their accounts from many addresses,
 * while the owners log in from home as they always do.
 */
export function lockoutAttack(w: World, at: number, victims: Person[], perVictim: number) {
  return async (sim: Simulation) => {
    for (let i = 0; i < victims.length * perVictim; i++) {
      await sim.sleepUntil(at + i * 3_000);
      const victim = victims[i % victims.length]!;
      const from = samplePlace(w.geo, w.random, 'residential');
      const res = await w.send({
        method: 'POST',
        path: '/login',
        ip: from.ip,
        headers: { 'user-agent': new UserAgent().toString() },
        body: { username: victim.name, password: COMMON[Math.floor(w.random() * 2000)] },
      });
      w.record({
        cls: 'lockout attack on members',
        outcome: res.outcome,
        code: res.code,
        pow: powOf(res),
        at: sim.now,
      });
    }
  };
}

/** Members who log in while a credential-stuffing wave is on. */
export function duringWave(w: World, at: number, members: Person[], spanMs: number) {
  return async (sim: Simulation) => {
    for (const [i, m] of members.entries()) {
      await sim.sleepUntil(Math.max(sim.now, at + ((i + 0.5) / members.length) * spanMs));
      await memberLogin(w, m, 'legitimate: login during a wave');
    }
  };
}

/** The owners of attacked accounts, logging in during and after the attack. */
export function ownersDuringLockout(w: World, at: number, owners: Person[], spanMs: number) {
  return async (sim: Simulation) => {
    for (const [k, offset] of [0.2, 0.5, 0.9, 1.3].entries()) {
      for (const [i, owner] of owners.entries()) {
        await sim.sleepUntil(Math.max(sim.now, at + offset * spanMs + i * 7_000 + k));
        await memberLogin(w, owner, 'legitimate: owners under a lockout attack');
      }
    }
  };
}

/** Fifty wrong passwords from one address on a big residential network, then its neighbours log in. */
export function noisyAddress(w: World, at: number, place: Place, neighbours: Person[]) {
  return async (sim: Simulation) => {
    for (let i = 0; i < 50; i++) {
      await sim.sleepUntil(at + i * 10_000);
      const res = await w.send({
        method: 'POST',
        path: '/login',
        ip: place.ip,
        headers: { 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/140.0' },
        body: { username: `${Math.floor(w.random() * 1e9).toString(36)}@example.com`, password: 'password1' },
      });
      w.record({ cls: 'noisy address', outcome: res.outcome, code: res.code, pow: powOf(res), at: sim.now });
    }
    for (const n of neighbours) {
      await sim.sleep(20_000);
      await memberLogin(w, n, 'legitimate: neighbours of a noisy address');
    }
  };
}

/** A bot that takes a new address inside its /64 for every attempt. */
export function rotatingInOne64(w: World, at: number, attempts: number) {
  return async (sim: Simulation) => {
    for (let i = 0; i < attempts; i++) {
      await sim.sleepUntil(at + i * 2_000);
      const word = (n: number) => (Math.floor(w.random() * 0xffff) ^ n).toString(16);
      const ip = `2001:db8:4:7:${word(i)}:${word(i * 3)}:${word(i * 7)}:${word(i * 11)}`;
      const res = await w.send({
        method: 'POST',
        path: '/login',
        ip,
        headers: { 'user-agent': 'python-requests/2.32.3' },
        body: {
          username: `${Math.floor(w.random() * 1e9).toString(36)}@example.net`,
          password: COMMON[i % 2000],
        },
      });
      w.record({
        cls: 'rotating inside one IPv6 /64',
        outcome: res.outcome,
        code: res.code,
        pow: powOf(res),
        at: sim.now,
      });
    }
  };
}

export function knownBad(w: World, at: number, requests: number) {
  return async (sim: Simulation) => {
    for (let i = 0; i < requests; i++) {
      await sim.sleepUntil(at + i * 5 * MINUTE);
      const ip = w.knownBadIps[i % w.knownBadIps.length]!;
      const login = i % 3 === 0;
      const res = await w.send({
        method: login ? 'POST' : 'GET',
        path: login ? '/login' : `/products/${i}`,
        ip,
        headers: { 'user-agent': 'Mozilla/5.0' },
        body: login ? { username: 'admin@example.com', password: 'admin' } : undefined,
      });
      w.record({ cls: 'known-bad IPs', outcome: res.outcome, code: res.code, pow: powOf(res), at: sim.now });
    }
  };
}

/**
 * Members browsing the catalogue through a commercial VPN whose exits a proxy feed lists: a
 * doubt, not a verdict. Their browsers meet the challenge and go on (five pages each).
 */
export function throughVpn(w: World, at: number, people: readonly Person[], exits: readonly string[]) {
  return async (sim: Simulation) => {
    for (const [i, p] of people.entries()) {
      await sim.sleepUntil(at + i * 7 * MINUTE);
      const ip = exits[i % exits.length]!;
      for (let page = 0; page < 5; page++) {
        const r = {
          method: 'GET' as const,
          path: `/products/${i * 10 + page}`,
          ip,
          headers: { 'user-agent': p.agent },
        };
        let res = await w.send(r);
        w.record({ cls: p.cls, outcome: res.outcome, code: res.code, pow: powOf(res), at: sim.now });
        if (res.code === 'RG_ERR_PROOF_OF_WORK_REQUIRED' && res.json) {
          const pow = res.json['proofOfWork'] as { challenge: string; difficulty: number };
          res = await w.send({ ...r, headers: { ...r.headers, 'x-riskgate-pow': solveAsPerson(w, pow) } });
          if (res.outcome !== 'allowed') throw new Error(`a solved challenge was not accepted: ${res.code}`);
        }
        await sim.sleep(20_000);
      }
    }
  };
}
