//! The in-process hand-off: a job this process pushes goes straight to one of its own workers
//! that has a free slot, stored already claimed by it (status running, attempt 1), instead of
//! waiting in the queue for that worker's next claim. Nothing changes in what is stored before
//! the push returns, so a crash loses nothing: the claimed job is recovered as an orphan.
//! Work pushed by other replicas, retries and delayed jobs are still claimed by polling.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::task::Waker;

use futures_util::task::AtomicWaker;
use tokio::sync::mpsc;

use crate::store::Leased;

/// A worker's slots: how many of its jobs are between "handed out" and "outcome recorded".
#[derive(Debug, Default)]
pub(crate) struct Slots {
    in_flight: AtomicUsize,
    /// Woken when a slot is freed, so a full worker takes the next job.
    freed: AtomicWaker,
}

impl Slots {
    /// Jobs handed out whose outcome is not recorded yet.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Takes a slot whatever the count (a job the worker claimed itself).
    pub(crate) fn take(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
    }

    /// Takes a slot if fewer than `capacity` are taken.
    fn try_take(&self, capacity: usize) -> bool {
        self.in_flight
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < capacity).then_some(n + 1)
            })
            .is_ok()
    }

    /// Frees a slot and wakes the worker waiting for one.
    pub(crate) fn give_back(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.freed.wake();
    }

    /// Wakes `waker` when a slot is freed.
    pub(crate) fn wake_on_free(&self, waker: &Waker) {
        self.freed.register(waker);
    }
}

/// Runs a handed-over job at once (on a task of its own).
pub(crate) type Run = Arc<dyn Fn(Leased) + Send + Sync>;

/// Where a worker takes handed-over jobs.
enum Target {
    /// Through its backend's stream (a worker built on [`Queue::backend`](crate::Queue::backend)).
    Inbox(mpsc::UnboundedSender<Leased>),
    /// Started at once, beside the backend's stream ([`Queue::worker`](crate::Queue::worker)).
    Direct(Run),
}

/// One worker of this process that takes handed-over jobs.
struct Local {
    name: Arc<str>,
    capacity: usize,
    slots: Arc<Slots>,
    target: Target,
}

impl Local {
    fn open(&self) -> bool {
        match &self.target {
            Target::Inbox(inbox) => !inbox.is_closed(),
            Target::Direct(_) => true,
        }
    }
}

/// The workers of this process that take jobs straight from its pushes.
#[derive(Default)]
pub(crate) struct Handoff {
    workers: RwLock<Vec<Arc<Local>>>,
}

impl fmt::Debug for Handoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let workers = self.workers.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Handoff")
            .field(
                "workers",
                &workers.iter().map(|w| &*w.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Handoff {
    /// Registers worker `name`, which runs at most `capacity` jobs counted in `slots`; the
    /// jobs handed to it arrive on the returned inbox, already counted in `slots`.
    pub(crate) fn join(
        &self,
        name: Arc<str>,
        capacity: usize,
        slots: Arc<Slots>,
    ) -> mpsc::UnboundedReceiver<Leased> {
        let (inbox, rx) = mpsc::unbounded_channel();
        self.add(name, capacity, slots, Target::Inbox(inbox));
        rx
    }

    /// Registers worker `name` as [`join`](Self::join) does, its handed-over jobs started
    /// by `run`.
    pub(crate) fn join_direct(&self, name: Arc<str>, capacity: usize, slots: Arc<Slots>, run: Run) {
        self.add(name, capacity, slots, Target::Direct(run));
    }

    fn add(&self, name: Arc<str>, capacity: usize, slots: Arc<Slots>, target: Target) {
        let mut workers = self.workers.write().unwrap_or_else(|e| e.into_inner());
        workers.push(Arc::new(Local {
            name,
            capacity: capacity.max(1),
            slots,
            target,
        }));
    }

    /// Stops handing jobs to worker `name`.
    pub(crate) fn leave(&self, name: &str) {
        let mut workers = self.workers.write().unwrap_or_else(|e| e.into_inner());
        workers.retain(|w| &*w.name != name);
    }

    /// A free slot of one of this process's workers, if any.
    pub(crate) fn reserve(&self) -> Option<Reserved> {
        let workers = self.workers.read().unwrap_or_else(|e| e.into_inner());
        let local = workers
            .iter()
            .find(|w| w.open() && w.slots.try_take(w.capacity))?;
        Some(Reserved {
            local: local.clone(),
            armed: true,
        })
    }
}

/// A slot taken for a job about to be pushed; given back when dropped unless the job was
/// handed over.
pub(crate) struct Reserved {
    local: Arc<Local>,
    armed: bool,
}

impl fmt::Debug for Reserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reserved")
            .field("worker", &self.local.name)
            .finish()
    }
}

impl Reserved {
    /// The worker the job is to be stored as claimed by.
    pub(crate) fn worker(&self) -> Arc<str> {
        self.local.name.clone()
    }

    /// Hands the stored, claimed job to the worker; gives it back if the worker stopped
    /// meanwhile (the caller then returns it to the queue).
    pub(crate) fn hand_over(mut self, leased: Leased) -> Result<(), Leased> {
        match &self.local.target {
            Target::Inbox(inbox) => inbox.send(leased).map_err(|unsent| unsent.0)?,
            Target::Direct(run) => run(leased),
        }
        self.armed = false;
        Ok(())
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if self.armed {
            self.local.slots.give_back();
        }
    }
}
