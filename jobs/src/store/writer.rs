//! The batching writer: one task takes every push that arrived while the last commit ran and
//! commits them together, under a supervisor that restarts it if it dies.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::{Mutex, Notify, mpsc, oneshot};
use tracing::{debug, error, info, warn};

use super::{NewJob, Store};
use crate::error::Error;
use crate::job::Pushed;

type Reply = oneshot::Sender<Result<Pushed, Error>>;
type Requests = Arc<Mutex<mpsc::Receiver<(NewJob, Reply)>>>;

/// The first wait before a dead writer is started again; doubles while it keeps dying.
const FIRST_RESTART: Duration = Duration::from_secs(1);
const MAX_RESTART: Duration = Duration::from_secs(5);
/// A writer that ran this long before dying starts again after [`FIRST_RESTART`].
const HEALTHY: Duration = Duration::from_secs(60);

const RUNNING: u8 = 0;
const RESTARTING: u8 = 1;
const STOPPED: u8 = 2;

/// A handle to the writer task; pushes go through it.
#[derive(Debug)]
pub(crate) struct Writer {
    requests: mpsc::Sender<(NewJob, Reply)>,
    commits: Arc<AtomicU64>,
    state: Arc<AtomicU8>,
    restarts: Arc<AtomicU64>,
    crash: Arc<Notify>,
}

impl Writer {
    /// Starts the writer (and its supervisor) on `store`; needs a Tokio runtime.
    pub(crate) fn start(store: Store, max_batch: usize, timeout: Duration) -> Writer {
        let (requests, receiver) = mpsc::channel(max_batch.max(1) * 4);
        let writer = Writer {
            requests,
            commits: Arc::default(),
            state: Arc::new(AtomicU8::new(RUNNING)),
            restarts: Arc::default(),
            crash: Arc::default(),
        };
        let task = Task {
            store,
            requests: Arc::new(Mutex::new(receiver)),
            max_batch: max_batch.max(1),
            timeout,
            commits: writer.commits.clone(),
            crash: writer.crash.clone(),
        };
        tokio::spawn(supervise(
            task,
            writer.state.clone(),
            writer.restarts.clone(),
        ));
        writer
    }

    /// Hands `job` to the writer and waits until it is committed (or failed).
    ///
    /// Fails with [`Error::Unavailable`] when the writer's queue stays full for `timeout`,
    /// and [`Error::Closed`] when the writer has stopped for good. While a dead writer is
    /// being restarted, the push waits for the new one.
    pub(crate) async fn push(&self, job: NewJob, timeout: Duration) -> Result<Pushed, Error> {
        let (tx, rx) = oneshot::channel();
        tokio::time::timeout(timeout, self.requests.send((job, tx)))
            .await
            .map_err(|_| Error::Unavailable("push queue is full".into()))?
            .map_err(|_| Error::Closed)?;
        rx.await
            .map_err(|_| Error::Unavailable("the queue writer died with this push".into()))?
    }

    /// How many batches the writer has committed.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Whether the writer runs: [`Error::Unavailable`] while a dead one is being restarted,
    /// [`Error::Closed`] once it has stopped for good.
    pub(crate) fn check(&self) -> Result<(), Error> {
        match self.state.load(Ordering::SeqCst) {
            _ if self.requests.is_closed() => Err(Error::Closed),
            RUNNING => Ok(()),
            RESTARTING => Err(Error::Unavailable(
                "the queue writer died and is restarting".into(),
            )),
            _ => Err(Error::Closed),
        }
    }

    /// Makes the writer task panic outside its per-batch guard, as a bug would; returns once
    /// its supervisor has seen it die (or after 10 s). For tests of supervision only.
    pub(crate) async fn crash_for_tests(&self) {
        let before = self.restarts.load(Ordering::SeqCst);
        self.crash.notify_one();
        let start = Instant::now();
        while self.restarts.load(Ordering::SeqCst) == before
            && start.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// What one run of the writer task needs; cloned for each restart.
#[derive(Clone)]
struct Task {
    store: Store,
    requests: Requests,
    max_batch: usize,
    timeout: Duration,
    commits: Arc<AtomicU64>,
    crash: Arc<Notify>,
}

/// Runs the writer and starts it again whenever it ends for any reason but shutdown (every
/// push handle dropped, or the runtime going away); `state` says which it is, for `ping`.
async fn supervise(task: Task, state: Arc<AtomicU8>, restarts: Arc<AtomicU64>) {
    let mut wait = FIRST_RESTART;
    loop {
        state.store(RUNNING, Ordering::SeqCst);
        let started = Instant::now();
        let ended = tokio::spawn(write_batches(task.clone())).await;
        let why = match ended {
            Ok(()) => {
                debug!("queue writer stopped: every queue handle is gone");
                state.store(STOPPED, Ordering::SeqCst);
                return;
            }
            Err(e) if e.is_cancelled() => {
                debug!("queue writer cancelled: the runtime is shutting down");
                state.store(STOPPED, Ordering::SeqCst);
                return;
            }
            Err(e) => crate::error::panic_message(&*e.into_panic()),
        };
        state.store(RESTARTING, Ordering::SeqCst);
        restarts.fetch_add(1, Ordering::SeqCst);
        if started.elapsed() >= HEALTHY {
            wait = FIRST_RESTART;
        }
        error!(error = %why, restart_in_ms = wait.as_millis() as u64, "queue writer died; restarting it");
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(MAX_RESTART);
        info!("queue writer restarted");
    }
}

/// The writer task: takes everything that arrived while the last commit ran and commits it
/// in one transaction (or one Redis `MULTI`), then answers each caller with its own job's
/// result. A panic while storing a batch fails that batch's pushes and the writer goes on.
async fn write_batches(task: Task) {
    let mut requests = task.requests.lock().await;
    let mut batch: Vec<(NewJob, Reply)> = Vec::with_capacity(task.max_batch);
    loop {
        let received = tokio::select! {
            biased;
            () = task.crash.notified() => panic!("queue writer crashed on purpose (test hook)"),
            n = requests.recv_many(&mut batch, task.max_batch) => n,
        };
        if received == 0 {
            return;
        }
        let (jobs, replies): (Vec<NewJob>, Vec<_>) = batch.drain(..).unzip();
        let stored = AssertUnwindSafe(tokio::time::timeout(
            task.timeout,
            task.store.push_batch(&jobs),
        ))
        .catch_unwind()
        .await;
        let result = match stored {
            Ok(Ok(Ok(pushed))) if pushed.len() == replies.len() => Ok(pushed),
            Ok(Ok(Ok(_))) => Err(Error::Backend("push batch answered short".into())),
            Ok(Ok(Err(e))) => Err(e),
            Ok(Err(_)) => Err(Error::Unavailable("push did not commit in time".into())),
            Err(_) => Err(Error::Backend(
                "the queue writer panicked storing this batch".into(),
            )),
        };
        match result {
            Ok(pushed) => {
                task.commits.fetch_add(1, Ordering::Relaxed);
                debug!(jobs = jobs.len(), "push batch committed");
                for (reply, pushed) in replies.into_iter().zip(pushed) {
                    let _ = reply.send(pushed);
                }
            }
            Err(e) => {
                warn!(jobs = jobs.len(), error = %e, "push batch failed");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}
