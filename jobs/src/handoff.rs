//! The in-process hand-off: a job this process pushes goes straight to one of its own workers
//! that has a free slot, stored already claimed by it (status running, attempt 1), instead of
//! waiting in the queue for that worker's next claim. Nothing changes in what is stored before
//! the push returns, so a crash loses nothing: the claimed job is recovered as an orphan.
//! Work pushed by other replicas, retries and delayed jobs are still claimed by polling.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::task::Waker;

use futures_util::task::AtomicWaker;
use tokio::sync::mpsc;

use crate::store::Leased;

/// A worker's slots: how many of its jobs are between "handed out" and "outcome recorded".
#[derive(Default)]
pub(crate) struct Slots {
    in_flight: AtomicUsize,
    /// Woken when a slot is freed, so a full worker takes the next job.
    freed: AtomicWaker,
    /// Called when a slot is freed: starts a job waiting in the hand-off queue.
    on_free: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl fmt::Debug for Slots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slots")
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
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

    /// Frees a slot: starts a waiting handed-over job in it, else wakes the worker.
    pub(crate) fn give_back(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if let Some(on_free) = self.on_free.get() {
            on_free();
        }
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
    /// Through its backend's stream (a worker built on [`Queue::backend`](crate::Queue::backend)),
    /// only into a free slot.
    Inbox(mpsc::UnboundedSender<Leased>),
    /// Started at once, beside the backend's stream ([`Queue::worker`](crate::Queue::worker)),
    /// or, with every slot taken, queued here (claimed, so no other worker takes them) to
    /// start as slots free up.
    Direct {
        run: Run,
        waiting: Mutex<VecDeque<Leased>>,
        /// Jobs queued or about to be (reserved): at most `capacity * QUEUED_PER_SLOT`.
        queued: AtomicUsize,
    },
}

/// How many handed-over jobs may wait per slot of a direct worker; past that, pushes are
/// stored unclaimed for any worker to take.
const QUEUED_PER_SLOT: usize = 2;

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
            Target::Direct { .. } => true,
        }
    }

    /// A slot, or else a place in the waiting queue.
    fn reserve(&self) -> Option<bool> {
        if self.slots.try_take(self.capacity) {
            return Some(true);
        }
        let Target::Direct { queued, .. } = &self.target else {
            return None;
        };
        let limit = self.capacity.saturating_mul(QUEUED_PER_SLOT);
        queued
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| false)
    }

    /// Starts waiting jobs while slots are free.
    fn pump(&self) {
        let Target::Direct {
            run,
            waiting,
            queued,
        } = &self.target
        else {
            return;
        };
        loop {
            if lock(waiting).is_empty() || !self.slots.try_take(self.capacity) {
                return;
            }
            let Some(next) = lock(waiting).pop_front() else {
                // Taken by another pump meanwhile: free the slot without pumping again.
                self.slots.in_flight.fetch_sub(1, Ordering::SeqCst);
                continue;
            };
            queued.fetch_sub(1, Ordering::SeqCst);
            run(next);
        }
    }

    /// Takes the waiting jobs out (the worker stops).
    fn drain(&self) -> Vec<Leased> {
        match &self.target {
            Target::Direct {
                waiting, queued, ..
            } => {
                let left: Vec<Leased> = lock(waiting).drain(..).collect();
                queued.fetch_sub(left.len(), Ordering::SeqCst);
                left
            }
            Target::Inbox(_) => Vec::new(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
        let target = Target::Direct {
            run,
            waiting: Mutex::default(),
            queued: AtomicUsize::new(0),
        };
        let local = self.add(name, capacity, slots.clone(), target);
        let local = Arc::downgrade(&local);
        let _ = slots.on_free.set(Box::new(move || {
            if let Some(local) = local.upgrade() {
                local.pump();
            }
        }));
    }

    fn add(
        &self,
        name: Arc<str>,
        capacity: usize,
        slots: Arc<Slots>,
        target: Target,
    ) -> Arc<Local> {
        let mut workers = self.workers.write().unwrap_or_else(|e| e.into_inner());
        let local = Arc::new(Local {
            name,
            capacity: capacity.max(1),
            slots,
            target,
        });
        workers.push(local.clone());
        local
    }

    /// Stops handing jobs to worker `name`; returns the jobs still waiting for one of its
    /// slots (claimed by it: the caller returns them to the queue).
    pub(crate) fn leave(&self, name: &str) -> Vec<Leased> {
        let mut workers = self.workers.write().unwrap_or_else(|e| e.into_inner());
        let mut left = Vec::new();
        workers.retain(|w| {
            if &*w.name == name {
                left.extend(w.drain());
            }
            &*w.name != name
        });
        left
    }

    /// A free slot of one of this process's workers, if any.
    pub(crate) fn reserve(&self) -> Option<Reserved> {
        let workers = self.workers.read().unwrap_or_else(|e| e.into_inner());
        workers.iter().filter(|w| w.open()).find_map(|w| {
            Some(Reserved {
                started: w.reserve()?,
                local: w.clone(),
                armed: true,
            })
        })
    }
}

/// A slot taken for a job about to be pushed; given back when dropped unless the job was
/// handed over.
pub(crate) struct Reserved {
    local: Arc<Local>,
    /// A slot (else a place in the waiting queue).
    started: bool,
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
    pub(crate) fn hand_over(mut self, leased: Leased) -> Result<(), Box<Leased>> {
        match &self.local.target {
            Target::Inbox(inbox) => inbox.send(leased).map_err(|unsent| Box::new(unsent.0))?,
            Target::Direct { run, .. } if self.started => run(leased),
            Target::Direct { waiting, .. } => {
                lock(waiting).push_back(leased);
                self.armed = false;
                // A slot may have been freed since the reservation.
                self.local.pump();
                return Ok(());
            }
        }
        self.armed = false;
        Ok(())
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        match (&self.local.target, self.armed, self.started) {
            (_, false, _) => {}
            (_, true, true) => self.local.slots.give_back(),
            (Target::Direct { queued, .. }, true, false) => {
                queued.fetch_sub(1, Ordering::SeqCst);
            }
            (Target::Inbox(_), true, false) => {}
        }
    }
}
