-- wrk script for bench/run: POSTs the fixed push payload to /webhook with a precomputed
-- X-Hub-Signature-256 and a unique X-AtomGit-Delivery per request (run id, thread, counter).
--
-- Environment (set by bench/run):
--   BENCH_PAYLOAD    path of the body (default bench/payloads/push.json)
--   BENCH_SIGNATURE  "sha256=<hex>" of the body under the bench secret (wrk's Lua has no HMAC)
--   BENCH_RUN_ID     prefix of the delivery ids, unique per run
-- At the end it prints one machine-readable line:
--   BENCH requests=N non2xx=N errors=N duration_us=N p50_us=N p99_us=N p999_us=N

local threads = {}
local next_id = 1

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("BENCH_PAYLOAD") or "bench/payloads/push.json"
  local f = assert(io.open(path, "rb"))
  body = f:read("*a")
  f:close()
  signature = assert(os.getenv("BENCH_SIGNATURE"), "BENCH_SIGNATURE not set")
  prefix = (os.getenv("BENCH_RUN_ID") or "bench") .. "-" .. thread_id .. "-"
  counter = 0
  headers = {
    ["Content-Type"] = "application/json",
    ["X-AtomGit-Event"] = "push",
    ["X-Hub-Signature-256"] = signature,
  }
end

function request()
  counter = counter + 1
  headers["X-AtomGit-Delivery"] = prefix .. counter
  return wrk.format("POST", "/webhook", headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d non2xx=%d errors=%d duration_us=%d p50_us=%d p99_us=%d p999_us=%d\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
