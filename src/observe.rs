//! What the runtime reports about the work it runs, for the test kit's
//! `TestBot`: units fanned out, handler and job outcomes, jobs queued. Off (and free) in a
//! deployed bot, which has no observer.

use tokio::sync::mpsc;

/// One thing the runtime did.
#[derive(Debug, Clone)]
// Read by the test kit only.
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) enum Observed {
    /// A delivery was fanned out into one unit per handler: (handler name, unit job id).
    FannedOut {
        delivery: String,
        units: Vec<(String, String)>,
    },
    /// A handler unit ran once.
    Unit {
        delivery: String,
        handler: String,
        attempt: u32,
        outcome: Result<(), String>,
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
    },
    /// The queue stored what comes after a run of a unit or job (reported after it is
    /// stored, so the queue agrees with what the observer sees).
    Recorded(atombot_jobs::Recorded),
}

/// Where the runtime reports; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Observer(mpsc::UnboundedSender<Observed>);

impl Observer {
    /// An observer and the receiving end of its reports.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn channel() -> (Self, mpsc::UnboundedReceiver<Observed>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), rx)
    }

    /// Reports `what` (dropped if nobody listens any more).
    pub(crate) fn report(&self, what: Observed) {
        let _ = self.0.send(what);
    }
}
