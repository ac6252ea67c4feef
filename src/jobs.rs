//! Background jobs for bot authors: queue slow work from a handler, run it in a worker with
//! an API client for the delivery's installation.
//!
//! ```no_run
//! use atombot::{Bot, Context, jobs::JobContext};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Lint {
//!     owner: String,
//!     repo: String,
//!     sha: String,
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
//! queued it — an id, never a token. Failed runs are retried with backoff; after the last
//! attempt the job is kept as failed (`atombot jobs failed`, `atombot jobs retry <id>`).

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
use crate::webhook::BoxError;

#[doc(inline)]
pub use atombot_jobs::{FailedJob, Job, JobId, Pushed, Queue, QueueConfig, Stats};

/// Job meta field holding the installation id.
pub(crate) const INSTALLATION: &str = "installation_id";

/// The job kind of a user job type: its Rust type name.
pub fn kind_of<T>() -> &'static str {
    std::any::type_name::<T>()
}

/// Queues user jobs on behalf of one installation (or none). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Jobs {
    queue: Queue,
    installation: Option<InstallationId>,
}

impl Jobs {
    pub(crate) fn new(queue: Queue, installation: Option<InstallationId>) -> Self {
        Self {
            queue,
            installation,
        }
    }

    fn job<T: Serialize>(&self, job: &T) -> Result<Job> {
        let mut envelope = Job::from_args(kind_of::<T>(), job)
            .map_err(|e| Error::InvalidRequest(format!("cannot queue the job: {e}")))?;
        if let Some(id) = self.installation {
            envelope = envelope.with_meta(INSTALLATION, id.0);
        }
        Ok(envelope)
    }

    /// Queues `job` to run as soon as a worker is free.
    ///
    /// Fails with [`Error::Queue`] when the queue cannot store it.
    pub async fn push<T: Serialize>(&self, job: T) -> Result<JobId> {
        Ok(self.queue.push(self.job(&job)?).await?)
    }

    /// Queues `job` to run after `delay`.
    pub async fn push_after<T: Serialize>(&self, delay: Duration, job: T) -> Result<JobId> {
        Ok(self.queue.push_after(delay, self.job(&job)?).await?)
    }

    /// Queues `job` once per `key`: pushing the same key again while the first is stored
    /// (and has not finally failed) does nothing and returns [`Pushed::Duplicate`].
    pub async fn push_unique<T: Serialize>(
        &self,
        key: impl Into<String>,
        job: T,
    ) -> Result<Pushed> {
        Ok(self
            .queue
            .push_unique(self.job(&job)?.with_key(key))
            .await?)
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
    dyn Fn(JobContext, serde_json::Value) -> std::result::Result<JobFuture, String> + Send + Sync,
>;

/// User job handlers by kind.
#[derive(Clone, Default)]
pub(crate) struct JobHandlers(pub(crate) HashMap<String, ErasedHandler>);

impl std::fmt::Debug for JobHandlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl JobHandlers {
    pub(crate) fn add<T: DeserializeOwned + Send + 'static, H: JobHandler<T>>(
        &mut self,
        handler: H,
    ) {
        let handler = Arc::new(handler);
        let erased: ErasedHandler = Arc::new(move |ctx, payload| {
            let job: T = serde_json::from_value(payload)
                .map_err(|e| format!("the job does not decode as {}: {e}", kind_of::<T>()))?;
            Ok(handler.call(ctx, job))
        });
        self.0.insert(kind_of::<T>().to_owned(), erased);
    }
}
