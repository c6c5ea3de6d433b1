-- ingest.lua - wrk script of bench/run.sh: POSTs events to /v1/events.
--
-- Environment (read in every wrk thread):
--   EYE_BENCH_KEY          write key (Authorization: Bearer)
--   EYE_BENCH_BODY         single   one pageview per request
--                          brief3   the brief's three example events, as an array
--                          batch100 100 valid events (the three types), 10 sessions
--                          mixed    4 events per request, 1 of them invalid
--   EYE_BENCH_RATE         offered events/s over all threads (unset or 0: as fast
--                          as the server answers); paced by delay() against a
--                          monotonic clock, one schedule per wrk thread
--   EYE_BENCH_WRK_THREADS  wrk's -t (to split the rate between threads)
--
-- Each thread builds a pool of 256 requests at start (session ids vary
-- between requests: "b<thread>-<n>-<k>") and cycles through it, so the
-- client spends its time sending, not formatting. Every answer is counted:
-- for 202 and 422 the "accepted" and "rejected" numbers of the body are
-- added up, which is what the server acknowledged as committed. done()
-- prints one line "BENCH_JSON {...}" with req/s, latency percentiles (µs),
-- status counts and the acknowledged events.

local POOL = 256
local body_kind = os.getenv("EYE_BENCH_BODY") or "single"
local key = os.getenv("EYE_BENCH_KEY") or ""
local rate = tonumber(os.getenv("EYE_BENCH_RATE") or "0") or 0
local wrk_threads = tonumber(os.getenv("EYE_BENCH_WRK_THREADS") or "1") or 1

local TS = "2021-01-01 09:15:27.243860"
local HOST = "www.consumeraffairs.com"

local function pageview(sid, path)
  return string.format('{"session_id":"%s","category":"page interaction","name":"pageview",'
    .. '"data":{"host":"%s","path":"%s"},"timestamp":"%s"}', sid, HOST, path, TS)
end

local function cta_click(sid)
  return string.format('{"session_id":"%s","category":"page interaction","name":"cta click",'
    .. '"data":{"host":"%s","path":"/","element":"chat bubble"},"timestamp":"%s"}', sid, HOST, TS)
end

local function form_submit(sid)
  return string.format('{"session_id":"%s","category":"form interaction","name":"submit",'
    .. '"data":{"host":"%s","path":"/","form":{"first_name":"John","last_name":"Doe"}},'
    .. '"timestamp":"%s"}', sid, HOST, TS)
end

-- Invalid events, one per kind of mistake, each rejected with its own code.
local function invalid(sid, n)
  local k = n % 4
  if k == 0 then -- unexpected_field
    return string.format('{"session_id":"%s","category":"page interaction","name":"pageview",'
      .. '"data":{"host":"%s","path":"/","bogus":1},"timestamp":"%s"}', sid, HOST, TS)
  elseif k == 1 then -- missing_field
    return string.format('{"session_id":"%s","category":"page interaction","name":"pageview",'
      .. '"data":{"host":"%s"},"timestamp":"%s"}', sid, HOST, TS)
  elseif k == 2 then -- wrong_type
    return string.format('{"session_id":"%s","category":"page interaction","name":"pageview",'
      .. '"data":{"host":"%s","path":42},"timestamp":"%s"}', sid, HOST, TS)
  end -- timestamp_in_future
  return string.format('{"session_id":"%s","category":"page interaction","name":"pageview",'
    .. '"data":{"host":"%s","path":"/"},"timestamp":"2999-01-01 00:00:00"}', sid, HOST)
end

-- The body of pool entry n and how many events it carries.
local function make_body(tid, n)
  local sid = string.format("b%d-%d", tid, n)
  if body_kind == "single" then
    return pageview(sid, "/p/" .. n), 1
  elseif body_kind == "brief3" then
    return "[" .. pageview(sid, "/") .. "," .. cta_click(sid) .. "," .. form_submit(sid) .. "]", 3
  elseif body_kind == "batch100" then
    local ev = {}
    for k = 0, 99 do
      local s = sid .. "-" .. (k % 10)
      local t = k % 3
      if t == 0 then ev[#ev + 1] = pageview(s, "/p/" .. k)
      elseif t == 1 then ev[#ev + 1] = cta_click(s)
      else ev[#ev + 1] = form_submit(s) end
    end
    return "[" .. table.concat(ev, ",") .. "]", 100
  elseif body_kind == "mixed" then
    return "[" .. pageview(sid, "/a") .. "," .. cta_click(sid) .. "," .. invalid(sid, n) .. ","
      .. form_submit(sid) .. "]", 4
  end
  error("EYE_BENCH_BODY: unknown kind " .. body_kind)
end

-- Main state: remember every thread to add up its counters in done().
local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

-- Thread state.
local pool = {}
local idx = 0
acked = 0
statuses = {}

function init(args)
  local headers = {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
  }
  for n = 1, POOL do
    local body = make_body(tid or 0, n)
    pool[n] = wrk.format("POST", "/v1/events", headers, body)
  end
  idx = (tid or 0) * 7 % POOL
end

function request()
  idx = idx % POOL + 1
  return pool[idx]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 202 or status == 422 then
    local a, r = string.match(body, '"accepted":(%d+),"rejected":(%d+)')
    if a then acked = acked + tonumber(a) + tonumber(r) end
  end
end

if rate > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    typedef struct { long tv_sec; long tv_nsec; } eye_bench_timespec;
    int clock_gettime(int clk, eye_bench_timespec *ts);
  ]]
  local ts = ffi.new("eye_bench_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local _, per_req = make_body(0, 1)
  local interval = 1000 / (rate / per_req / wrk_threads) -- ms between this thread's requests
  local next_due = nil

  -- Each request takes the next slot of this thread's schedule and waits
  -- for it; a server slower than the schedule is not made up for by a burst
  -- of more than one second's worth of requests.
  function delay()
    local now = now_ms()
    if next_due == nil or next_due < now - 1000 then next_due = now end
    next_due = next_due + interval
    local d = next_due - now
    if d < 0 then return 0 end
    return math.floor(d)
  end
end

function done(summary, latency, requests)
  local acked_total, st = 0, {}
  for _, t in ipairs(threads) do
    acked_total = acked_total + (t:get("acked") or 0)
    local s = t:get("statuses")
    if s then
      for code, n in pairs(s) do st[code] = (st[code] or 0) + n end
    end
  end
  local non2xx = 0
  local parts = {}
  for code, n in pairs(st) do
    if code < 200 or code > 299 then non2xx = non2xx + n end
    parts[#parts + 1] = string.format('"%d":%d', code, n)
  end
  local _, per_req = make_body(0, 1)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"body":"%s","events_per_request":%d,"requests":%d,'
    .. '"seconds":%.3f,"req_per_s":%.1f,"acked_events":%d,"events_per_s":%.1f,'
    .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"non2xx":%d,'
    .. '"socket_errors":%d,"timeouts":%d,"statuses":{%s}}\n',
    body_kind, per_req, summary.requests, secs, summary.requests / secs, acked_total,
    acked_total / secs, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, non2xx, e.connect + e.read + e.write, e.timeout, table.concat(parts, ",")))
end
