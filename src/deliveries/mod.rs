//! The delivery log: every accepted delivery (ids, event, headers that matter, raw body) and
//! what each handler made of it, kept for a retention window in the same store as the queue,
//! to list, show, export and replay (`atombot deliveries …`, the admin page).
//!
//! AtomGit has no "recent deliveries / redeliver" API, so the bot keeps its own. The
//! receiver hands each accepted delivery to a background writer that stores them in
//! batches, off the acknowledgement's path: a crash can lose the log's last few records,
//! never a delivery (the queue has those). Outcomes are recorded as the queue commits them.
//!
//! ```no_run
//! # async fn run() -> atombot::Result<()> {
//! use atombot::deliveries::{DeliveryLog, Filter};
//! use atombot::jobs::QueueConfig;
//!
//! let log = DeliveryLog::connect(&QueueConfig::from_env(), Default::default()).await?;
//! for summary in log.list(&Filter::default().failed()).await? {
//!     println!("{} {} {}", summary.id, summary.event, summary.received_at);
//! }
//! # Ok(()) }
//! ```

mod entry;
mod export;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
mod sql;
mod sqlite;
mod store;
#[cfg(test)]
mod tests;
mod writer;

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub(crate) use entry::{Entry, KeptHeaders};
pub use export::Export;
pub(crate) use writer::LogWriter;

use crate::error::{Error, Result};
use crate::jobs::QueueConfig;
use store::Store;

/// How the log keeps records: on or off, for how long, how many.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogSettings {
    /// Whether the bot records deliveries (`ATOMBOT_DELIVERY_LOG`, default off for now: on,
    /// it costs SQLite ~10–20 % of its throughput at saturation and ~1.7× its p99; see the
    /// README's Performance).
    pub enabled: bool,
    /// How long a delivery is kept (`ATOMBOT_DELIVERY_LOG_RETENTION`, default 7 days).
    pub retention: Duration,
    /// How many deliveries are kept at most; the oldest go first
    /// (`ATOMBOT_DELIVERY_LOG_MAX`, default 100,000).
    pub max_records: u64,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            retention: Duration::from_secs(7 * 24 * 3600),
            max_records: 100_000,
        }
    }
}

/// A kept delivery, as [`DeliveryLog::get`] returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Record {
    /// The delivery id.
    pub id: String,
    /// Canonical event name (`push`, `issues`, `pull_request`, …).
    pub event: String,
    /// The action, if the event has one.
    pub action: Option<String>,
    /// The installation the payload names, if any.
    pub installation: Option<u64>,
    /// `owner/name` of the repository, if any.
    pub repository: Option<String>,
    /// When the bot accepted it.
    pub received_at: DateTime<Utc>,
    /// The headers that matter to replay it (event, delivery id, user agent, content
    /// type): never a signature, token or cookie.
    pub headers: Vec<(String, String)>,
    /// The delivery this one replays, for a replay.
    pub replay_of: Option<String>,
    /// What each handler made of it, by handler name.
    pub outcomes: Vec<HandlerOutcome>,
    /// The raw body, byte for byte.
    #[serde(skip)]
    pub body: Bytes,
}

/// One handler's latest outcome for a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HandlerOutcome {
    /// The handler's name (`push#1`, or the name it was given).
    pub handler: String,
    /// What happened last.
    pub status: Status,
    /// The attempt that ran last, from 1.
    pub attempt: u32,
    /// The last error, if the last run failed.
    pub error: Option<String>,
    /// When it was recorded.
    pub at: DateTime<Utc>,
}

/// What a handler's last run led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Done.
    Succeeded,
    /// Failed; runs again after backoff (or a rate limit's reset).
    Retrying,
    /// Failed for good (kept as failed: `atombot jobs failed`).
    Failed,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "succeeded",
            Status::Retrying => "retrying",
            Status::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "succeeded" => Some(Status::Succeeded),
            "retrying" => Some(Status::Retrying),
            "failed" => Some(Status::Failed),
            _ => None,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A line of [`DeliveryLog::list`]: a kept delivery without its body and headers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Summary {
    /// The delivery id.
    pub id: String,
    /// Canonical event name.
    pub event: String,
    /// The action, if any.
    pub action: Option<String>,
    /// `owner/name`, if any.
    pub repository: Option<String>,
    /// When the bot accepted it.
    pub received_at: DateTime<Utc>,
    /// The delivery it replays, for a replay.
    pub replay_of: Option<String>,
    /// Handler outcomes.
    pub outcomes: Vec<HandlerOutcome>,
}

impl Summary {
    /// Whether a handler's last run failed (for good, or to be retried).
    pub fn has_failure(&self) -> bool {
        self.outcomes.iter().any(|o| o.status != Status::Succeeded)
    }
}

/// Which deliveries [`DeliveryLog::list`] returns, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Filter {
    /// Only this event (canonical name, `push`), or this event and action (`issues.opened`).
    pub event: Option<String>,
    /// Only deliveries a handler failed on (for good, or to be retried).
    pub failed: bool,
    /// Only deliveries received at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// At most this many (default 100).
    pub limit: usize,
}

impl Default for Filter {
    fn default() -> Self {
        Self {
            event: None,
            failed: false,
            since: None,
            limit: 100,
        }
    }
}

impl Filter {
    /// Only `event` (`push`) or `event.action` (`issues.opened`).
    #[must_use]
    pub fn event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(event.into());
        self
    }

    /// Only deliveries a handler failed on.
    #[must_use]
    pub fn failed(mut self) -> Self {
        self.failed = true;
        self
    }

    /// Only deliveries received at or after `since`.
    #[must_use]
    pub fn since(mut self, since: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self
    }

    /// At most `limit` deliveries.
    #[must_use]
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// Whether `summary` passes (for stores that filter in Rust).
    pub(crate) fn passes(&self, summary: &Summary) -> bool {
        let event_ok = self
            .event
            .as_deref()
            .is_none_or(|wanted| match wanted.split_once('.') {
                Some((event, action)) => {
                    summary.event == event && summary.action.as_deref() == Some(action)
                }
                None => summary.event == wanted,
            });
        event_ok
            && (!self.failed || summary.has_failure())
            && self.since.is_none_or(|since| summary.received_at >= since)
    }
}

/// The delivery log in the queue's store (SQLite, Redis, Postgres, or memory for
/// `ATOMBOT_QUEUE=memory`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct DeliveryLog {
    store: Store,
    settings: LogSettings,
}

impl DeliveryLog {
    /// Opens the log kept beside the queue `queue` names (its URL and name), creating its
    /// tables if missing.
    ///
    /// Fails with [`Error::Config`] when the store cannot be opened.
    pub async fn connect(queue: &QueueConfig, settings: LogSettings) -> Result<Self> {
        let store = Store::connect(queue).await.map_err(|e| {
            Error::config(
                "ATOMBOT_QUEUE",
                format!("cannot open the delivery log: {e}"),
            )
        })?;
        Ok(Self { store, settings })
    }

    /// The same log, keeping records by `settings` (its retention and size bound).
    #[must_use]
    pub fn with_settings(&self, settings: LogSettings) -> Self {
        Self {
            store: self.store.clone(),
            settings,
        }
    }

    /// The in-memory log, if this is it (the receiver and workers write to it directly).
    pub(crate) fn memory(&self) -> Option<std::sync::Arc<memory::MemoryLog>> {
        self.store.memory().cloned()
    }

    /// The settings it keeps records by.
    pub fn settings(&self) -> &LogSettings {
        &self.settings
    }

    /// Kept deliveries that pass `filter`, newest first.
    pub async fn list(&self, filter: &Filter) -> Result<Vec<Summary>> {
        self.store.list(filter).await.map_err(read)
    }

    /// The kept delivery `id`, with its body and outcomes.
    pub async fn get(&self, id: &str) -> Result<Option<Record>> {
        self.store.get(id).await.map_err(read)
    }

    /// Removes deliveries past the retention window or beyond the size bound; how many.
    pub async fn prune(&self) -> Result<u64> {
        let before = Utc::now()
            - chrono::Duration::from_std(self.settings.retention).unwrap_or(chrono::Duration::MAX);
        self.store
            .prune(before.timestamp_millis(), self.settings.max_records)
            .await
            .map_err(read)
    }

    /// Stores `records`, then `outcomes`, now (the replay's path).
    pub(crate) async fn write(
        &self,
        records: Vec<Record>,
        outcomes: Vec<(String, HandlerOutcome)>,
    ) -> Result<()> {
        let entries = records.iter().map(Entry::from_record).collect();
        self.store.write(entries, outcomes).await.map_err(read)
    }

    /// Stores `entries`, then `outcomes`, now (the background writer's path).
    pub(crate) async fn write_entries(
        &self,
        entries: Vec<Entry>,
        outcomes: Vec<(String, HandlerOutcome)>,
    ) -> Result<()> {
        self.store.write(entries, outcomes).await.map_err(read)
    }

    /// Queues the kept delivery `id` again under a new delivery id (so every handler runs
    /// again, with a new idempotency key), records it as a replay of `id`, and returns the
    /// new id. The bot's workers on `queue` run it.
    ///
    /// Fails with [`Error::InvalidRequest`] when no delivery `id` is kept.
    pub async fn replay(&self, queue: &crate::jobs::Queue, id: &str) -> Result<String> {
        let Some(original) = self.get(id).await? else {
            return Err(Error::InvalidRequest(format!(
                "no delivery {id:?} in the delivery log (kept {} days)",
                self.settings.retention.as_secs() / 86_400
            )));
        };
        if original.body.is_empty() {
            return Err(Error::InvalidRequest(format!(
                "the body of delivery {id:?} is no longer kept; it cannot be replayed"
            )));
        }
        let new_id = format!("{}.replay-{}", original.id, Utc::now().timestamp_millis());
        let replay = Record {
            id: new_id.clone(),
            received_at: Utc::now(),
            replay_of: Some(original.id.clone()),
            outcomes: Vec::new(),
            ..original.clone()
        };
        let header_event = original
            .headers
            .iter()
            .find(|(name, _)| is_event_header(name))
            .map(|(_, value)| value.clone());
        let job = crate::runtime::replay_job(&new_id, header_event.as_deref(), original.body)?;
        self.write(vec![replay], Vec::new()).await?;
        queue.push(job).await?;
        Ok(new_id)
    }
}

fn read(e: store::StoreError) -> Error {
    Error::InvalidRequest(format!("the delivery log: {e}"))
}

/// Whether `name` (lowercase) is a delivery's event header.
pub(crate) fn is_event_header(name: &str) -> bool {
    name.starts_with("x-") && name.ends_with("-event")
}
