//! What [`TestBot::receive`](super::TestBot::receive) returns: the receiver's answer, each
//! handler's and job's outcome, and the API calls made.

use std::sync::Arc;
use std::time::Duration;

use http::Method;

use crate::testing::RecordedRequest;

/// How the receiver took the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Acceptance {
    /// Stored and run (202).
    Queued,
    /// No handler wants the event: acknowledged, nothing run (200).
    Ignored,
    /// A delivery with this id was already taken: nothing run again (202).
    Duplicate,
}

/// How a handler or job ended, after its last attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Its last attempt succeeded.
    Succeeded,
    /// It failed for good (aborted, or out of attempts); the last error's message.
    Failed(String),
}

impl Outcome {
    /// Whether it succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Succeeded)
    }
}

/// One handler's runs for a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandlerRun {
    /// The handler's name (`issues.opened#1`, or the one given to `on_named`).
    pub name: String,
    /// How many times it ran (the attempt count of the last run; postponed runs included).
    pub attempts: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// The error of each failed run, oldest first.
    pub errors: Vec<String>,
}

/// One queued job's runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobRun {
    /// The job's id in the queue.
    pub id: String,
    /// Its [`Job::NAME`](crate::jobs::Job::NAME).
    pub kind: String,
    /// How many times it ran (0: it had not run when `receive` returned, which happens
    /// only without [`and_jobs`](super::Receive::and_jobs)).
    pub attempts: u32,
    /// How it ended (`None`: not finished when `receive` returned).
    pub outcome: Option<Outcome>,
}

/// What a delivery led to; see [`TestBot::receive`](super::TestBot::receive).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Received {
    /// The delivery id sent.
    pub delivery: String,
    /// The receiver's HTTP status.
    pub status: u16,
    /// How the receiver took it.
    pub acceptance: Acceptance,
    /// Every handler the delivery ran, in the order they finished.
    pub handlers: Vec<HandlerRun>,
    /// Every job the handlers (and their jobs) queued, in the order queued.
    pub jobs: Vec<JobRun>,
    /// Every request the simulator received while the delivery ran (token mints and
    /// installation lookups included), oldest first.
    pub calls: Vec<RecordedRequest>,
}

impl Received {
    /// The handler named `name`.
    pub fn handler(&self, name: &str) -> Option<&HandlerRun> {
        self.handlers.iter().find(|h| h.name == name)
    }

    /// Whether every handler (and every job that finished) succeeded.
    pub fn succeeded(&self) -> bool {
        self.handlers.iter().all(|h| h.outcome.is_success())
            && self
                .jobs
                .iter()
                .all(|j| j.outcome.as_ref().is_none_or(Outcome::is_success))
    }

    /// The calls with `method` whose path contains `path_part`.
    pub fn calls_to(&self, method: Method, path_part: &str) -> Vec<&RecordedRequest> {
        self.calls
            .iter()
            .filter(|c| c.method == method && c.path.contains(path_part))
            .collect()
    }

    /// The API calls made with an installation or user token: the bot's own calls,
    /// without token mints and the app-JWT installation lookups.
    pub fn api_calls(&self) -> Vec<&RecordedRequest> {
        use crate::testing::TokenKind;
        self.calls
            .iter()
            .filter(|c| {
                matches!(
                    c.token_kind,
                    Some(TokenKind::Installation | TokenKind::User)
                )
            })
            .collect()
    }

    /// The bodies of the comments posted (issue, pull-request and commit comments), in order.
    pub fn comments(&self) -> Vec<String> {
        self.calls
            .iter()
            .filter(|c| c.method == Method::POST && c.path.ends_with("/comments"))
            .filter(|c| c.status.is_some_and(|s| (200..300).contains(&s)))
            .filter_map(|c| Some(c.json()?.get("body")?.as_str()?.to_owned()))
            .collect()
    }
}

/// Why [`TestBot`](super::TestBot) could not start or receive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestBotError {
    /// The simulator did not start.
    #[error("the simulator did not start: {0}")]
    Simulator(String),
    /// The bot did not start (its definition or settings are invalid).
    #[error("the bot did not start: {0}")]
    Bot(#[source] Arc<crate::Error>),
    /// The delivery could not be built.
    #[error("could not build the delivery: {0}")]
    Request(String),
    /// The receiver refused the delivery.
    #[error("the receiver refused the delivery with {status}: {body}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The answer's body.
        body: String,
    },
    /// The delivery was accepted but could not be fanned out into handler units, for good
    /// (for example its installation could not be looked up within the attempts).
    #[error("delivery {delivery} could not be fanned out into handler units: {error}")]
    FanOut {
        /// The delivery id.
        delivery: String,
        /// The last error.
        error: String,
    },
    /// The delivery's work did not finish in time.
    #[error("delivery {delivery} did not finish within {waited:?}; still pending: {pending:?}")]
    Timeout {
        /// The delivery id.
        delivery: String,
        /// How long it waited.
        waited: Duration,
        /// The handlers and jobs not finished.
        pending: Vec<String>,
    },
}
