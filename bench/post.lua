-- wrk script for the modelmux bench: POSTs one fixed JSON body.
--
-- Environment (set by bench/bench.py):
--   BENCH_BODY     path of the request body file (required)
--   BENCH_HEADERS  extra request headers, "name: value" pairs separated by "|"
--   BENCH_DELAY_MS think time in ms (float, default 0) each connection waits
--                  after a response before sending its next request; turns the
--                  closed loop into a roughly fixed rate of
--                  connections * 1000 / (delay + latency) req/s
--
-- done() prints a single machine-readable line, "BENCH_RESULT {json}", which
-- bench.py parses; latencies are in microseconds.

local body_path = os.getenv("BENCH_BODY")
if body_path == nil or body_path == "" then
  error("BENCH_BODY is not set")
end
local fh = assert(io.open(body_path, "rb"))
local body = fh:read("*a")
fh:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
for pair in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^|]+") do
  local name, value = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
  if name ~= nil then
    wrk.headers[name] = value
  end
end

local delay_raw = os.getenv("BENCH_DELAY_MS") or ""
local delay_ms = 0
if delay_raw ~= "" then
  delay_ms = tonumber(delay_raw)
  if delay_ms == nil or delay_ms < 0 then
    error("BENCH_DELAY_MS must be a number >= 0, got " .. delay_raw)
  end
end

-- wrk truncates delay()'s result to whole milliseconds, so a fractional delay
-- is dithered: floor(d) or floor(d) + 1 at random, averaging d. delay() is
-- only defined when it is wanted: wrk schedules a timer for every request
-- whenever the script has one, even one returning 0.
if delay_ms > 0 then
  local whole = math.floor(delay_ms)
  local frac = delay_ms - whole
  function delay()
    if frac > 0 and math.random() < frac then
      return whole + 1
    end
    return whole
  end
end

local function int(x)
  return math.floor(x + 0.5)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
    .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d,'
    .. '"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    int(latency:percentile(50)), int(latency:percentile(90)),
    int(latency:percentile(99)), latency.mean, int(latency.max),
    e.connect, e.read, e.write, e.status, e.timeout))
end
