-- wrk script for bench/bench_load_verifier.py (sijil).
--
--   wrk -s bench/load/scenario.lua URL -- GET
--   wrk -s bench/load/scenario.lua URL -- POST BODY.json
--
-- POST sends the file BODY.json (read once per wrk thread) as application/json to URL on every
-- request; GET fetches URL. done() prints one machine-readable line, "SIJIL_RESULT {json}", with
-- the request count, the error counts wrk keeps (connect/read/write/timeout socket errors and
-- "status": responses that are not 2xx or 3xx) and latency percentiles in microseconds.

function init(args)
  local method = args[1] or "GET"
  wrk.method = method
  if method == "POST" then
    local path = args[2]
    if path == nil then
      error("POST needs the body file as the second argument")
    end
    local file = assert(io.open(path, "rb"))
    wrk.body = file:read("*a")
    file:close()
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Accept"] = "application/json"
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'SIJIL_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, ' ..
    '"read": %d, "write": %d, "status": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
