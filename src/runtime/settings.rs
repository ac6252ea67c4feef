//! Runtime settings: where to listen, limits, concurrency, shutdown, logging.

use std::net::SocketAddr;
use std::time::Duration;

use crate::error::{Error, Result};

/// Environment variable names of the runtime settings.
pub mod env {
    /// Listen address (default `127.0.0.1:3000`).
    pub const LISTEN: &str = "ATOMBOT_LISTEN";
    /// Webhook route (default `/webhook`).
    pub const WEBHOOK_PATH: &str = "ATOMBOT_WEBHOOK_PATH";
    /// Largest accepted delivery body in bytes (default 25 MiB).
    pub const MAX_BODY_BYTES: &str = "ATOMBOT_MAX_BODY_BYTES";
    /// Job queue: `sqlite://atombot.db` (default), `redis://…`, `postgres://…` or `memory`
    /// (tests only: not durable).
    pub const QUEUE: &str = "ATOMBOT_QUEUE";
    /// Queue name within the backend (default `atombot`); bots sharing one Redis or
    /// Postgres use different names.
    pub const QUEUE_NAME: &str = "ATOMBOT_QUEUE_NAME";
    /// Runs a failing handler or job gets before it is kept as failed (default 5).
    pub const MAX_ATTEMPTS: &str = "ATOMBOT_MAX_ATTEMPTS";
    /// Seconds after which work held by a dead worker is run again (default 30).
    pub const ORPHAN_TIMEOUT: &str = "ATOMBOT_ORPHAN_TIMEOUT";
    /// Seconds a handler unit or job whose name this process does not know keeps going back
    /// to the queue for a process that does, counted from when it was queued (default 3600);
    /// then it fails with "no worker knows …" (`atombot jobs failed`).
    pub const UNKNOWN_TIMEOUT: &str = "ATOMBOT_UNKNOWN_TIMEOUT";
    /// Seconds after it was queued past which a unit postponed by a rate limit fails instead
    /// of waiting for the reset (default 3600).
    pub const MAX_POSTPONE: &str = "ATOMBOT_MAX_POSTPONE";
    /// Seconds one run of a handler or job may take before it is cancelled and retried
    /// (default 600).
    pub const JOB_TIMEOUT: &str = "ATOMBOT_JOB_TIMEOUT";
    /// Seconds failed units and jobs are kept for inspection and retry (default 30 days).
    pub const KEEP_FAILED: &str = "ATOMBOT_KEEP_FAILED";
    /// Seconds a delivery id is remembered to drop redeliveries (default 7 days).
    pub const DEDUPE_TTL: &str = "ATOMBOT_DEDUPE_TTL";
    /// Deliveries and jobs run at once by this process (default 32).
    pub const CONCURRENCY: &str = "ATOMBOT_CONCURRENCY";
    /// Seconds running handlers get to finish on shutdown (default 30).
    pub const SHUTDOWN_TIMEOUT: &str = "ATOMBOT_SHUTDOWN_TIMEOUT";
    /// Seconds a client gets to send a request's headers (default 10); an idle keep-alive
    /// connection waiting for its next request is closed after this too.
    pub const HEADER_TIMEOUT: &str = "ATOMBOT_HEADER_TIMEOUT";
    /// Seconds a client gets to send a delivery's whole body (default 60); 408 after that.
    pub const BODY_TIMEOUT: &str = "ATOMBOT_BODY_TIMEOUT";
    /// Seconds a connection may move no bytes at all before it is closed (default 60).
    pub const IDLE_TIMEOUT: &str = "ATOMBOT_IDLE_TIMEOUT";
    /// Connections served at once (default 1024); more clients wait to be accepted.
    pub const MAX_CONNECTIONS: &str = "ATOMBOT_MAX_CONNECTIONS";
    /// Requests handled at once (default 256); more are answered 503 with `Retry-After`.
    pub const MAX_IN_FLIGHT: &str = "ATOMBOT_MAX_IN_FLIGHT";
    /// `true` also drops a delivery whose signed body was already received within the
    /// dedupe window under another delivery id (default `false`: tests, `atombot send` and
    /// replays of the delivery log re-send bodies on purpose).
    pub const REPLAY_GUARD: &str = "ATOMBOT_REPLAY_GUARD";
    /// `true` accepts deliveries with no signature or token (default `false`).
    pub const ALLOW_UNSIGNED: &str = "ATOMBOT_ALLOW_UNSIGNED";
    /// `human` (default) or `json`.
    pub const LOG_FORMAT: &str = "ATOMBOT_LOG_FORMAT";
    /// `false` stops recording accepted deliveries in the delivery log (default `true`).
    pub const DELIVERY_LOG: &str = "ATOMBOT_DELIVERY_LOG";
    /// Seconds a delivery is kept in the delivery log (default 7 days).
    pub const DELIVERY_LOG_RETENTION: &str = "ATOMBOT_DELIVERY_LOG_RETENTION";
    /// Deliveries kept in the delivery log at most, oldest dropped first (default 100000;
    /// 1000 with `ATOMBOT_QUEUE=memory`).
    pub const DELIVERY_LOG_MAX: &str = "ATOMBOT_DELIVERY_LOG_MAX";
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// How the bot serves and runs deliveries.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RuntimeSettings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Webhook route.
    pub webhook_path: String,
    /// Largest accepted body (413 above).
    pub max_body_bytes: usize,
    /// The job queue: backend URL, attempts, backoff, orphan timeout, dedupe window.
    pub queue: atombot_jobs::QueueConfig,
    /// Deliveries and jobs run at once, counting each until its outcome is committed
    /// (default 128: outcomes commit in groups, so a durable queue keeps up with a rate of
    /// about `concurrency / commit time`).
    pub concurrency: usize,
    /// Time running handlers get on shutdown.
    pub shutdown_timeout: Duration,
    /// Accept unsigned deliveries.
    pub allow_unsigned: bool,
    /// Time a client gets to send a request's headers; also closes an idle keep-alive
    /// connection waiting for its next request. Applies to [`Bot::start`](super::Bot::start)
    /// and [`serve`](super::Bot::serve), not to [`into_router`](super::Bot::into_router).
    pub header_timeout: Duration,
    /// Time a client gets to send a delivery's whole body (408 after that).
    pub body_timeout: Duration,
    /// Time a connection may move no bytes at all before it is closed (not with
    /// `into_router`).
    pub idle_timeout: Duration,
    /// Connections served at once; more wait to be accepted (not with `into_router`).
    pub max_connections: usize,
    /// Requests handled at once; more are answered 503 with `Retry-After` (`/healthz` and
    /// `/metrics` are exempt).
    pub max_in_flight: usize,
    /// Also drop a delivery whose signed body was already received within the dedupe
    /// window under another delivery id. Off by default: legitimate senders (tests,
    /// `atombot send`, replays of the delivery log) re-send bodies on purpose.
    pub replay_guard: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// The delivery log: on or off, retention, size bound.
    pub delivery_log: crate::deliveries::LogSettings,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            webhook_path: "/webhook".to_owned(),
            max_body_bytes: crate::webhook::DEFAULT_MAX_BODY_BYTES,
            queue: atombot_jobs::QueueConfig::new("sqlite://atombot.db"),
            concurrency: 128,
            shutdown_timeout: Duration::from_secs(30),
            allow_unsigned: false,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1024,
            max_in_flight: 256,
            replay_guard: false,
            log_format: LogFormat::Human,
            delivery_log: crate::deliveries::LogSettings::default(),
        }
    }
}

fn parse<T: std::str::FromStr>(name: &'static str, value: &str, what: &str) -> Result<T> {
    value
        .trim()
        .parse()
        .map_err(|_| Error::config(name, format!("{value:?} is not {what}")))
}

/// A number of seconds, at least one.
fn seconds(name: &'static str, value: &str) -> Result<Duration> {
    match parse::<u64>(name, value, "a number of seconds")? {
        0 => Err(Error::config(name, "must be at least 1 second")),
        secs => Ok(Duration::from_secs(secs)),
    }
}

/// A count, at least one.
fn count(name: &'static str, value: &str) -> Result<usize> {
    match parse::<usize>(name, value, "a number")? {
        0 => Err(Error::config(name, "must be at least 1")),
        n => Ok(n),
    }
}

impl RuntimeSettings {
    /// Reads the `ATOMBOT_*` variables (see [`env`](mod@env)); unset ones keep their defaults.
    ///
    /// Fails with [`Error::Config`] naming a variable whose value does not parse.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut s = Self::default();
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = get(env::LISTEN) {
            s.listen = parse(env::LISTEN, &v, "a socket address such as 127.0.0.1:3000")?;
        }
        if let Some(v) = get(env::WEBHOOK_PATH) {
            if !v.starts_with('/') {
                return Err(Error::config(env::WEBHOOK_PATH, "must start with '/'"));
            }
            s.webhook_path = v;
        }
        if let Some(v) = get(env::MAX_BODY_BYTES) {
            s.max_body_bytes = parse(env::MAX_BODY_BYTES, &v, "a number of bytes")?;
        }
        if let Some(v) = get(env::QUEUE) {
            s.queue = atombot_jobs::QueueConfig::new(v.trim());
        }
        if let Some(v) = get(env::QUEUE_NAME) {
            s.queue = s.queue.queue_name(v.trim());
        }
        if let Some(v) = get(env::MAX_ATTEMPTS) {
            s.queue = s
                .queue
                .max_attempts(parse(env::MAX_ATTEMPTS, &v, "a number")?);
        }
        if let Some(v) = get(env::ORPHAN_TIMEOUT) {
            let secs: u64 = parse(env::ORPHAN_TIMEOUT, &v, "a number of seconds")?;
            s.queue = s.queue.orphan_timeout(Duration::from_secs(secs));
        }
        if let Some(v) = get(env::UNKNOWN_TIMEOUT) {
            let secs: u64 = parse(env::UNKNOWN_TIMEOUT, &v, "a number of seconds")?;
            s.queue = s.queue.unknown_timeout(Duration::from_secs(secs));
        }
        if let Some(v) = get(env::MAX_POSTPONE) {
            let secs: u64 = parse(env::MAX_POSTPONE, &v, "a number of seconds")?;
            s.queue = s.queue.max_postpone(Duration::from_secs(secs));
        }
        if let Some(v) = get(env::JOB_TIMEOUT) {
            let secs: u64 = parse(env::JOB_TIMEOUT, &v, "a number of seconds")?;
            s.queue = s.queue.job_timeout(Duration::from_secs(secs.max(1)));
        }
        if let Some(v) = get(env::KEEP_FAILED) {
            let secs: u64 = parse(env::KEEP_FAILED, &v, "a number of seconds")?;
            s.queue = s.queue.keep_failed(Duration::from_secs(secs));
        }
        if let Some(v) = get(env::DEDUPE_TTL) {
            let secs: u64 = parse(env::DEDUPE_TTL, &v, "a number of seconds")?;
            s.queue = s.queue.dedupe_ttl(Duration::from_secs(secs));
        }
        if let Some(v) = get(env::CONCURRENCY) {
            s.concurrency = parse::<usize>(env::CONCURRENCY, &v, "a number")?.max(1);
        }
        if let Some(v) = get(env::SHUTDOWN_TIMEOUT) {
            s.shutdown_timeout =
                Duration::from_secs(parse(env::SHUTDOWN_TIMEOUT, &v, "a number of seconds")?);
        }
        if let Some(v) = get(env::ALLOW_UNSIGNED) {
            s.allow_unsigned = parse(env::ALLOW_UNSIGNED, &v, "true or false")?;
        }
        if let Some(v) = get(env::HEADER_TIMEOUT) {
            s.header_timeout = seconds(env::HEADER_TIMEOUT, &v)?;
        }
        if let Some(v) = get(env::BODY_TIMEOUT) {
            s.body_timeout = seconds(env::BODY_TIMEOUT, &v)?;
        }
        if let Some(v) = get(env::IDLE_TIMEOUT) {
            s.idle_timeout = seconds(env::IDLE_TIMEOUT, &v)?;
        }
        if let Some(v) = get(env::MAX_CONNECTIONS) {
            s.max_connections = count(env::MAX_CONNECTIONS, &v)?;
        }
        if let Some(v) = get(env::MAX_IN_FLIGHT) {
            s.max_in_flight = count(env::MAX_IN_FLIGHT, &v)?;
        }
        if let Some(v) = get(env::REPLAY_GUARD) {
            s.replay_guard = parse(env::REPLAY_GUARD, &v, "true or false")?;
        }
        if let Some(v) = get(env::DELIVERY_LOG) {
            s.delivery_log.enabled = parse(env::DELIVERY_LOG, &v, "true or false")?;
        }
        if let Some(v) = get(env::DELIVERY_LOG_RETENTION) {
            s.delivery_log.retention = seconds(env::DELIVERY_LOG_RETENTION, &v)?;
        }
        if let Some(v) = get(env::DELIVERY_LOG_MAX) {
            s.delivery_log.max_records = count(env::DELIVERY_LOG_MAX, &v)? as u64;
        }
        if let Some(v) = get(env::LOG_FORMAT) {
            s.log_format = match v.trim() {
                "human" => LogFormat::Human,
                "json" => LogFormat::Json,
                _ => return Err(Error::config(env::LOG_FORMAT, "must be `human` or `json`")),
            };
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_validates_variables() {
        let s = RuntimeSettings::from_lookup(|k| match k {
            "ATOMBOT_LISTEN" => Some("127.0.0.1:0".into()),
            "ATOMBOT_LOG_FORMAT" => Some("json".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.listen.port(), 0);
        assert_eq!(s.log_format, LogFormat::Json);
        let err =
            RuntimeSettings::from_lookup(|k| (k == "ATOMBOT_CONCURRENCY").then(|| "many".into()))
                .unwrap_err();
        assert!(err.to_string().contains("ATOMBOT_CONCURRENCY"), "{err}");
    }

    #[test]
    fn reads_the_server_limits() {
        let s = RuntimeSettings::from_lookup(|k| match k {
            "ATOMBOT_HEADER_TIMEOUT" => Some("3".into()),
            "ATOMBOT_BODY_TIMEOUT" => Some("4".into()),
            "ATOMBOT_IDLE_TIMEOUT" => Some("5".into()),
            "ATOMBOT_MAX_CONNECTIONS" => Some("6".into()),
            "ATOMBOT_MAX_IN_FLIGHT" => Some("7".into()),
            "ATOMBOT_REPLAY_GUARD" => Some("true".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.header_timeout, Duration::from_secs(3));
        assert_eq!(s.body_timeout, Duration::from_secs(4));
        assert_eq!(s.idle_timeout, Duration::from_secs(5));
        assert_eq!((s.max_connections, s.max_in_flight), (6, 7));
        assert!(s.replay_guard);
        assert!(!RuntimeSettings::default().replay_guard);
        for name in ["ATOMBOT_HEADER_TIMEOUT", "ATOMBOT_MAX_IN_FLIGHT"] {
            let err =
                RuntimeSettings::from_lookup(|k| (k == name).then(|| "0".into())).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
