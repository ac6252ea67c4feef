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
    /// `true` accepts deliveries with no signature or token (default `false`).
    pub const ALLOW_UNSIGNED: &str = "ATOMBOT_ALLOW_UNSIGNED";
    /// `human` (default) or `json`.
    pub const LOG_FORMAT: &str = "ATOMBOT_LOG_FORMAT";
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
#[derive(Debug, Clone)]
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
    /// Deliveries and jobs run at once.
    pub concurrency: usize,
    /// Time running handlers get on shutdown.
    pub shutdown_timeout: Duration,
    /// Accept unsigned deliveries.
    pub allow_unsigned: bool,
    /// Log format.
    pub log_format: LogFormat,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            webhook_path: "/webhook".to_owned(),
            max_body_bytes: crate::webhook::DEFAULT_MAX_BODY_BYTES,
            queue: atombot_jobs::QueueConfig::new("sqlite://atombot.db"),
            concurrency: 32,
            shutdown_timeout: Duration::from_secs(30),
            allow_unsigned: false,
            log_format: LogFormat::Human,
        }
    }
}

fn parse<T: std::str::FromStr>(name: &'static str, value: &str, what: &str) -> Result<T> {
    value
        .trim()
        .parse()
        .map_err(|_| Error::config(name, format!("{value:?} is not {what}")))
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
}
