//! Runtime settings: where to listen, limits, concurrency, shutdown, logging.

use std::net::SocketAddr;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::settings::{self, Setting};

/// Environment variable names of the runtime settings: the names of their
/// [`settings`] entries, where defaults and meanings are.
pub mod env {
    use crate::settings;

    /// [`settings::LISTEN`].
    pub const LISTEN: &str = settings::LISTEN.name;
    /// [`settings::WEBHOOK_PATH`].
    pub const WEBHOOK_PATH: &str = settings::WEBHOOK_PATH.name;
    /// [`settings::MAX_BODY_BYTES`].
    pub const MAX_BODY_BYTES: &str = settings::MAX_BODY_BYTES.name;
    /// [`settings::QUEUE`].
    pub const QUEUE: &str = settings::QUEUE.name;
    /// [`settings::QUEUE_NAME`].
    pub const QUEUE_NAME: &str = settings::QUEUE_NAME.name;
    /// [`settings::MAX_ATTEMPTS`].
    pub const MAX_ATTEMPTS: &str = settings::MAX_ATTEMPTS.name;
    /// [`settings::ORPHAN_TIMEOUT`].
    pub const ORPHAN_TIMEOUT: &str = settings::ORPHAN_TIMEOUT.name;
    /// [`settings::UNKNOWN_TIMEOUT`].
    pub const UNKNOWN_TIMEOUT: &str = settings::UNKNOWN_TIMEOUT.name;
    /// [`settings::MAX_POSTPONE`].
    pub const MAX_POSTPONE: &str = settings::MAX_POSTPONE.name;
    /// [`settings::JOB_TIMEOUT`].
    pub const JOB_TIMEOUT: &str = settings::JOB_TIMEOUT.name;
    /// [`settings::KEEP_FAILED`].
    pub const KEEP_FAILED: &str = settings::KEEP_FAILED.name;
    /// [`settings::DEDUPE_TTL`].
    pub const DEDUPE_TTL: &str = settings::DEDUPE_TTL.name;
    /// [`settings::CONCURRENCY`].
    pub const CONCURRENCY: &str = settings::CONCURRENCY.name;
    /// [`settings::SHUTDOWN_TIMEOUT`].
    pub const SHUTDOWN_TIMEOUT: &str = settings::SHUTDOWN_TIMEOUT.name;
    /// [`settings::HEADER_TIMEOUT`].
    pub const HEADER_TIMEOUT: &str = settings::HEADER_TIMEOUT.name;
    /// [`settings::BODY_TIMEOUT`].
    pub const BODY_TIMEOUT: &str = settings::BODY_TIMEOUT.name;
    /// [`settings::IDLE_TIMEOUT`].
    pub const IDLE_TIMEOUT: &str = settings::IDLE_TIMEOUT.name;
    /// [`settings::MAX_CONNECTIONS`].
    pub const MAX_CONNECTIONS: &str = settings::MAX_CONNECTIONS.name;
    /// [`settings::MAX_IN_FLIGHT`].
    pub const MAX_IN_FLIGHT: &str = settings::MAX_IN_FLIGHT.name;
    /// [`settings::REPLAY_GUARD`].
    pub const REPLAY_GUARD: &str = settings::REPLAY_GUARD.name;
    /// [`settings::ALLOW_UNSIGNED`].
    pub const ALLOW_UNSIGNED: &str = settings::ALLOW_UNSIGNED.name;
    /// [`settings::LOG_FORMAT`].
    pub const LOG_FORMAT: &str = settings::LOG_FORMAT.name;
    /// [`settings::DELIVERY_LOG`].
    pub const DELIVERY_LOG: &str = settings::DELIVERY_LOG.name;
    /// [`settings::DELIVERY_LOG_RETENTION`].
    pub const DELIVERY_LOG_RETENTION: &str = settings::DELIVERY_LOG_RETENTION.name;
    /// [`settings::DELIVERY_LOG_MAX`].
    pub const DELIVERY_LOG_MAX: &str = settings::DELIVERY_LOG_MAX.name;
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
    /// Reads the `ATOMBOT_*` variables (see [`env`](mod@env)); unset ones take their
    /// defaults from [`settings`], the same as [`Default`].
    ///
    /// Fails with [`Error::Config`] naming a variable whose value does not parse.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        // Each value is the variable's, else its registry entry's default.
        let value = |s: &Setting| {
            s.read(&lookup)
                .ok_or_else(|| Error::config(s.name, "not set"))
        };
        let number =
            |s: &Setting| -> Result<u64> { parse(s.name, &value(s)?, "a number of seconds") };
        let secs = |s: &Setting| number(s).map(Duration::from_secs);
        let switch = |s: &Setting| -> Result<bool> { parse(s.name, &value(s)?, "true or false") };

        let webhook_path = value(&settings::WEBHOOK_PATH)?;
        if !webhook_path.starts_with('/') {
            return Err(Error::config(env::WEBHOOK_PATH, "must start with '/'"));
        }
        let queue = atombot_jobs::QueueConfig::new(value(&settings::QUEUE)?.trim())
            .queue_name(value(&settings::QUEUE_NAME)?.trim())
            .max_attempts(parse(
                env::MAX_ATTEMPTS,
                &value(&settings::MAX_ATTEMPTS)?,
                "a number",
            )?)
            .orphan_timeout(secs(&settings::ORPHAN_TIMEOUT)?)
            .unknown_timeout(secs(&settings::UNKNOWN_TIMEOUT)?)
            .max_postpone(secs(&settings::MAX_POSTPONE)?)
            .job_timeout(Duration::from_secs(number(&settings::JOB_TIMEOUT)?.max(1)))
            .keep_failed(secs(&settings::KEEP_FAILED)?)
            .dedupe_ttl(secs(&settings::DEDUPE_TTL)?);
        let log_format = match value(&settings::LOG_FORMAT)?.trim() {
            "human" => LogFormat::Human,
            "json" => LogFormat::Json,
            _ => return Err(Error::config(env::LOG_FORMAT, "must be `human` or `json`")),
        };
        Ok(Self {
            listen: parse(
                env::LISTEN,
                &value(&settings::LISTEN)?,
                "a socket address such as 127.0.0.1:3000",
            )?,
            webhook_path,
            max_body_bytes: parse(
                env::MAX_BODY_BYTES,
                &value(&settings::MAX_BODY_BYTES)?,
                "a number of bytes",
            )?,
            queue,
            concurrency: parse::<usize>(
                env::CONCURRENCY,
                &value(&settings::CONCURRENCY)?,
                "a number",
            )?
            .max(1),
            shutdown_timeout: secs(&settings::SHUTDOWN_TIMEOUT)?,
            allow_unsigned: switch(&settings::ALLOW_UNSIGNED)?,
            header_timeout: seconds(env::HEADER_TIMEOUT, &value(&settings::HEADER_TIMEOUT)?)?,
            body_timeout: seconds(env::BODY_TIMEOUT, &value(&settings::BODY_TIMEOUT)?)?,
            idle_timeout: seconds(env::IDLE_TIMEOUT, &value(&settings::IDLE_TIMEOUT)?)?,
            max_connections: count(env::MAX_CONNECTIONS, &value(&settings::MAX_CONNECTIONS)?)?,
            max_in_flight: count(env::MAX_IN_FLIGHT, &value(&settings::MAX_IN_FLIGHT)?)?,
            replay_guard: switch(&settings::REPLAY_GUARD)?,
            log_format,
            delivery_log: crate::deliveries::LogSettings {
                enabled: switch(&settings::DELIVERY_LOG)?,
                retention: seconds(
                    env::DELIVERY_LOG_RETENTION,
                    &value(&settings::DELIVERY_LOG_RETENTION)?,
                )?,
                max_records: count(env::DELIVERY_LOG_MAX, &value(&settings::DELIVERY_LOG_MAX)?)?
                    as u64,
            },
        })
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
    fn unset_variables_give_the_default_settings() {
        assert_eq!(
            RuntimeSettings::from_lookup(|_| None).unwrap(),
            RuntimeSettings::default()
        );
        // Setting a variable to its documented default changes nothing either.
        for s in settings::ALL.iter().filter(|s| s.default.is_some()) {
            let read = RuntimeSettings::from_lookup(|k| {
                (k == s.name).then(|| s.default.unwrap().to_owned())
            });
            assert_eq!(read.unwrap(), RuntimeSettings::default(), "{}", s.name);
        }
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
