//! Durable background jobs for atombot: one envelope [`Job`] type, named queues on SQLite
//! (default), Redis (feature `redis`) or Postgres (feature `postgres`), retries with backoff,
//! dedupe keys, orphan recovery and graceful shutdown. Knows nothing of AtomGit.
//!
//! 1. Open a [`Queue`] from a [`QueueConfig`] (one URL picks the backend).
//! 2. Push: [`Queue::push`], [`Queue::push_after`], [`Queue::push_unique`]. Concurrent pushes
//!    share one commit, and each returns only once its job is durably stored.
//! 3. Work: [`Queue::worker`] builds a [`WorkerBuilder`]; the handler's [`JobError`] steers
//!    what happens next (retry with backoff or after a delay, postpone without using an
//!    attempt, fail now, or hand an unknown kind back for a bounded time).
//! 4. Inspect: [`Queue::failed`], [`Queue::retry`], [`Queue::stats`], [`Queue::ping`].
//!
//! # On apalis 1.0
//!
//! Workers run on [apalis](https://docs.rs/apalis) 1.0; the storage is our own (durable
//! backoff, dedupe keys that expire and report duplicates, orphans that do not burn attempts,
//! millisecond times, batched commits), exposed to apalis as a custom backend:
//!
//! - [`JobBackend`] ([`Queue::backend`]) implements apalis-core's `Backend` and
//!   `BackendConfig`: it registers the worker, claims jobs as `Task<Job>`s, keeps a heartbeat
//!   that also re-enqueues the jobs of dead workers, and returns unstarted jobs on close.
//! - [`AckLayer`] / [`AckService`] is its backend middleware, which apalis wraps around the
//!   user's layers: it records each result as done, retry at a stored time, failed, or returned
//!   (an unknown kind gives its attempt back, which apalis' statuses cannot express), and
//!   enforces the shutdown timeout apalis lacks.
//! - [`Queue::worker`]`(handler)…run(shutdown)` is a thin wrapper that builds
//!   `apalis::WorkerBuilder::new(name).backend(queue.backend().poll_with_interval(..))
//!   .data(..).concurrency(n).enable_tracing()` plus catch-panic (a panic is retried), and
//!   `.build(handler)`, then stops the worker when `shutdown` completes.
//! - To add other apalis layers, build the worker yourself on [`Queue::backend`]; handlers
//!   may take [`JobContext`] (and apalis extractors such as `Data<T>`) as arguments. The
//!   [`apalis`] and [`apalis_core`] crates are re-exported for matching versions.
//!
//! Delivery is at least once: a job whose worker dies mid-run runs again after the orphan
//! timeout, so handlers should be idempotent (use [`Job::key`]).
//!
//! **Never put tokens or other secrets in payloads or metadata**: they are stored as given.
//!
//! # Example
//! ```no_run
//! use atombot_jobs::{Job, JobContext, JobError, Queue, QueueConfig};
//!
//! # async fn demo() -> Result<(), atombot_jobs::Error> {
//! let queue = Queue::connect(QueueConfig::new("sqlite://atombot.db")).await?;
//! queue.push(Job::new("greet", serde_json::json!({ "issue": 7 })).with_key("greet-7")).await?;
//! queue
//!     .worker(|job: Job, _ctx: JobContext| async move {
//!         match job.kind.as_str() {
//!             "greet" => Ok(()),
//!             _ => Err(JobError::Unknown),
//!         }
//!     })
//!     .name_prefix("bot")
//!     .run(async { let _ = tokio::signal::ctrl_c().await; })
//!     .await
//! # }
//! ```

mod backend;
mod config;
mod error;
mod handoff;
mod job;
pub mod packed;
mod queue;
pub mod settings;
pub mod sqlite_file;
mod store;
mod wiring;
mod worker;

/// The apalis crates this queue runs on, re-exported so users build with matching versions.
pub use apalis;
#[doc(no_inline)]
pub use apalis_core;
#[doc(inline)]
pub use backend::{AckLayer, AckService, JobBackend};
#[doc(inline)]
pub use config::QueueConfig;
#[doc(inline)]
pub use error::{Error, JobError, panic_message};
#[doc(inline)]
pub use job::{FailedJob, Job, JobId, Payload, Pushed, Recorded, RecordedOutcome, Stats};
#[doc(inline)]
pub use queue::Queue;
#[doc(inline)]
pub use worker::{JobContext, WorkerBuilder};
