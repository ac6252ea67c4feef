//! What the runtime reports about the work it runs, for the test kit's
//! `TestBot`: units fanned out, handler and job outcomes, jobs queued. Off (and free) in a
//! deployed bot, which has no observer.

use tokio::sync::mpsc;

/// One thing the runtime did.
#[derive(Debug, Clone)]
pub(crate) enum Observed {
    /// A delivery was fanned out into one unit per handler name.
    FannedOut {
        delivery: String,
        handlers: Vec<String>,
    },
    /// A handler unit ran once.
    Unit {
        delivery: String,
        handler: String,
        attempt: u32,
        outcome: Result<(), String>,
        /// No further attempt will follow.
        last: bool,
    },
    /// A user job was queued (by a handler or a job of `delivery`).
    JobQueued {
        id: String,
        kind: String,
        delivery: Option<String>,
    },
    /// A user job ran once.
    Job {
        id: String,
        kind: String,
        delivery: Option<String>,
        attempt: u32,
        outcome: Result<(), String>,
        last: bool,
    },
}

/// Where the runtime reports; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Observer(mpsc::UnboundedSender<Observed>);

impl Observer {
    /// An observer and the receiving end of its reports.
    pub(crate) fn channel() -> (Self, mpsc::UnboundedReceiver<Observed>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), rx)
    }

    /// Reports `what` (dropped if nobody listens any more).
    pub(crate) fn report(&self, what: Observed) {
        let _ = self.0.send(what);
    }
}

/// Whether the queue will run a job again after it returned `result` on `attempt` of
/// `max_attempts` (mirrors the table in `atombot_jobs`' `AckLayer`).
pub(crate) fn is_last(
    result: &Result<(), atombot_jobs::JobError>,
    attempt: u32,
    max_attempts: u32,
) -> bool {
    use atombot_jobs::JobError;
    match result {
        Ok(()) | Err(JobError::Abort(_)) => true,
        Err(JobError::Retry(_) | JobError::RetryAfter(..)) => attempt >= max_attempts,
        // Postponed and unknown work comes back without using an attempt.
        Err(_) => false,
    }
}
