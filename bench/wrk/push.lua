-- wrk script for bench/run: POSTs the fixed push payload to /webhook with a precomputed
-- X-Hub-Signature-256 and a unique delivery id per request (run id, thread, counter), under
-- both the AtomGit and the GitHub header names (X-AtomGit-Event / X-GitHub-Event: push,
-- X-AtomGit-Delivery / X-GitHub-Delivery) so atombot and Probot accept the same requests.
--
-- Environment (set by bench/run):
--   BENCH_PAYLOAD       path of the body (default bench/payloads/push.json)
--   BENCH_SIGNATURE     "sha256=<hex>" of the body under the bench secret (wrk's Lua has no HMAC)
--   BENCH_RUN_ID        prefix of the delivery ids, unique per run
--   BENCH_PATH          request path (default /webhook)
--   BENCH_DELAY_MS      optional: each connection waits this many ms before each request
--                       (paces the load below the target's maximum)
--   BENCH_MAX_REQUESTS  optional: each thread stops once it has had this many responses
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
  webhook_path = os.getenv("BENCH_PATH") or "/webhook"
  counter = 0
  responses = 0
  headers = {
    ["Content-Type"] = "application/json",
    ["X-AtomGit-Event"] = "push",
    ["X-GitHub-Event"] = "push",
    ["X-Hub-Signature-256"] = signature,
  }
end

function request()
  counter = counter + 1
  local id = prefix .. counter
  headers["X-AtomGit-Delivery"] = id
  headers["X-GitHub-Delivery"] = id
  return wrk.format("POST", webhook_path, headers, body)
end

local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if delay_ms and delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "")
if max_requests and max_requests > 0 then
  function response(status, headers, body)
    responses = responses + 1
    if responses >= max_requests then
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d non2xx=%d errors=%d duration_us=%d p50_us=%d p99_us=%d p999_us=%d\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, summary.duration,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
