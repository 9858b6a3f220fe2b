/**
 * The Redis store's Lua scripts: each runs atomically on the server, in one round trip. The
 * limits are the in-memory store's, so local and shared state bound the same things alike.
 */
import { MAX_ACCOUNTS_PER_IP, MAX_DEVICES_PER_SUBJECT } from './memory-store.ts';
import { BUCKETS } from './sliding-window.ts';

// KEYS: ip, asn, account, credential, global, accountsOfIp, seen, devices, profile ('' when not needed)
// ARGV: now, windowMs, deviceId
// Returns: [ip, asn, account, credential, global, distinctAccounts, lat, lon, acc, seenAsn, at,
//           deviceIsKnown, knownDeviceCount, profileJson]
export const READ_SCRIPT = `
local now = tonumber(ARGV[1])
local oldest = now - tonumber(ARGV[2])
local out = {}
for i = 1, 5 do
  local total = 0
  if KEYS[i] ~= '' then
    local fields = redis.call('HGETALL', KEYS[i])
    for j = 1, #fields, 2 do
      if tonumber(fields[j]) > oldest then total = total + tonumber(fields[j + 1]) end
    end
  end
  out[i] = total
end
out[6] = (KEYS[6] ~= '') and redis.call('SCARD', KEYS[6]) or 0
if KEYS[7] ~= '' then
  local seen = redis.call('HMGET', KEYS[7], 'lat', 'lon', 'acc', 'asn', 'at')
  for i = 1, 5 do out[6 + i] = seen[i] or '' end
else
  for i = 1, 5 do out[6 + i] = '' end
end
if KEYS[8] ~= '' then
  out[12] = redis.call('SISMEMBER', KEYS[8], ARGV[3])
  out[13] = redis.call('SCARD', KEYS[8])
else
  out[12] = 0
  out[13] = 0
end
out[14] = (KEYS[9] ~= '') and (redis.call('GET', KEYS[9]) or '') or ''
return out
`;

// KEYS: counter hashes (any number), then the accounts set ('' when none)
// ARGV: bucketStart, windowMs, oldest, account
export const FAILURE_SCRIPT = `
local n = #KEYS - 1
for i = 1, n do
  redis.call('HINCRBY', KEYS[i], ARGV[1], 1)
  redis.call('PEXPIRE', KEYS[i], ARGV[2])
  if redis.call('HLEN', KEYS[i]) > ${BUCKETS * 2} then
    local fields = redis.call('HKEYS', KEYS[i])
    for _, f in ipairs(fields) do
      if tonumber(f) <= tonumber(ARGV[3]) then redis.call('HDEL', KEYS[i], f) end
    end
  end
end
local accounts = KEYS[#KEYS]
if accounts ~= '' and ARGV[4] ~= '' then
  if redis.call('SCARD', accounts) < ${MAX_ACCOUNTS_PER_IP} then redis.call('SADD', accounts, ARGV[4]) end
  redis.call('PEXPIRE', accounts, ARGV[2])
end
return 1
`;

// KEYS: counter; ARGV: windowMs. A fixed window: the first hit sets the expiry.
export const RATE_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

// KEYS: a subject's devices set; ARGV: deviceId, ttlMs. A new device is added while under the cap.
export const ADD_DEVICE_SCRIPT = `
if redis.call('SCARD', KEYS[1]) < ${MAX_DEVICES_PER_SUBJECT} then redis.call('SADD', KEYS[1], ARGV[1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;
