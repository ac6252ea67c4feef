//! The batching writer: one task takes every push that arrived while the last commit ran and
//! commits them together, under a supervisor that restarts it if it dies.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::{Mutex, Notify, mpsc, oneshot};
use tracing::{debug, error, info, warn};

use super::{Ack, Leased, NewJob, Store};
use crate::error::Error;
use crate::job::{JobId, Pushed, now_ms};

type Reply = oneshot::Sender<Result<Pushed, Error>>;
type AckReply = oneshot::Sender<Result<bool, Error>>;
type FetchReply = oneshot::Sender<Result<Vec<Leased>, Error>>;
type Requests = Arc<Mutex<mpsc::Receiver<Op>>>;

/// What the writer is asked to store.
#[derive(Debug)]
enum Op {
    Push(NewJob, Reply),
    /// A worker's outcome for a job it holds: `(job, worker, outcome)`.
    Ack(JobId, Arc<str>, Ack, AckReply),
    /// A worker's claim of up to `limit` ready jobs: `(worker, limit)`.
    Fetch(Arc<str>, usize, FetchReply),
}

/// The first wait before a dead writer is started again; doubles while it keeps dying.
const FIRST_RESTART: Duration = Duration::from_secs(1);
const MAX_RESTART: Duration = Duration::from_secs(5);
/// A writer that ran this long before dying starts again after [`FIRST_RESTART`].
const HEALTHY: Duration = Duration::from_secs(60);

const RUNNING: u8 = 0;
const RESTARTING: u8 = 1;
const STOPPED: u8 = 2;

/// A handle to the writer task; pushes and workers' outcomes go through it, so each batch
/// of them shares one commit (one fsync on SQLite).
#[derive(Debug)]
pub(crate) struct Writer {
    requests: mpsc::Sender<Op>,
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
        self.send(Op::Push(job, tx), timeout).await?;
        rx.await
            .map_err(|_| Error::Unavailable("the queue writer died with this push".into()))?
    }

    /// Hands a worker's outcome for job `id` to the writer and waits until it is committed;
    /// `false` when the worker no longer holds the job. Fails as [`push`](Self::push) does.
    pub(crate) async fn ack(
        &self,
        id: JobId,
        worker: Arc<str>,
        ack: Ack,
        timeout: Duration,
    ) -> Result<bool, Error> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Ack(id, worker, ack, tx), timeout).await?;
        rx.await
            .map_err(|_| Error::Unavailable("the queue writer died with this outcome".into()))?
    }

    /// Claims up to `limit` ready jobs for `worker` between the writer's batches, so claims
    /// never wait on the database's write lock behind them. Claimed jobs whose caller went
    /// away meanwhile are handed back to the queue.
    pub(crate) async fn fetch(
        &self,
        worker: Arc<str>,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<Leased>, Error> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Fetch(worker, limit, tx), timeout).await?;
        rx.await
            .map_err(|_| Error::Unavailable("the queue writer died with this claim".into()))?
    }

    async fn send(&self, op: Op, timeout: Duration) -> Result<(), Error> {
        tokio::time::timeout(timeout, self.requests.send(op))
            .await
            .map_err(|_| Error::Unavailable("the queue writer's queue is full".into()))?
            .map_err(|_| Error::Closed)
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
    let mut batch: Vec<Op> = Vec::with_capacity(task.max_batch);
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        while in_flight.len() >= task.store.batches_in_flight() {
            in_flight.join_next().await;
        }
        let received = tokio::select! {
            biased;
            () = task.crash.notified() => panic!("queue writer crashed on purpose (test hook)"),
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => continue,
            n = requests.recv_many(&mut batch, task.max_batch) => n,
        };
        if received == 0 {
            while in_flight.join_next().await.is_some() {}
            return;
        }
        let (mut jobs, mut replies) = (Vec::new(), Vec::new());
        let (mut acks, mut fetches) = (Vec::new(), Vec::new());
        for op in batch.drain(..) {
            match op {
                Op::Push(job, reply) => {
                    jobs.push(job);
                    replies.push(reply);
                }
                Op::Ack(id, worker, ack, reply) => acks.push((id, worker, ack, reply)),
                Op::Fetch(worker, limit, reply) => fetches.push((worker, limit, reply)),
            }
        }
        // Batches are stored side by side (Postgres on connections of its own, Redis
        // pipelined on one), so the next batch gathers while one waits.
        in_flight.spawn(store_gathered(task.clone(), (jobs, replies, acks, fetches)));
    }
}

/// Stores one gathered batch: together in SQL (one statement, or one transaction) when it
/// can, else pushes and outcomes together (one Redis pipeline) and claims after them.
async fn store_gathered(task: Task, gathered: Gathered) {
    let (mut jobs, mut replies, mut acks, mut fetches) = gathered;
    if task.store.is_sql() {
        match write_together(&task, jobs, replies, acks, fetches).await {
            None => return,
            Some(rest) => (jobs, replies, acks, fetches) = rest,
        }
    }
    if !jobs.is_empty() || !acks.is_empty() {
        push_and_ack(&task, jobs, replies, acks).await;
    }
    for (worker, limit, reply) in fetches {
        fetch(&task, worker, limit, reply).await;
    }
}

type Gathered = (
    Vec<NewJob>,
    Vec<Reply>,
    Vec<(JobId, Arc<str>, Ack, AckReply)>,
    Vec<(Arc<str>, usize, FetchReply)>,
);

/// Stores everything gathered in one SQL transaction and answers everyone; `None` when done
/// (committed, or the database unavailable: every caller told), else hands the lot back to
/// be stored part by part (a bad job or outcome then fails alone).
async fn write_together(
    task: &Task,
    jobs: Vec<NewJob>,
    replies: Vec<Reply>,
    acks: Vec<(JobId, Arc<str>, Ack, AckReply)>,
    fetches: Vec<(Arc<str>, usize, FetchReply)>,
) -> Option<Gathered> {
    let ack_ops: Vec<_> = acks
        .iter()
        .map(|(id, worker, ack, _)| (id.clone(), worker.clone(), ack.clone()))
        .collect();
    let claims: Vec<_> = fetches.iter().map(|(w, n, _)| (w.clone(), *n)).collect();
    let started = Instant::now();
    let stored = guarded(
        task,
        "batch",
        task.store.write_together(&jobs, &ack_ops, &claims),
    )
    .await;
    let error = match stored {
        Ok(written)
            if written.pushed.len() == jobs.len()
                && written.acked.len() == acks.len()
                && written.claimed.len() == fetches.len() =>
        {
            task.commits.fetch_add(1, Ordering::Relaxed);
            debug!(
                jobs = jobs.len(),
                outcomes = acks.len(),
                claims = fetches.len(),
                took_us = started.elapsed().as_micros() as u64,
                "batch committed"
            );
            for (reply, pushed) in replies.into_iter().zip(written.pushed) {
                let _ = reply.send(Ok(pushed));
            }
            for ((.., reply), acked) in acks.into_iter().zip(written.acked) {
                let _ = reply.send(Ok(acked));
            }
            for ((worker, _, reply), claimed) in fetches.into_iter().zip(written.claimed) {
                hand_over(task, &worker, Ok(claimed), reply).await;
            }
            return None;
        }
        Ok(_) => Error::Backend("batch answered short".into()),
        Err(e) => e,
    };
    if !error.is_unavailable() {
        warn!(error = %error, "batch failed; storing its parts one by one");
        return Some((jobs, replies, acks, fetches));
    }
    warn!(error = %error, "batch failed");
    for reply in replies {
        let _ = reply.send(Err(error.clone()));
    }
    for (.., reply) in acks {
        let _ = reply.send(Err(error.clone()));
    }
    for (.., reply) in fetches {
        let _ = reply.send(Err(error.clone()));
    }
    None
}

/// Claims jobs for `worker` and hands them over; if the worker stopped waiting, gives them
/// back to the queue at once (attempt returned) rather than leaving them claimed.
async fn fetch(task: &Task, worker: Arc<str>, limit: usize, reply: FetchReply) {
    let claimed = AssertUnwindSafe(tokio::time::timeout(
        task.timeout,
        task.store.fetch(&worker, limit),
    ))
    .catch_unwind()
    .await;
    let result = match claimed {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(Error::Unavailable("claim did not finish in time".into())),
        Err(_) => Err(Error::Backend(
            "the queue writer panicked claiming jobs".into(),
        )),
    };
    hand_over(task, &worker, result, reply).await;
}

/// Gives `worker` its claimed jobs; if it stopped waiting, returns them to the queue.
async fn hand_over(
    task: &Task,
    worker: &str,
    result: Result<Vec<Leased>, Error>,
    reply: FetchReply,
) {
    if let Err(Ok(unwanted)) = reply.send(result) {
        let release = Ack::give_back(now_ms());
        for leased in unwanted {
            if let Err(e) = task.store.ack(&leased.id, worker, &release).await {
                warn!(job = %leased.id, error = %e, "could not return an unwanted claim; it is recovered as an orphan");
            }
        }
    }
}

/// Runs one store operation under the writer's guards: its timeout, and a panic caught and
/// turned into an error.
async fn guarded<T>(
    task: &Task,
    what: &str,
    op: impl Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match AssertUnwindSafe(tokio::time::timeout(task.timeout, op))
        .catch_unwind()
        .await
    {
        Ok(Ok(done)) => done,
        Ok(Err(_)) => Err(Error::Unavailable(format!("{what} did not commit in time"))),
        Err(_) => Err(Error::Backend(format!(
            "the queue writer panicked storing a {what}"
        ))),
    }
}

/// Answers each caller with its result, or all of them with the batch's error.
fn answer<T>(
    what: &str,
    replies: Vec<oneshot::Sender<Result<T, Error>>>,
    result: Result<Vec<Result<T, Error>>, Error>,
) {
    if replies.is_empty() {
        return;
    }
    let result = result.and_then(|done| {
        if done.len() == replies.len() {
            Ok(done)
        } else {
            Err(Error::Backend(format!("{what} answered short")))
        }
    });
    match result {
        Ok(done) => {
            debug!(n = replies.len(), "{what} stored");
            for (reply, done) in replies.into_iter().zip(done) {
                let _ = reply.send(done);
            }
        }
        Err(e) => {
            warn!(n = replies.len(), error = %e, "{what} failed");
            for reply in replies {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

/// Stores one batch of pushes and workers' outcomes (one Redis pipeline; on Postgres,
/// pushes and outcomes each in one transaction) and answers each caller with its own result.
async fn push_and_ack(
    task: &Task,
    jobs: Vec<NewJob>,
    replies: Vec<Reply>,
    acks: Vec<(JobId, Arc<str>, Ack, AckReply)>,
) {
    let (ops, ack_replies): (Vec<_>, Vec<_>) = acks
        .into_iter()
        .map(|(id, worker, ack, reply)| ((id, worker, ack), reply))
        .unzip();
    let stored = guarded(task, "batch", task.store.push_and_ack(jobs, &ops)).await;
    let (pushed, acked) = match stored {
        Ok((pushed, acked)) => (Ok(pushed), Ok(acked)),
        Err(e) => (Err(e.clone()), Err(e)),
    };
    if !replies.is_empty() && pushed.is_ok() {
        task.commits.fetch_add(1, Ordering::Relaxed);
    }
    answer("push batch", replies, pushed);
    answer("outcome batch", ack_replies, acked);
}
