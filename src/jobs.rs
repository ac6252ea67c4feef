//! Background jobs for bot authors: queue slow work from a handler, run it in a worker with
//! an API client for the delivery's installation.
//!
//! ```no_run
//! use atombot::{Bot, Context, jobs::{Job, JobContext}};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Lint {
//!     owner: String,
//!     repo: String,
//!     sha: String,
//! }
//!
//! impl Job for Lint {
//!     // Stored with every queued `Lint`: rename or move the struct freely, keep the name.
//!     const NAME: &'static str = "lint";
//! }
//!
//! async fn on_push(ctx: Context) -> atombot::Result<()> {
//!     let repo = ctx.repo().expect("pushes name their repository");
//!     let push: atombot::models::webhook::PushEvent = ctx.payload()?;
//!     ctx.jobs().push(Lint { owner: repo.owner, repo: repo.name, sha: push.after }).await?;
//!     Ok(())
//! }
//!
//! async fn lint(ctx: JobContext, job: Lint) -> atombot::Result<()> {
//!     // The token is minted when the job runs, never stored in the queue.
//!     let status = atombot::models::CommitState::Success;
//!     ctx.client().statuses(&job.owner, &job.repo).create(&job.sha, status).send().await?;
//!     Ok(())
//! }
//!
//! # async fn run() -> atombot::Result<()> {
//! Bot::from_env()?.on("push", on_push).job(lint).serve().await
//! # }
//! ```
//!
//! Jobs are stored in the bot's queue (`ATOMBOT_QUEUE`: SQLite by default, Redis or
//! Postgres for several replicas). A job keeps the installation id of the delivery that
//! queued it — an id, never a token. What a failed run leads to (backoff, a later run that
//! keeps its attempt, or failed now) is decided by its error, as for handlers (see
//! [`Retry`](crate::Retry)); after the last attempt the job is kept as failed
//! (`atombot jobs failed`, `atombot jobs retry <id>`).
//!
//! Jobs are stored under their declared [`Job::NAME`]. A process that meets a name it has no
//! handler for (during a rolling deploy, say) hands the job back for one that does, for up
//! to `ATOMBOT_UNKNOWN_TIMEOUT` (1 h); then the job fails with "no worker knows …".

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::models::InstallationId;
use crate::observe::{Observed, Observer};
use crate::state::StateMap;
use crate::webhook::BoxError;

/// A queued unit as the queue stores it (kind, payload, key, metadata).
pub use atombot_jobs::Job as QueuedJob;
#[doc(inline)]
pub use atombot_jobs::{
    FailedJob, JobId, Pushed, Queue, QueueConfig, Recorded, RecordedOutcome, Stats,
};

/// The job queue's own error, the source of [`Error::Queue`] (reach it with
/// [`Error::find_source`]).
pub use atombot_jobs::Error as QueueError;

impl From<QueueError> for Error {
    /// [`Error::Queue`] holding the queue's error.
    fn from(error: QueueError) -> Self {
        Error::Queue {
            source: Box::new(error),
        }
    }
}

/// Job meta field holding the installation id.
pub(crate) const INSTALLATION: &str = "installation_id";

/// Kind prefixes the runtime uses for its own units; user job names may not start with them.
pub(crate) const RESERVED_PREFIXES: [&str; 2] = ["atombot.", "handler:"];

/// A background job type: its arguments, and the name it is queued under.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Lint { sha: String }
///
/// impl atombot::jobs::Job for Lint {
///     const NAME: &'static str = "lint";
/// }
/// ```
pub trait Job: Serialize + DeserializeOwned + Send + 'static {
    /// The name stored with every queued job of this type: unique in the bot and stable
    /// across builds. Renaming or moving the type keeps queued jobs running; changing the
    /// name makes a new kind (jobs queued under the old one wait for a process that knows
    /// it, then fail). Must not start with `atombot.` or `handler:`.
    const NAME: &'static str;
}

/// Queues user jobs on behalf of one installation (or none). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Jobs {
    queue: Queue,
    installation: Option<InstallationId>,
    /// The delivery whose handler (or job) queues, recorded in each job's metadata.
    delivery: Option<String>,
    observer: Option<Observer>,
}

/// Job meta field holding the id of the delivery whose work queued the job.
pub(crate) const DELIVERY: &str = "delivery";

impl Jobs {
    pub(crate) fn new(queue: Queue, installation: Option<InstallationId>) -> Self {
        Self {
            queue,
            installation,
            delivery: None,
            observer: None,
        }
    }

    /// The same, queueing on behalf of `delivery` and reporting to `observer`.
    pub(crate) fn on_behalf_of(
        mut self,
        delivery: Option<String>,
        observer: Option<Observer>,
    ) -> Self {
        self.delivery = delivery;
        self.observer = observer;
        self
    }

    /// The same queue, queueing on behalf of `installation`: its jobs get that
    /// installation's client (a nightly sweep queues one job per installation this way).
    pub fn for_installation(&self, installation: impl Into<InstallationId>) -> Jobs {
        Jobs {
            installation: Some(installation.into()),
            ..self.clone()
        }
    }

    fn queued<T: Job>(&self, id: &JobId) {
        if let Some(observer) = &self.observer {
            observer.report(Observed::JobQueued {
                id: id.0.clone(),
                kind: T::NAME.to_owned(),
                delivery: self.delivery.clone(),
            });
        }
    }

    fn job<T: Job>(&self, job: &T) -> Result<QueuedJob> {
        let mut envelope = QueuedJob::from_args(T::NAME, job)
            .map_err(|e| Error::InvalidRequest(format!("cannot queue the job: {e}")))?;
        if let Some(id) = self.installation {
            envelope = envelope.with_meta(INSTALLATION, id.0);
        }
        if let Some(delivery) = &self.delivery {
            envelope = envelope.with_meta(DELIVERY, delivery.as_str());
        }
        Ok(envelope)
    }

    /// Queues `job` to run as soon as a worker is free.
    ///
    /// Fails with [`Error::Queue`] when the queue cannot store it.
    pub async fn push<T: Job>(&self, job: T) -> Result<JobId> {
        let id = self.queue.push(self.job(&job)?).await?;
        self.queued::<T>(&id);
        Ok(id)
    }

    /// Queues `job` to run after `delay`.
    pub async fn push_after<T: Job>(&self, delay: Duration, job: T) -> Result<JobId> {
        let id = self.queue.push_after(delay, self.job(&job)?).await?;
        self.queued::<T>(&id);
        Ok(id)
    }

    /// Queues `job` once per `key`: pushing the same key again while the first is stored
    /// (and has not finally failed) does nothing and returns [`Pushed::Duplicate`].
    pub async fn push_unique<T: Job>(&self, key: impl Into<String>, job: T) -> Result<Pushed> {
        let pushed = self
            .queue
            .push_unique(self.job(&job)?.with_key(key))
            .await?;
        if let Pushed::Enqueued(id) = &pushed {
            self.queued::<T>(id);
        }
        Ok(pushed)
    }
}

/// What a user job handler receives besides the job itself.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub(crate) client: Client,
    pub(crate) installation: Option<InstallationId>,
    pub(crate) jobs: Jobs,
    pub(crate) id: JobId,
    pub(crate) attempt: u32,
    pub(crate) key: Option<String>,
    pub(crate) state: StateMap,
}

impl JobContext {
    /// An API client for the job's installation, its `ats_` token minted (or taken from
    /// the cache) now; the app's client when the job has no installation.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The installation of the delivery that queued the job.
    pub fn installation_id(&self) -> Option<InstallationId> {
        self.installation
    }

    /// Queues follow-up jobs for the same installation.
    pub fn jobs(&self) -> &Jobs {
        &self.jobs
    }

    /// Which run this is, from 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The bot's shared value of type `S` (given with [`Bot::with_state`]).
    ///
    /// Fails with [`Error::Definition`] naming `S` when the bot was given none.
    ///
    /// [`Bot::with_state`]: crate::Bot::with_state
    pub fn state<S: Send + Sync + 'static>(&self) -> Result<Arc<S>> {
        self.state.get::<S>()
    }

    /// A key stable across retries of this job, for your own side effects.
    pub fn idempotency_key(&self) -> &str {
        self.key.as_deref().unwrap_or(&self.id.0)
    }
}

/// The future a job handler returns, boxed.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send + 'static>>;

/// A handler for jobs of type `T`: any `async fn(JobContext, T) -> Result<(), E>`.
pub trait JobHandler<T>: Send + Sync + 'static {
    /// Runs the job.
    fn call(&self, ctx: JobContext, job: T) -> JobFuture;
}

impl<T, F, Fut, E> JobHandler<T> for F
where
    F: Fn(JobContext, T) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError>,
{
    fn call(&self, ctx: JobContext, job: T) -> JobFuture {
        let fut = self(ctx, job);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

/// A registered handler, its job type erased.
pub(crate) type ErasedHandler = Arc<
    dyn Fn(JobContext, &atombot_jobs::Payload) -> std::result::Result<JobFuture, String>
        + Send
        + Sync,
>;

/// User job handlers by name.
#[derive(Clone, Default)]
pub(crate) struct JobHandlers {
    pub(crate) by_name: HashMap<String, ErasedHandler>,
    /// Names registered more than once (a start-up error).
    twice: Vec<String>,
}

impl std::fmt::Debug for JobHandlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.by_name.keys()).finish()
    }
}

impl JobHandlers {
    pub(crate) fn add<T: Job, H: JobHandler<T>>(&mut self, handler: H) {
        let handler = Arc::new(handler);
        let erased: ErasedHandler = Arc::new(move |ctx, payload| {
            let job: T = payload
                .args()
                .map_err(|e| format!("the job does not decode as {}: {e}", T::NAME))?;
            Ok(handler.call(ctx, job))
        });
        if self.by_name.insert(T::NAME.to_owned(), erased).is_some() {
            self.twice.push(T::NAME.to_owned());
        }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&ErasedHandler> {
        self.by_name.get(name)
    }

    /// Fails naming a job name that is registered twice, empty, or reserved.
    pub(crate) fn check_names(&self) -> std::result::Result<(), String> {
        if let Some(name) = self.twice.first() {
            return Err(format!("job name {name:?} is registered twice"));
        }
        for name in self.by_name.keys() {
            if name.trim().is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
                return Err(format!(
                    "job name {name:?} must be 1 to 200 bytes without control characters"
                ));
            }
            if let Some(prefix) = RESERVED_PREFIXES.iter().find(|p| name.starts_with(**p)) {
                return Err(format!(
                    "job name {name:?} starts with {prefix:?}, which atombot reserves"
                ));
            }
        }
        Ok(())
    }
}
