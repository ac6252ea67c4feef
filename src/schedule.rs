//! Schedules: work that runs on a clock, **once per tick across all replicas**.
//!
//! ```no_run
//! use std::time::Duration;
//! use atombot::{Bot, schedule::Tick};
//!
//! async fn nightly(tick: Tick) -> atombot::Result<()> {
//!     // An app client: reach every installation from here.
//!     tick.app()
//!         .for_each_installation(4, |installation, _client| async move {
//!             tracing::info!(id = %installation.id, "nightly sweep");
//!             Ok::<_, atombot::Error>(())
//!         })
//!         .await
//! }
//!
//! async fn heartbeat(tick: Tick) -> atombot::Result<()> {
//!     tracing::info!(at = %tick.time(), "alive");
//!     Ok(())
//! }
//!
//! # async fn run() -> atombot::Result<()> {
//! Bot::from_env()?
//!     .every("0 3 * * *", nightly) // 03:00 UTC every day (cron, 5 or 6 fields)
//!     .every(Duration::from_secs(60), heartbeat)
//!     .serve()
//!     .await
//! # }
//! ```
//!
//! Each tick is a job on the bot's queue, keyed by the schedule's name and the tick's time:
//! every running replica queues the next tick ahead of time, the queue keeps one job per key,
//! and one worker runs it. So with several replicas on one Redis or Postgres a tick runs
//! once; a replica killed while running a tick has it run again elsewhere after the orphan
//! timeout (at least once, as for deliveries). A tick whose time passed while every replica
//! was down was already in the queue: it runs once when one starts again, unless the
//! schedule says [`skip_missed`](Schedule::skip_missed). A handler's error retries the tick
//! like a job's (see [`Retry`](crate::Retry)).
//!
//! Times are UTC. Intervals are counted from the Unix epoch (`Duration::from_secs(60)` ticks
//! on each minute), so every replica agrees on them.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

use crate::app::App;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::jobs::{JobFuture, Jobs};
use crate::state::StateMap;
use crate::webhook::BoxError;

/// When a schedule ticks: a cron pattern or a fixed interval, both in UTC.
///
/// Built from a `&str` (cron) or a [`Duration`] (interval) wherever [`Bot::every`] takes one;
/// a pattern that does not parse fails when the bot starts.
///
/// [`Bot::every`]: crate::Bot::every
#[derive(Clone)]
pub struct Schedule {
    spec: Spec,
    skip_missed: bool,
}

#[derive(Clone)]
enum Spec {
    Every(Duration),
    Cron { pattern: String, cron: Box<Cron> },
    Invalid { given: String, error: String },
}

/// The shortest interval a schedule may have.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// How late a tick may start under [`Schedule::skip_missed`] at most.
const MAX_GRACE: Duration = Duration::from_secs(60);

impl Schedule {
    /// Ticks every `period`, counted from the Unix epoch (whole milliseconds, at least 1 s).
    pub fn every(period: Duration) -> Self {
        let spec = if period < MIN_INTERVAL {
            Spec::Invalid {
                given: format!("{period:?}"),
                error: "an interval must be at least 1 s".into(),
            }
        } else {
            Spec::Every(Duration::from_millis(
                u64::try_from(period.as_millis()).unwrap_or(u64::MAX),
            ))
        };
        Self {
            spec,
            skip_missed: false,
        }
    }

    /// Ticks at the times a cron pattern names, in UTC: five fields
    /// (`minute hour day-of-month month day-of-week`, as crontab) or six with seconds first;
    /// also `@daily`, `@hourly` and the like.
    ///
    /// Fails with [`Error::Definition`] saying what is wrong with the pattern.
    pub fn cron(pattern: &str) -> Result<Self> {
        let schedule = Self::from(pattern);
        schedule.check().map_err(Error::Definition)?;
        Ok(schedule)
    }

    /// Skips a tick that starts late (every replica was down at its time, or the one running
    /// it died): later than half the time to the next tick, and at most a minute. By
    /// default such a tick runs once, late.
    #[must_use]
    pub fn skip_missed(mut self) -> Self {
        self.skip_missed = true;
        self
    }

    /// Fails saying why the schedule cannot run.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        match &self.spec {
            Spec::Invalid { given, error } => Err(format!("schedule {given:?}: {error}")),
            _ => match self.next_after(Utc::now().timestamp_millis()) {
                Some(_) => Ok(()),
                None => Err(format!("schedule {self}: never ticks")),
            },
        }
    }

    /// The first tick strictly after `after` (milliseconds since the epoch).
    pub(crate) fn next_after(&self, after: i64) -> Option<i64> {
        match &self.spec {
            Spec::Every(period) => {
                let period = i64::try_from(period.as_millis()).ok()?;
                after.div_euclid(period).checked_add(1)?.checked_mul(period)
            }
            Spec::Cron { cron, .. } => {
                let after = Utc.timestamp_millis_opt(after).single()?;
                let next = cron.find_next_occurrence(&after, false).ok()?;
                Some(next.timestamp_millis())
            }
            Spec::Invalid { .. } => None,
        }
    }

    /// Whether `at` is one of the schedule's ticks (not so once the schedule was changed).
    pub(crate) fn is_tick(&self, at: i64) -> bool {
        self.next_after(at.saturating_sub(1)) == Some(at)
    }

    /// Whether a tick due at `at` that starts at `now` is skipped.
    pub(crate) fn skips(&self, at: i64, now: i64) -> bool {
        if !self.skip_missed {
            return false;
        }
        let gap = self
            .next_after(at)
            .map_or(0, |next| next.saturating_sub(at));
        let grace = (gap / 2).min(i64::try_from(MAX_GRACE.as_millis()).unwrap_or(i64::MAX));
        now.saturating_sub(at) > grace
    }
}

impl From<&str> for Schedule {
    fn from(pattern: &str) -> Self {
        let parser = CronParser::builder().seconds(Seconds::Optional).build();
        let spec = match parser.parse(pattern.trim()) {
            Ok(cron) => Spec::Cron {
                pattern: pattern.trim().to_owned(),
                cron: Box::new(cron),
            },
            Err(e) => Spec::Invalid {
                given: pattern.to_owned(),
                error: format!("not a cron pattern: {e}"),
            },
        };
        Self {
            spec,
            skip_missed: false,
        }
    }
}

impl From<String> for Schedule {
    fn from(pattern: String) -> Self {
        Self::from(pattern.as_str())
    }
}

impl From<Duration> for Schedule {
    fn from(period: Duration) -> Self {
        Self::every(period)
    }
}

impl fmt::Display for Schedule {
    /// `every 60s` or the cron pattern.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.spec {
            Spec::Every(period) => write!(f, "every {period:?}"),
            Spec::Cron { pattern, .. } => f.write_str(pattern),
            Spec::Invalid { given, .. } => f.write_str(given),
        }
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule")
            .field("spec", &self.to_string())
            .field("skip_missed", &self.skip_missed)
            .finish()
    }
}

/// What a scheduled handler receives: the tick, an app client, the queue.
#[derive(Clone)]
pub struct Tick {
    pub(crate) app: App,
    pub(crate) name: Arc<str>,
    pub(crate) at: DateTime<Utc>,
    pub(crate) attempt: u32,
    pub(crate) key: String,
    pub(crate) jobs: Jobs,
    pub(crate) state: StateMap,
}

impl fmt::Debug for Tick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tick")
            .field("name", &self.name)
            .field("at", &self.at)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl Tick {
    /// The app: its client, and [`App::for_each_installation`] to reach every installation.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The app's own client (JWT-authenticated); [`App::installation_client`] acts as one
    /// installation.
    pub fn client(&self) -> &Client {
        self.app.client()
    }

    /// The schedule's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// When the tick was due (it may run later: after a restart, or a retry).
    pub fn time(&self) -> DateTime<Utc> {
        self.at
    }

    /// Which run of this tick this is, from 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// A key naming this tick, the same on every replica and across retries
    /// (`schedule:{name}:{time in ms}`), for your own side effects.
    pub fn idempotency_key(&self) -> &str {
        &self.key
    }

    /// Queues jobs (with no installation; [`Jobs::for_installation`] queues on behalf of
    /// one).
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// The bot's shared value of type `S` (given with [`Bot::with_state`]).
    ///
    /// Fails with [`Error::Definition`] naming `S` when the bot was given none.
    ///
    /// [`Bot::with_state`]: crate::Bot::with_state
    pub fn state<S: Send + Sync + 'static>(&self) -> Result<Arc<S>> {
        self.state.get::<S>()
    }
}

/// A scheduled handler: any `async fn(Tick) -> Result<(), E>`.
pub trait TickHandler: Send + Sync + 'static {
    /// Runs the tick.
    fn call(&self, tick: Tick) -> JobFuture;
}

impl<F, Fut, E> TickHandler for F
where
    F: Fn(Tick) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::result::Result<(), E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn call(&self, tick: Tick) -> JobFuture {
        let fut = self(tick);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

/// One registered schedule.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) name: Arc<str>,
    pub(crate) schedule: Schedule,
    pub(crate) handler: Arc<dyn TickHandler>,
}

/// The bot's schedules, in the order they were added.
#[derive(Clone, Default)]
pub(crate) struct Schedules {
    pub(crate) entries: Vec<Entry>,
}

impl fmt::Debug for Schedules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|e| (&e.name, &e.schedule)))
            .finish()
    }
}

impl Schedules {
    /// Adds a schedule named `name`, or `{schedule}#{n}` (the n-th with that schedule).
    pub(crate) fn add(
        &mut self,
        name: Option<String>,
        schedule: Schedule,
        handler: impl TickHandler,
    ) {
        let name = name.unwrap_or_else(|| {
            let spec = schedule.to_string();
            let n = self
                .entries
                .iter()
                .filter(|e| e.schedule.to_string() == spec)
                .count();
            format!("{spec}#{}", n + 1)
        });
        self.entries.push(Entry {
            name: name.into(),
            schedule,
            handler: Arc::new(handler),
        });
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| &*e.name == name)
    }

    /// Fails naming a schedule that cannot run or a name that is empty or taken twice.
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        let mut seen = HashSet::new();
        for entry in &self.entries {
            let name = &*entry.name;
            if name.trim().is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
                return Err(format!(
                    "schedule name {name:?} must be 1 to 200 bytes without control characters"
                ));
            }
            if !seen.insert(name) {
                return Err(format!("schedule name {name:?} is registered twice"));
            }
            entry.schedule.check()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn intervals_tick_on_multiples_of_the_period_since_the_epoch() {
        let every = Schedule::from(Duration::from_secs(2));
        assert_eq!(every.next_after(0), Some(2_000));
        assert_eq!(every.next_after(1_999), Some(2_000));
        assert_eq!(every.next_after(2_000), Some(4_000));
        assert!(every.is_tick(4_000));
        assert!(!every.is_tick(4_001));
        assert_eq!(every.to_string(), "every 2s");
    }

    #[test]
    fn cron_patterns_tick_in_utc_with_five_or_six_fields() {
        let nightly = Schedule::cron("0 3 * * *").unwrap();
        let t = ms("2026-12-07T10:00:00Z");
        assert_eq!(nightly.next_after(t), Some(ms("2026-12-08T03:00:00Z")));
        assert!(nightly.is_tick(ms("2026-12-08T03:00:00Z")));
        assert!(!nightly.is_tick(ms("2026-12-08T03:00:01Z")));
        let seconds = Schedule::cron("*/15 * * * * *").unwrap();
        assert_eq!(seconds.next_after(t), Some(t + 15_000));
        let daily = Schedule::cron("@daily").unwrap();
        assert_eq!(daily.next_after(t), Some(ms("2026-12-08T00:00:00Z")));
    }

    #[test]
    fn a_bad_schedule_fails_when_checked_not_when_built() {
        let err = Schedule::cron("every night").unwrap_err().to_string();
        assert!(err.contains("every night"), "{err}");
        let mut schedules = Schedules::default();
        schedules.add(None, Schedule::from("61 * * * *"), |_: Tick| async {
            Ok::<_, Error>(())
        });
        assert!(schedules.check().unwrap_err().contains("61 * * * *"));
        let short = Schedule::every(Duration::from_millis(10))
            .check()
            .unwrap_err();
        assert!(short.contains("at least 1 s"), "{short}");
    }

    #[test]
    fn names_default_to_the_schedule_and_must_be_unique() {
        let mut schedules = Schedules::default();
        let ok = |_: Tick| async { Ok::<_, Error>(()) };
        schedules.add(None, Schedule::from("0 3 * * *"), ok);
        schedules.add(None, Schedule::from("0 3 * * *"), ok);
        schedules.add(Some("sweep".into()), Duration::from_secs(60).into(), ok);
        let names: Vec<_> = schedules.entries.iter().map(|e| &*e.name).collect();
        assert_eq!(names, ["0 3 * * *#1", "0 3 * * *#2", "sweep"]);
        assert!(schedules.check().is_ok());
        schedules.add(Some("sweep".into()), Duration::from_secs(5).into(), ok);
        assert!(schedules.check().unwrap_err().contains("twice"));
    }

    #[test]
    fn skip_missed_skips_ticks_that_start_late() {
        let every = Schedule::every(Duration::from_secs(10));
        assert!(!every.skips(10_000, 100_000), "by default a late tick runs");
        let skipping = every.skip_missed();
        assert!(!skipping.skips(10_000, 14_000));
        assert!(skipping.skips(10_000, 15_001));
        let nightly = Schedule::cron("0 3 * * *").unwrap().skip_missed();
        let at = ms("2026-12-08T03:00:00Z");
        assert!(!nightly.skips(at, at + 59_000));
        assert!(nightly.skips(at, at + 61_000), "at most a minute late");
    }
}
