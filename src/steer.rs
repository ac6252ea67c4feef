//! Errors that steer retries: [`Abort`], [`Retry`] and [`ResultExt`]. The table that maps
//! every handler or job error to what the queue does next is `steer.md` (shown on
//! [`Retry`]); the runtime applies it (`runtime/steer.rs`).

use std::fmt;
use std::time::Duration;

/// Fail a handler or job now, without retrying; the message is kept with the failed unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Abort {
    message: String,
}

impl Abort {
    /// Fails with `message` (shown by `atombot jobs failed`).
    pub fn new(message: impl fmt::Display) -> Self {
        Self {
            message: message.to_string(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// How a [`Retry`] schedules the next run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    Backoff,
    After(Duration),
    Postpone(Duration),
}

/// Run a handler or job again later.
///
#[doc = include_str!("steer.md")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    pub(crate) when: When,
    message: String,
}

impl Retry {
    /// Again after exponential backoff, using up an attempt.
    pub fn backoff() -> Self {
        Self {
            when: When::Backoff,
            message: "retry requested".to_owned(),
        }
    }

    /// Again after `delay`, using up an attempt.
    pub fn after(delay: Duration) -> Self {
        Self {
            when: When::After(delay),
            message: format!("retry requested in {}s", delay.as_secs()),
        }
    }

    /// Again after `delay` without using up an attempt (for waits that are not failures,
    /// such as a rate limit); bounded in total by `ATOMBOT_MAX_POSTPONE`.
    pub fn postpone(delay: Duration) -> Self {
        Self {
            when: When::Postpone(delay),
            message: format!("postponed by {}s", delay.as_secs()),
        }
    }

    /// Sets the message kept with the unit (shown if it finally fails).
    #[must_use]
    pub fn because(mut self, message: impl fmt::Display) -> Self {
        self.message = message.to_string();
        self
    }

    /// The delay asked for, if any (`None`: exponential backoff).
    pub fn delay(&self) -> Option<Duration> {
        match self.when {
            When::Backoff => None,
            When::After(d) | When::Postpone(d) => Some(d),
        }
    }

    /// Whether the retry keeps its attempt ([`postpone`](Self::postpone)).
    pub fn keeps_attempt(&self) -> bool {
        matches!(self.when, When::Postpone(_))
    }
}

impl fmt::Display for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Retry {}

/// `?`-friendly conversions of any `Result` into an [`Abort`] or a [`Retry`].
pub trait ResultExt<T> {
    /// Fails the unit now if this is an error (its message is kept).
    fn or_abort(self) -> Result<T, Abort>;

    /// Runs the unit again after `delay` if this is an error (using up an attempt).
    fn or_retry_after(self, delay: Duration) -> Result<T, Retry>;
}

impl<T, E: fmt::Display> ResultExt<T> for Result<T, E> {
    fn or_abort(self) -> Result<T, Abort> {
        self.map_err(Abort::new)
    }

    fn or_retry_after(self, delay: Duration) -> Result<T, Retry> {
        self.map_err(|e| Retry::after(delay).because(e))
    }
}
