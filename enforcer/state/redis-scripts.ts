/**
 * The Redis store's Lua scripts, each run atomically on the server in one round trip, and the
 * one place where slots (slots.ts) become KEYS and ARGV. A script's keys all carry the policy's
 * hash tag, so they share a Redis Cluster slot.
 *
 * Each slot is one KEY and a run of ARGV that starts with its kind: the scripts walk ARGV slot
 * by slot, so neither side agrees with the other on fixed positions.
 */
import { BUCKETS } from './sliding-window.ts';
import { type SlotRead, type SlotWrite, slotKey } from './slots.ts';

// ARGV: now, then per key: 'c' windowMs | 's' | 'm' member | 'r' | 'v'
// Reply per key: count | size | {isMember, size} | flat field list | text ('' when absent)
export const READ_SCRIPT = `
local now = tonumber(ARGV[1])
local a = 2
local out = {}
for i = 1, #KEYS do
  local kind = ARGV[a]
  if kind == 'c' then
    local oldest = now - tonumber(ARGV[a + 1])
    local total = 0
    local fields = redis.call('HGETALL', KEYS[i])
    for j = 1, #fields, 2 do
      if tonumber(fields[j]) > oldest then total = total + tonumber(fields[j + 1]) end
    end
    out[i] = total
    a = a + 2
  elseif kind == 's' then
    out[i] = redis.call('SCARD', KEYS[i])
    a = a + 1
  elseif kind == 'm' then
    out[i] = { redis.call('SISMEMBER', KEYS[i], ARGV[a + 1]), redis.call('SCARD', KEYS[i]) }
    a = a + 2
  elseif kind == 'r' then
    out[i] = redis.call('HGETALL', KEYS[i])
    a = a + 1
  else
    out[i] = redis.call('GET', KEYS[i]) or ''
    a = a + 1
  end
end
return out
`;

// ARGV per key: 'c' bucketStart windowMs oldest | 'a' member max ttlMs | 'r' ttlMs n f1 v1 … | 'v' ttlMs text
export const WRITE_SCRIPT = `
local a = 1
for i = 1, #KEYS do
  local op = ARGV[a]
  if op == 'c' then
    redis.call('HINCRBY', KEYS[i], ARGV[a + 1], 1)
    redis.call('PEXPIRE', KEYS[i], ARGV[a + 2])
    if redis.call('HLEN', KEYS[i]) > ${BUCKETS * 2} then
      for _, f in ipairs(redis.call('HKEYS', KEYS[i])) do
        if tonumber(f) <= tonumber(ARGV[a + 3]) then redis.call('HDEL', KEYS[i], f) end
      end
    end
    a = a + 4
  elseif op == 'a' then
    if redis.call('SCARD', KEYS[i]) < tonumber(ARGV[a + 2]) then redis.call('SADD', KEYS[i], ARGV[a + 1]) end
    redis.call('PEXPIRE', KEYS[i], ARGV[a + 3])
    a = a + 4
  elseif op == 'r' then
    local n = tonumber(ARGV[a + 2])
    if n > 0 then redis.call('HSET', KEYS[i], unpack(ARGV, a + 3, a + 2 + 2 * n)) end
    redis.call('PEXPIRE', KEYS[i], ARGV[a + 1])
    a = a + 3 + 2 * n
  else
    redis.call('SET', KEYS[i], ARGV[a + 2], 'PX', ARGV[a + 1])
    a = a + 3
  end
end
return #KEYS
`;

// KEYS: counter; ARGV: windowMs. A fixed window: the first hit sets the expiry.
export const RATE_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

type Arg = string | number;

/** KEYS and ARGV of READ_SCRIPT for these reads; `key` turns a slot key into a Redis key. */
export function encodeReads(reads: readonly SlotRead[], now: number, key: (k: string) => string): Arg[] {
  const keys: Arg[] = [];
  const args: Arg[] = [now];
  for (const r of reads) {
    keys.push(key(slotKey(r.space, r.id)));
    if (r.kind === 'count') args.push('c', r.windowMs);
    else if (r.kind === 'size') args.push('s');
    else if (r.kind === 'member') args.push('m', r.member);
    else if (r.kind === 'record') args.push('r');
    else args.push('v');
  }
  return [keys.length, ...keys, ...args];
}

/** READ_SCRIPT's reply for one slot, as the local store would answer it. */
export function decodeRead(read: SlotRead, reply: unknown): unknown {
  switch (read.kind) {
    case 'count':
    case 'size':
      return Number(reply ?? 0);
    case 'member': {
      const [isMember, size] = reply as [number, number];
      return { isMember: Number(isMember) === 1, size: Number(size) };
    }
    case 'record': {
      const flat = reply as string[];
      if (flat.length === 0) return undefined;
      const fields: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
      return fields;
    }
    case 'value':
      return reply === '' || typeof reply !== 'string' ? undefined : read.codec.decode(reply);
  }
}

/** KEYS and ARGV of WRITE_SCRIPT. */
export function encodeWrites(writes: readonly SlotWrite[], now: number, key: (k: string) => string): Arg[] {
  const keys: Arg[] = [];
  const args: Arg[] = [];
  for (const w of writes) {
    keys.push(key(slotKey(w.space, w.id)));
    switch (w.kind) {
      case 'count': {
        const bucketMs = Math.max(1, Math.ceil(w.windowMs / BUCKETS));
        args.push('c', now - (now % bucketMs), w.windowMs, now - w.windowMs);
        break;
      }
      case 'add':
        args.push('a', w.member, w.max, w.ttlMs);
        break;
      case 'record': {
        const entries = Object.entries(w.fields);
        args.push('r', w.ttlMs, entries.length);
        for (const [f, v] of entries) args.push(f, v);
        break;
      }
      case 'value':
        args.push('v', w.ttlMs, w.codec.encode(w.value));
        break;
    }
  }
  return [keys.length, ...keys, ...args];
}
