-- Closed-loop load for wrk: client addresses from a pool (Zipf-like), 30% with a bearer token,
-- and, for the attack runs, a share of requests from denied addresses carrying SQL-injection,
-- XSS, traversal or command-injection strings in the query (what a WAF looks for). No pipelining.
local pool = {}
local tokens = {}
local bad = {}
local attack = tonumber(os.getenv("RG_ATTACK_SHARE") or "0")
local counter = 0
local payloads = {
  "%27%20OR%20%271%27%3D%271",
  "1%20UNION%20SELECT%20username%2Cpassword%20FROM%20users--",
  "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
  "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
  "..%2F..%2F..%2Fetc%2Fpasswd",
  "%3B%20cat%20%2Fetc%2Fpasswd",
  "1%3B%20DROP%20TABLE%20users",
  "javascript%3Aalert(document.cookie)",
}

local function load(path, into)
  for line in io.lines(path) do
    if #line > 0 then into[#into + 1] = line end
  end
end

load(os.getenv("RG_IPS"), pool)
load(os.getenv("RG_TOKENS"), tokens)
load(os.getenv("RG_BAD"), bad)

local function pick(list, i)
  local r = (i * 0.618033988749895) % 1
  return list[math.floor(#list * r * r * r) + 1]
end

request = function()
  counter = counter + 1
  local headers = { ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0" }
  if attack > 0 and (counter % math.floor(1 / attack + 0.5)) == 0 then
    headers["X-Forwarded-For"] = pick(bad, counter)
    local q = payloads[(counter % #payloads) + 1]
    return wrk.format("GET", "/products/" .. (counter % 5000) .. "?q=" .. q, headers)
  end
  if counter % 10 < 3 then
    -- A subject lives somewhere: each token comes from its own home address.
    local t = math.floor(#tokens * ((counter * 0.618033988749895) % 1)) + 1
    headers["X-Forwarded-For"] = pool[t]
    headers["Authorization"] = "Bearer " .. tokens[t]
    return wrk.format("GET", "/orders/" .. (counter % 900), headers)
  end
  headers["X-Forwarded-For"] = pick(pool, counter)
  return wrk.format("GET", "/products/" .. (counter % 5000), headers)
end
