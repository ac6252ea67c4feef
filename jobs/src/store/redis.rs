//! Redis backend: every state change is one Lua script, so it is atomic, called by its SHA
//! (`EVALSHA`; loaded at connect, and again when the server has forgotten it); a batch of
//! pushes and outcomes is one pipeline, one round trip. Start Redis with `appendonly yes` for
//! durability.
//!
//! Keys (prefix `atombot:{queue}:`): `job:<id>` hash, `ready` zset (score: run at, ms),
//! `running` hash (id → worker), `failed` zset, `done_count` counter (jobs finished; older
//! versions kept a `done` zset, still counted and pruned), `workers` zset (last seen),
//! `dedupe:<key>` string (job id, expires with the dedupe TTL), `unknown` set (ids of ready
//! jobs last handed back as of an unknown kind). A job's body is kept lz4-packed in its
//! hash's `lz4body` field ([`packed`](crate::packed)); jobs stored by older versions keep it
//! as is in `body`, and are read as they are.

use std::sync::LazyLock;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, FromRedisValue, RedisResult, Script, ServerErrorKind, Value};

use crate::config::QueueConfig;
use crate::error::Error;
use crate::job::{FailedJob, JobId, Payload, Pushed, Stats, dur_ms, ms_to_time, now_ms};
use crate::packed;
use crate::store::{Ack, Leased, NewJob, decode_job, to_u32};

const PUSH: &str = r#"
local p = ARGV[1]
local id = ARGV[2]
if ARGV[10] == '1' then
  local dk = p .. 'dedupe:' .. ARGV[5]
  local existing = redis.call('GET', dk)
  if existing then return {0, existing} end
  redis.call('SET', dk, id, 'PX', ARGV[11])
end
local fields = {'kind', ARGV[3], 'payload', ARGV[4], 'key', ARGV[5], 'has_key', ARGV[12],
  'meta', ARGV[6], 'enqueued_at', ARGV[7], 'max_attempts', ARGV[8]}
if ARGV[13] == '1' then
  table.insert(fields, 'lz4body')
  table.insert(fields, ARGV[14])
end
if ARGV[15] ~= '' then
  -- Claimed at once by a worker of the pushing process (NewJob::lease_to).
  for _, f in ipairs({'attempts', 1, 'status', 'running', 'lock_by', ARGV[15]}) do
    table.insert(fields, f)
  end
  redis.call('HSET', p .. 'job:' .. id, unpack(fields))
  redis.call('HSET', p .. 'running', id, ARGV[15])
else
  for _, f in ipairs({'attempts', 0, 'status', 'pending'}) do table.insert(fields, f) end
  redis.call('HSET', p .. 'job:' .. id, unpack(fields))
  redis.call('ZADD', p .. 'ready', ARGV[9], id)
end
return {1, id}
"#;

const FETCH: &str = r#"
local p, worker, now, limit = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', p .. 'ready', '-inf', now, 'LIMIT', 0, limit)
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', p .. 'ready', id)
  local jk = p .. 'job:' .. id
  if redis.call('EXISTS', jk) == 1 then
    local a = redis.call('HINCRBY', jk, 'attempts', 1)
    redis.call('HSET', jk, 'status', 'running', 'lock_by', worker)
    redis.call('HSET', p .. 'running', id, worker)
    local f = redis.call('HMGET', jk, 'kind', 'payload', 'key', 'has_key', 'meta',
      'enqueued_at', 'max_attempts', 'body', 'lz4body')
    table.insert(out, {id, f[1] or '', f[2] or 'null', f[3] or '', f[4] or '0', f[5] or '{}',
      f[6] or '0', tostring(a), f[7] or '1', f[8], f[9]})
  end
end
return out
"#;

/// ARGV: prefix, id, worker, action, now, run_at, error, unknown ('1' or '0').
const ACK: &str = r#"
local p, id, worker, action, now, run_at, err = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if redis.call('HGET', p .. 'running', id) ~= worker then return 0 end
redis.call('HDEL', p .. 'running', id)
if ARGV[8] == '1' then
  redis.call('SADD', p .. 'unknown', id)
else
  redis.call('SREM', p .. 'unknown', id)
end
local jk = p .. 'job:' .. id
if action == 'done' then
  redis.call('DEL', jk)
  redis.call('INCR', p .. 'done_count')
elseif action == 'retry' or action == 'release' then
  if action == 'release' then
    if tonumber(redis.call('HGET', jk, 'attempts') or '0') > 0 then
      redis.call('HINCRBY', jk, 'attempts', -1)
    end
  end
  if err ~= '' then redis.call('HSET', jk, 'last_error', err) end
  redis.call('HSET', jk, 'status', 'pending')
  redis.call('HDEL', jk, 'lock_by')
  redis.call('ZADD', p .. 'ready', run_at, id)
else
  redis.call('HSET', jk, 'status', 'failed', 'last_error', err, 'failed_at', now)
  redis.call('HDEL', jk, 'lock_by')
  redis.call('ZADD', p .. 'failed', now, id)
  if redis.call('HGET', jk, 'has_key') == '1' then
    local dk = p .. 'dedupe:' .. redis.call('HGET', jk, 'key')
    if redis.call('GET', dk) == id then redis.call('DEL', dk) end
  end
end
return 1
"#;

/// ARGV: prefix, worker, now (this replica's, for run times), orphan timeout (ms),
/// keep_done_cutoff, keep_failed_cutoff. Liveness uses the server's clock (`TIME`).
const HEARTBEAT: &str = r#"
if redis.replicate_commands then pcall(redis.replicate_commands) end
local p, worker, now = ARGV[1], ARGV[2], ARGV[3]
local t = redis.call('TIME')
local server_now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cutoff = server_now - tonumber(ARGV[4])
redis.call('ZADD', p .. 'workers', server_now, worker)
local running = redis.call('HGETALL', p .. 'running')
local n = 0
for i = 1, #running, 2 do
  local id, w = running[i], running[i + 1]
  local seen = redis.call('ZSCORE', p .. 'workers', w)
  if (not seen) or tonumber(seen) <= cutoff then
    redis.call('HDEL', p .. 'running', id)
    local jk = p .. 'job:' .. id
    local a = tonumber(redis.call('HGET', jk, 'attempts') or '0')
    local m = tonumber(redis.call('HGET', jk, 'max_attempts') or '1')
    local msg = 'worker ' .. w .. ' died while running the job'
    redis.call('HDEL', jk, 'lock_by')
    if a >= m then
      redis.call('HSET', jk, 'status', 'failed', 'last_error', msg, 'failed_at', now)
      redis.call('ZADD', p .. 'failed', now, id)
    else
      redis.call('HSET', jk, 'status', 'pending', 'last_error', msg)
      redis.call('ZADD', p .. 'ready', now, id)
    end
    n = n + 1
  end
end
redis.call('ZREMRANGEBYSCORE', p .. 'workers', '-inf', cutoff - 3600000)
redis.call('ZREMRANGEBYSCORE', p .. 'done', '-inf', ARGV[5])
local old_failed = redis.call('ZRANGEBYSCORE', p .. 'failed', '-inf', ARGV[6], 'LIMIT', 0, 1000)
for _, id in ipairs(old_failed) do
  redis.call('DEL', p .. 'job:' .. id)
  redis.call('ZREM', p .. 'failed', id)
end
return n
"#;

const FAILED: &str = r#"
local p = ARGV[1]
local ids = redis.call('ZREVRANGE', p .. 'failed', 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local out = {}
for i = 1, #ids, 2 do
  local f = redis.call('HMGET', p .. 'job:' .. ids[i], 'kind', 'key', 'has_key', 'attempts',
    'last_error', 'payload', 'enqueued_at')
  table.insert(out, {ids[i], f[1] or '', f[2] or '', f[3] or '0', f[4] or '0', f[5] or '',
    f[6] or 'null', f[7] or '0', ids[i + 1]})
end
return out
"#;

/// ARGV: prefix, id, now, dedupe TTL (ms).
const RETRY: &str = r#"
local p, id, now = ARGV[1], ARGV[2], ARGV[3]
if redis.call('ZREM', p .. 'failed', id) == 0 then return 0 end
local jk = p .. 'job:' .. id
redis.call('HSET', jk, 'status', 'pending', 'attempts', 0)
redis.call('ZADD', p .. 'ready', now, id)
if redis.call('HGET', jk, 'has_key') == '1' then
  redis.call('SET', p .. 'dedupe:' .. redis.call('HGET', jk, 'key'), id, 'PX', ARGV[4])
end
return 1
"#;

/// Every script, by its SHA; [`Store::load_scripts`] loads them all.
static PUSH_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(PUSH));
static FETCH_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(FETCH));
static ACK_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(ACK));
static HEARTBEAT_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(HEARTBEAT));
static FAILED_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(FAILED));
static RETRY_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(RETRY));

fn scripts() -> [&'static Script; 6] {
    [
        &PUSH_SCRIPT,
        &FETCH_SCRIPT,
        &ACK_SCRIPT,
        &HEARTBEAT_SCRIPT,
        &FAILED_SCRIPT,
        &RETRY_SCRIPT,
    ]
}

/// Whether Redis answered that it does not know the script (restarted, or `SCRIPT FLUSH`):
/// the command did nothing and can be sent again once the scripts are loaded.
fn no_script<T>(result: &RedisResult<T>) -> bool {
    result
        .as_ref()
        .is_err_and(|e| e.kind() == redis::ErrorKind::Server(ServerErrorKind::NoScript))
}

/// One pipelined command's answer as `T`.
fn decode<T: FromRedisValue>(answer: RedisResult<Value>) -> Result<T, Error> {
    Ok(redis::from_redis_value(answer?).map_err(redis::RedisError::from)?)
}

/// What the queue's durability needs from the Redis server, checked with `CONFIG GET` at
/// start-up: a warning for each setting that loses acknowledged jobs.
const DURABILITY: [(&str, &str, &str); 3] = [
    (
        "appendonly",
        "yes",
        "acknowledged deliveries and jobs are lost when Redis restarts",
    ),
    (
        "appendfsync",
        "always",
        "up to a second of acknowledged deliveries and jobs can be lost on a power failure",
    ),
    (
        "maxmemory-policy",
        "noeviction",
        "Redis may evict queued deliveries and jobs when it runs out of memory",
    ),
];

/// Warns, once per connect, about server settings that break the queue's durability.
async fn check_durability(conn: &mut ConnectionManager) {
    for (name, wanted, risk) in DURABILITY {
        let answer: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
            .arg("GET")
            .arg(name)
            .query_async(conn)
            .await;
        match answer {
            Ok(pair) => {
                let value = pair.get(1).map(String::as_str).unwrap_or("");
                if value != wanted {
                    tracing::warn!(
                        setting = name,
                        value,
                        wanted,
                        "Redis `{name} {value}`: {risk}; set `{name} {wanted}` for a durable queue"
                    );
                }
            }
            Err(error) => tracing::warn!(
                setting = name,
                %error,
                "cannot read Redis `{name}` (CONFIG disabled?); make sure it is `{wanted}`, or {risk}"
            ),
        }
    }
}

/// A queue stored in Redis.
#[derive(Clone)]
pub(crate) struct Store {
    conn: ConnectionManager,
    /// A connection of its own for heartbeats and lease checks.
    beats: ConnectionManager,
    prefix: String,
    /// This replica's clock offset (tests only); liveness uses the server's clock.
    skew_ms: i64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub(crate) async fn connect(config: &QueueConfig) -> Result<Store, Error> {
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| Error::InvalidUrl(format!("redis url: {e}")))?;
        let cm_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.backend_timeout))
            .set_response_timeout(Some(config.backend_timeout))
            .set_number_of_retries(1)
            .set_max_delay(std::time::Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client.clone(), cm_config.clone()).await?;
        let beats = ConnectionManager::new_with_config(client, cm_config).await?;
        check_durability(&mut conn.clone()).await;
        let store = Store {
            conn,
            beats,
            prefix: format!("atombot:{{{}}}:", config.queue),
            skew_ms: config.clock_skew_ms,
        };
        store.load_scripts().await?;
        Ok(store)
    }

    /// Loads every script into Redis (`SCRIPT LOAD`), so `EVALSHA` finds it.
    async fn load_scripts(&self) -> Result<(), Error> {
        for script in scripts() {
            script.load_async(&mut self.conn.clone()).await?;
        }
        Ok(())
    }

    /// This replica's idea of now, in milliseconds.
    fn now(&self) -> i64 {
        now_ms().saturating_add(self.skew_ms)
    }

    /// Of `ids`, those still running under `worker`'s lease.
    pub(crate) async fn still_leased(
        &self,
        worker: &str,
        ids: &[JobId],
    ) -> Result<Vec<JobId>, Error> {
        let mut cmd = redis::cmd("HMGET");
        cmd.arg(format!("{}running", self.prefix));
        for id in ids {
            cmd.arg(&id.0);
        }
        let owners: Vec<Option<String>> = cmd.query_async(&mut self.beats.clone()).await?;
        Ok(ids
            .iter()
            .zip(owners)
            .filter(|(_, owner)| owner.as_deref() == Some(worker))
            .map(|(id, _)| id.clone())
            .collect())
    }

    /// A call of `script` by its SHA, with this queue's prefix as first argument.
    fn script(&self, script: &Script) -> Cmd {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(script.get_hash()).arg(0).arg(&self.prefix);
        cmd
    }

    /// Runs one script call on `conn`, loading the scripts first if Redis forgot them.
    async fn call<T: FromRedisValue>(
        &self,
        conn: &ConnectionManager,
        cmd: &Cmd,
    ) -> Result<T, Error> {
        let answer = cmd.query_async(&mut conn.clone()).await;
        if !no_script(&answer) {
            return Ok(answer?);
        }
        self.load_scripts().await?;
        Ok(cmd.query_async(&mut conn.clone()).await?)
    }

    /// Sends `cmds` in one pipeline (one round trip, not a transaction: each script is atomic
    /// by itself) and returns each command's own answer; those Redis answered with
    /// `NOSCRIPT` are sent again once the scripts are loaded.
    async fn pipeline(
        &self,
        cmds: impl IntoIterator<Item = Cmd>,
    ) -> Result<Vec<RedisResult<Value>>, Error> {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for cmd in cmds {
            pipe.add_command(cmd);
        }
        let mut answers: Vec<RedisResult<Value>> = pipe.query_async(&mut self.conn.clone()).await?;
        let forgotten: Vec<usize> = (0..answers.len())
            .filter(|&i| no_script(&answers[i]))
            .collect();
        if !forgotten.is_empty() {
            self.load_scripts().await?;
            let mut again = redis::pipe();
            again.ignore_errors();
            for (i, cmd) in pipe.cmd_iter().enumerate() {
                if forgotten.contains(&i) {
                    again.add_command(cmd.clone());
                }
            }
            let retried: Vec<RedisResult<Value>> =
                again.query_async(&mut self.conn.clone()).await?;
            for (i, answer) in forgotten.into_iter().zip(retried) {
                answers[i] = answer;
            }
        }
        Ok(answers)
    }

    /// The script call that stores `job`.
    fn push_cmd(&self, job: &NewJob) -> Cmd {
        let mut cmd = self.script(&PUSH_SCRIPT);
        cmd.arg(&job.id.0)
            .arg(&job.kind)
            .arg(job.payload.json())
            .arg(job.key.as_deref().unwrap_or(""))
            .arg(&job.meta)
            .arg(job.enqueued_at)
            .arg(job.max_attempts)
            .arg(job.run_at)
            .arg(if job.unique && job.key.is_some() {
                "1"
            } else {
                "0"
            })
            .arg((job.dedupe_expires_at - self.now()).max(1))
            .arg(if job.key.is_some() { "1" } else { "0" })
            .arg(if job.body.is_some() { "1" } else { "0" })
            .arg(job.body.as_deref().map(packed::pack).unwrap_or_default())
            .arg(job.lease_to.as_deref().unwrap_or(""));
        cmd
    }

    /// The script call that records `worker`'s outcome for job `id`.
    fn ack_cmd(&self, id: &JobId, worker: &str, ack: &Ack) -> Cmd {
        let (action, run_at, error, unknown) = match ack {
            Ack::Done => ("done", 0, "", false),
            Ack::Retry { run_at, error } => ("retry", *run_at, error.as_str(), false),
            Ack::Release {
                run_at,
                error,
                unknown,
            } => ("release", *run_at, error.as_deref().unwrap_or(""), *unknown),
            Ack::Fail { error } => ("fail", 0, error.as_str(), false),
        };
        let mut cmd = self.script(&ACK_SCRIPT);
        cmd.arg(&id.0)
            .arg(worker)
            .arg(action)
            .arg(self.now())
            .arg(run_at)
            .arg(error)
            .arg(if unknown { "1" } else { "0" });
        cmd
    }

    /// Stores `jobs` in one pipeline; each job gets its own result.
    pub(crate) async fn push_batch(
        &self,
        jobs: &[NewJob],
    ) -> Result<Vec<Result<Pushed, Error>>, Error> {
        Ok(self.write_batch(jobs, &[]).await?.0)
    }

    /// Stores `jobs` and workers' outcomes `acks` in one pipeline, one round trip; each gets
    /// its own result (whether the worker still held the job, for an outcome).
    pub(crate) async fn write_batch(
        &self,
        jobs: &[NewJob],
        acks: &[(JobId, std::sync::Arc<str>, Ack)],
    ) -> Result<(Vec<Result<Pushed, Error>>, Vec<Result<bool, Error>>), Error> {
        let cmds = jobs.iter().map(|job| self.push_cmd(job)).chain(
            acks.iter()
                .map(|(id, worker, ack)| self.ack_cmd(id, worker, ack)),
        );
        let mut answers = self.pipeline(cmds).await?.into_iter();
        let pushed = answers
            .by_ref()
            .take(jobs.len())
            .map(|answer| match decode::<(i64, String)>(answer)? {
                (1, id) => Ok(Pushed::Enqueued(JobId(id))),
                (_, id) => Ok(Pushed::Duplicate(JobId(id))),
            })
            .collect();
        let acked = answers
            .map(|answer| Ok(decode::<i64>(answer)? == 1))
            .collect();
        Ok((pushed, acked))
    }

    pub(crate) async fn fetch(&self, worker: &str, limit: usize) -> Result<Vec<Leased>, Error> {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            String,
            i64,
            i64,
            i64,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
        );
        let mut cmd = self.script(&FETCH_SCRIPT);
        cmd.arg(worker).arg(self.now()).arg(limit);
        let rows: Vec<Row> = self.call(&self.conn, &cmd).await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, kind, payload, key, has_key, meta, enqueued_at, attempts, max, raw, lz4)| {
                    let body = match lz4 {
                        Some(stored) => {
                            let body = packed::unpack(&stored);
                            if body.is_none() {
                                tracing::warn!(job = %id, "the job's stored body is corrupt; it runs without one");
                            }
                            body
                        }
                        None => raw.map(Into::into),
                    };
                    Leased {
                        job: decode_job(
                            kind,
                            Payload::stored(payload),
                            body,
                            (has_key == "1").then_some(key),
                            &meta,
                            enqueued_at,
                        ),
                        id: JobId(id),
                        attempts: to_u32(attempts),
                        max_attempts: to_u32(max),
                    }
                },
            )
            .collect())
    }

    pub(crate) async fn ack(&self, id: &JobId, worker: &str, ack: &Ack) -> Result<bool, Error> {
        let n: i64 = self
            .call(&self.conn, &self.ack_cmd(id, worker, ack))
            .await?;
        Ok(n == 1)
    }

    pub(crate) async fn heartbeat(&self, worker: &str, config: &QueueConfig) -> Result<u64, Error> {
        let now = self.now();
        let mut cmd = self.script(&HEARTBEAT_SCRIPT);
        cmd.arg(worker)
            .arg(now)
            .arg(dur_ms(config.orphan_timeout))
            .arg(now - dur_ms(config.keep_done))
            .arg(now - dur_ms(config.keep_failed));
        let n: i64 = self.call(&self.beats, &cmd).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub(crate) async fn deregister(&self, worker: &str) -> Result<(), Error> {
        let _: Value = redis::cmd("ZREM")
            .arg(format!("{}workers", self.prefix))
            .arg(worker)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    pub(crate) async fn failed(&self, limit: usize) -> Result<Vec<FailedJob>, Error> {
        type Row = (
            String,
            String,
            String,
            String,
            i64,
            String,
            String,
            i64,
            i64,
        );
        let mut cmd = self.script(&FAILED_SCRIPT);
        cmd.arg(limit.max(1));
        let rows: Vec<Row> = self.call(&self.conn, &cmd).await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, kind, key, has_key, attempts, err, payload, enq, failed)| FailedJob {
                    id: JobId(id),
                    kind,
                    key: (has_key == "1").then_some(key),
                    attempts: to_u32(attempts),
                    last_error: (!err.is_empty()).then_some(err),
                    payload: serde_json::from_str(&payload).unwrap_or_default(),
                    enqueued_at: ms_to_time(enq),
                    failed_at: Some(ms_to_time(failed)),
                },
            )
            .collect())
    }

    pub(crate) async fn retry(&self, id: &JobId, config: &QueueConfig) -> Result<bool, Error> {
        let mut cmd = self.script(&RETRY_SCRIPT);
        cmd.arg(&id.0)
            .arg(self.now())
            .arg(dur_ms(config.dedupe_ttl).max(1));
        let n: i64 = self.call(&self.conn, &cmd).await?;
        Ok(n == 1)
    }

    pub(crate) async fn stats(&self) -> Result<Stats, Error> {
        let p = &self.prefix;
        type Counts = (u64, u64, u64, Option<u64>, u64, u64);
        let (pending, unknown, running, done, old_done, failed): Counts = redis::pipe()
            .cmd("ZCARD")
            .arg(format!("{p}ready"))
            .cmd("SCARD")
            .arg(format!("{p}unknown"))
            .cmd("HLEN")
            .arg(format!("{p}running"))
            .cmd("GET")
            .arg(format!("{p}done_count"))
            .cmd("ZCARD")
            .arg(format!("{p}done"))
            .cmd("ZCARD")
            .arg(format!("{p}failed"))
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(Stats {
            pending,
            unknown,
            running,
            done: done.unwrap_or(0) + old_done,
            failed,
        })
    }

    pub(crate) async fn ping(&self) -> Result<(), Error> {
        let _: String = redis::cmd("PING")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }
}
