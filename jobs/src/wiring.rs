//! Where a queue meets its workers: [`Queue::backend`], [`Queue::worker`] and
//! [`JobContext::queue`] live here, so that `queue`, `backend` and `worker` never import each
//! other (queue → store; backend → store; worker → backend).

use crate::backend::JobBackend;
use crate::error::JobError;
use crate::job::Job;
use crate::queue::Queue;
use crate::worker::{JobContext, WorkerBuilder};

impl Queue {
    /// A builder for a worker that runs `handler` for each job of this queue.
    ///
    /// See [`WorkerBuilder`] for the options and [`JobError`] for what handler errors do.
    pub fn worker<F, Fut>(&self, handler: F) -> WorkerBuilder<F>
    where
        F: Fn(Job, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        WorkerBuilder::new(self.backend(), handler)
    }

    /// This queue as an apalis-core 1.0 backend, for building apalis workers directly:
    /// `apalis::prelude::WorkerBuilder::new(name).backend(queue.backend())…` (see [`JobBackend`]).
    /// [`Queue::worker`] does this for you.
    pub fn backend(&self) -> JobBackend {
        JobBackend::new(self.parts().clone())
    }
}

impl JobContext {
    /// The queue the job came from, to push follow-up jobs (a cheap handle).
    pub fn queue(&self) -> Queue {
        Queue::from_parts(self.lease.parts.clone())
    }
}
