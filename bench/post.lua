-- wrk script for the modelmux bench: POSTs one fixed JSON body.
--
-- Environment (set by bench/bench.py):
--   BENCH_BODY     path of the request body file (required)
--   BENCH_HEADERS  extra request headers, "name: value" pairs separated by "|"
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
