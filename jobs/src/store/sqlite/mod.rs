//! The SQLite store: one connection, owned by a thread of its own, that group-commits.
//!
//! [`SqliteStore`] is a cheap handle: each call sends a request to the thread and awaits the
//! reply. The thread blocks for a request, then takes every request already waiting (up to
//! `max_batch`) and runs all the writes among them in one `BEGIN IMMEDIATE` transaction (one
//! fsync for the lot), each inside a savepoint, so a failing request rolls back alone and gets
//! its own error while the rest commit. Once the commit is through it answers every writer,
//! then runs the batch's reads (stats, failed jobs, lease checks, ping) outside the
//! transaction. Concurrent callers — pushes, outcomes, claims from many tasks — thus share
//! commits without any task of their own to batch them.
//!
//! Robustness: a panic while serving a batch is caught; that batch's callers get an error
//! (explicitly, or by their reply channel closing), the open transaction is rolled back, and
//! the thread goes on with the next batch. Should the thread end anyway, every later call
//! fails with [`Error::Unavailable`]. The thread ends, closing the database, once every
//! handle is dropped.

use std::cell::Cell;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;
use tracing::{debug, error, warn};

use crate::config::QueueConfig;
use crate::error::Error;
use crate::job::{FailedJob, JobId, Pushed, Stats, dur_ms, now_ms};
use crate::store::{Ack, Leased, NewJob};

mod checkpoint;
pub(crate) mod ops;

use ops::Keep;

/// Where the thread sends one request's answer.
type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// What the thread is asked to do, with where its answer goes.
enum Request {
    Push(Vec<NewJob>, Reply<Vec<Result<Pushed, Error>>>),
    /// A worker's outcome: `(job, worker, outcome)`.
    Ack(JobId, String, Ack, Reply<bool>),
    AckBatch(Vec<(JobId, Arc<str>, Ack)>, Reply<Vec<Result<bool, Error>>>),
    /// A claim of up to `limit` ready jobs: `(worker, limit)`.
    Fetch(String, usize, Reply<Vec<Leased>>),
    Heartbeat(String, Keep, Reply<u64>),
    Deregister(String, Reply<()>),
    /// A failed job queued again, its key claimed for `dedupe_ttl` ms.
    Retry(JobId, i64, Reply<bool>),
    StillLeased(String, Vec<JobId>, Reply<Vec<JobId>>),
    Failed(usize, Reply<Vec<FailedJob>>),
    Stats(Reply<Stats>),
    Ping(Reply<()>),
    /// Says it runs, then blocks the thread until the sender of the receiver is dropped
    /// (tests: the requests sent meanwhile make one batch).
    #[cfg(test)]
    Hold(oneshot::Sender<()>, mpsc::Receiver<()>, Reply<()>),
    /// Panics on the thread (tests: a bug).
    #[cfg(test)]
    Panic(Reply<()>),
}

/// `$body` with `$reply` bound to the request's reply channel, whatever its type.
macro_rules! with_reply {
    ($request:expr, $reply:ident => $body:expr) => {
        match $request {
            Request::Push(_, $reply) => $body,
            Request::Ack(.., $reply) => $body,
            Request::AckBatch(_, $reply) => $body,
            Request::Fetch(.., $reply) => $body,
            Request::Heartbeat(.., $reply) => $body,
            Request::Deregister(_, $reply) => $body,
            Request::Retry(.., $reply) => $body,
            Request::StillLeased(.., $reply) => $body,
            Request::Failed(_, $reply) => $body,
            Request::Stats($reply) => $body,
            Request::Ping($reply) => $body,
            #[cfg(test)]
            Request::Hold(.., $reply) => $body,
            #[cfg(test)]
            Request::Panic($reply) => $body,
        }
    };
}

impl Request {
    /// Whether it only reads (runs outside the batch's transaction).
    fn reads(&self) -> bool {
        match self {
            Request::StillLeased(..)
            | Request::Failed(..)
            | Request::Stats(_)
            | Request::Ping(_) => true,
            #[cfg(test)]
            Request::Hold(..) => true,
            _ => false,
        }
    }

    /// Whether its caller stopped waiting (timed out, cancelled): then it is not run, so a
    /// caller told it failed never has it stored, and no claim is left with nobody to run it.
    fn abandoned(&self) -> bool {
        with_reply!(self, reply => reply.is_closed())
    }

    /// Answers it with `e`.
    fn fail(self, e: Error) {
        with_reply!(self, reply => drop(reply.send(Err(e))));
    }
}

/// A write's result, held until its transaction's commit is through.
enum Answer {
    Pushed(
        Reply<Vec<Result<Pushed, Error>>>,
        Vec<Result<Pushed, Error>>,
    ),
    Acked(Reply<Vec<Result<bool, Error>>>, Vec<Result<bool, Error>>),
    Flag(Reply<bool>, Result<bool, Error>),
    Count(Reply<u64>, Result<u64, Error>),
    Unit(Reply<()>, Result<(), Error>),
    /// Jobs claimed for a worker (named, to give them back should it have stopped waiting).
    Claimed(String, Reply<Vec<Leased>>, Result<Vec<Leased>, Error>),
}

impl Answer {
    /// Sends the result, or `failed` (the transaction's error) in its place; returns the
    /// jobs claimed for a worker that no longer waits for them.
    fn send(self, failed: Option<&Error>) -> Option<(String, Vec<JobId>)> {
        fn all<T>(done: T, failed: Option<&Error>) -> Result<T, Error> {
            failed.map_or(Ok(done), |e| Err(e.clone()))
        }
        fn one<T>(done: Result<T, Error>, failed: Option<&Error>) -> Result<T, Error> {
            failed.map_or(done, |e| Err(e.clone()))
        }
        match self {
            Answer::Pushed(reply, done) => drop(reply.send(all(done, failed))),
            Answer::Acked(reply, done) => drop(reply.send(all(done, failed))),
            Answer::Flag(reply, done) => drop(reply.send(one(done, failed))),
            Answer::Count(reply, done) => drop(reply.send(one(done, failed))),
            Answer::Unit(reply, done) => drop(reply.send(one(done, failed))),
            Answer::Claimed(worker, reply, done) => {
                if let Err(Ok(unwanted)) = reply.send(one(done, failed))
                    && !unwanted.is_empty()
                {
                    return Some((worker, unwanted.into_iter().map(|l| l.id).collect()));
                }
            }
        }
        None
    }
}

/// What an unguarded write did, until its request's reply channel joins it.
enum Done {
    Pushed(Vec<Result<Pushed, Error>>),
    Acked(Vec<Result<bool, Error>>),
    Flag(bool),
    Count(u64),
    Unit,
    Claimed(Vec<Leased>),
}

impl Done {
    /// The answer to `request`, the request this was done for.
    fn answer(self, request: Request) -> Answer {
        match (self, request) {
            (Done::Pushed(done), Request::Push(_, reply)) => Answer::Pushed(reply, done),
            (Done::Acked(done), Request::AckBatch(_, reply)) => Answer::Acked(reply, done),
            (Done::Flag(done), Request::Ack(.., reply) | Request::Retry(.., reply)) => {
                Answer::Flag(reply, Ok(done))
            }
            (Done::Count(n), Request::Heartbeat(.., reply)) => Answer::Count(reply, Ok(n)),
            (Done::Unit, Request::Deregister(_, reply)) => Answer::Unit(reply, Ok(())),
            (Done::Claimed(jobs), Request::Fetch(worker, _, reply)) => {
                Answer::Claimed(worker, reply, Ok(jobs))
            }
            (_, request) => {
                let e = Error::Backend("a write's result was paired with another request".into());
                request.fail(e.clone());
                Answer::Unit(oneshot::channel().0, Err(e))
            }
        }
    }
}

/// Runs `f` inside a savepoint: kept if it succeeds, rolled back alone if it fails. Once a
/// failure has taken the whole transaction with it (SQLite rolls back on some errors, such
/// as a full disk), `lost` holds the error and nothing more runs.
fn alone<T>(
    conn: &Connection,
    lost: &mut Option<Error>,
    f: impl FnOnce() -> Result<T, Error>,
) -> Result<T, Error> {
    if let Some(e) = lost {
        return Err(e.clone());
    }
    let run = || -> Result<Result<T, Error>, Error> {
        ops::exec(conn, "SAVEPOINT request")?;
        match f() {
            Ok(done) => {
                ops::exec(conn, "RELEASE request")?;
                Ok(Ok(done))
            }
            // SQLite rolled the whole transaction back.
            Err(e) if conn.is_autocommit() => Err(e),
            Err(e) => {
                ops::exec(conn, "ROLLBACK TO request")?;
                ops::exec(conn, "RELEASE request")?;
                Ok(Err(e))
            }
        }
    };
    run().unwrap_or_else(|e| {
        *lost = Some(e.clone());
        Err(e)
    })
}

/// The thread's state: the connection and what the store's requests need.
struct Thread {
    conn: Connection,
    queue: String,
    /// This replica's clock offset (tests only); lease times use the database's clock.
    skew_ms: i64,
    max_batch: usize,
    commits: Arc<AtomicU64>,
    /// Kept bodies the file holds at most ([`QueueConfig::keep_bodies`]).
    kept_max: i64,
    /// Kept bodies stored since the last prune of the oldest beyond `kept_max`.
    kept_since_prune: Cell<usize>,
}

/// The most kept bodies `config` lets a file hold, as SQL compares it.
fn bodies_max(config: &QueueConfig) -> i64 {
    i64::try_from(config.keep_bodies_max).unwrap_or(i64::MAX)
}

/// Kept bodies stored between two prunes in the write path; each prunes up to twice as
/// many, so it catches up with what a heartbeat left.
const PRUNE_AFTER_KEPT: usize = 64;

impl Thread {
    /// Serves batches of requests until every handle is gone.
    fn run(self, requests: &mpsc::Receiver<Request>) {
        let mut batch = Vec::with_capacity(self.max_batch);
        let mut reads = Vec::new();
        while let Ok(first) = requests.recv() {
            batch.push(first);
            while batch.len() < self.max_batch {
                match requests.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            let served =
                std::panic::catch_unwind(AssertUnwindSafe(|| self.serve(&mut batch, &mut reads)));
            if let Err(panic) = served {
                let why = crate::error::panic_message(&*panic);
                error!(error = %why, "the SQLite store's thread panicked; failing its batch");
                self.roll_back();
                let e = Error::Backend(format!("the SQLite store panicked: {why}"));
                for request in batch.drain(..).chain(reads.drain(..)) {
                    request.fail(e.clone());
                }
            }
            batch.clear();
            reads.clear();
        }
        debug!(queue = %self.queue, "SQLite store stopped: every handle is gone");
    }

    /// This replica's idea of now, in milliseconds.
    fn now(&self) -> i64 {
        now_ms().saturating_add(self.skew_ms)
    }

    /// Ends an open transaction, keeping nothing of it.
    fn roll_back(&self) {
        if !self.conn.is_autocommit()
            && let Err(e) = self.conn.execute_batch("ROLLBACK")
        {
            warn!(error = %e, "SQLite rollback failed");
        }
    }

    /// Runs one batch: the writes in one transaction, then their answers, then the reads.
    fn serve(&self, batch: &mut Vec<Request>, reads: &mut Vec<Request>) {
        let now = self.now();
        let mut answers = Vec::with_capacity(batch.len());
        let mut keep = None;
        let committed = match self.write_unguarded(batch, reads, now, &mut answers, &mut keep) {
            Some(committed) => committed,
            None => self.write(batch, reads, now, &mut answers, &mut keep),
        };
        if let Err(e) = &committed {
            warn!(requests = answers.len(), error = %e, "SQLite batch failed");
        }
        let unwanted: Vec<_> = answers
            .into_iter()
            .filter_map(|a| a.send(committed.as_ref().err()))
            .collect();
        if !unwanted.is_empty() {
            self.give_back(&unwanted, now);
        }
        if let (Ok(()), Some(keep)) = (&committed, keep) {
            self.housekeeping(now, keep);
        }
        for request in reads.drain(..) {
            if !request.abandoned() {
                self.read(request);
            }
        }
    }

    /// [`write`](Self::write) without a savepoint per request, which costs a copy of every
    /// page a request changes: the common case, where nothing fails. On the first failure
    /// the transaction is rolled back and `None` returned, `batch` untouched, for `write` to
    /// run it again request by request.
    fn write_unguarded(
        &self,
        batch: &mut Vec<Request>,
        reads: &mut Vec<Request>,
        now: i64,
        answers: &mut Vec<Answer>,
        keep: &mut Option<Keep>,
    ) -> Option<Result<(), Error>> {
        // Which requests run, decided once: a caller may stop waiting meanwhile.
        let runs: Vec<bool> = batch.iter().map(|r| !r.reads() && !r.abandoned()).collect();
        if !runs.contains(&true) {
            return None;
        }
        let writes = batch
            .iter()
            .zip(&runs)
            .filter(|(_, runs)| **runs)
            .map(|(r, _)| r);
        let (conn, queue) = (&self.conn, self.queue.as_str());
        if ops::exec(conn, "BEGIN IMMEDIATE").is_err() {
            return None;
        }
        let mut done_count = 0;
        let mut kept = self.kept_since_prune.get();
        let mut results = Vec::with_capacity(batch.len());
        let mut beat = None;
        let ran = (|| -> Result<(), Error> {
            for request in writes {
                let done = match request {
                    Request::Push(jobs, _) => {
                        kept += jobs.iter().filter(|job| job.keeps_body()).count();
                        Done::Pushed(
                            jobs.iter()
                                .map(|job| ops::push(conn, queue, job, now).map(Ok))
                                .collect::<Result<_, _>>()?,
                        )
                    }
                    Request::Ack(id, worker, ack, _) => {
                        let acked = ops::ack(conn, queue, &id.0, worker, ack, now)?;
                        done_count += u64::from(matches!(ack, Ack::Done) && acked);
                        Done::Flag(acked)
                    }
                    Request::AckBatch(acks, _) => Done::Acked(
                        acks.iter()
                            .map(|(id, worker, ack)| {
                                let acked = ops::ack(conn, queue, &id.0, worker, ack, now)?;
                                done_count += u64::from(matches!(ack, Ack::Done) && acked);
                                Ok(Ok(acked))
                            })
                            .collect::<Result<_, Error>>()?,
                    ),
                    Request::Fetch(worker, limit, _) => {
                        Done::Claimed(ops::claim(conn, queue, worker, *limit, now)?)
                    }
                    Request::Heartbeat(worker, housekeeping, _) => {
                        let n = ops::beat(conn, queue, worker, now, housekeeping.orphan_ms)?;
                        beat = Some(*housekeeping);
                        Done::Count(n)
                    }
                    Request::Deregister(worker, _) => {
                        ops::deregister(conn, worker)?;
                        Done::Unit
                    }
                    Request::Retry(id, ttl_ms, _) => {
                        let expires = now.saturating_add(*ttl_ms);
                        Done::Flag(ops::retry(conn, queue, &id.0, now, expires)?)
                    }
                    // Test hooks and reads take the guarded path.
                    _ => return Err(Error::Backend("not an unguarded write".into())),
                };
                results.push(done);
            }
            if done_count > 0 {
                ops::count_done(conn, queue, done_count)?;
            }
            if kept >= PRUNE_AFTER_KEPT {
                ops::prune_kept_bodies_beyond(conn, self.kept_max, 2 * PRUNE_AFTER_KEPT)?;
                kept = 0;
            }
            Ok(())
        })();
        if ran.is_err() {
            self.roll_back();
            return None;
        }
        let committed = ops::exec(conn, "COMMIT");
        match &committed {
            Ok(()) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                self.kept_since_prune.set(kept);
                *keep = beat;
            }
            Err(_) => self.roll_back(),
        }
        let mut results = results.into_iter();
        for (request, runs) in batch.drain(..).zip(runs) {
            if request.reads() {
                reads.push(request);
            } else if let (true, Some(done)) = (runs, results.next()) {
                answers.push(done.answer(request));
            }
        }
        Some(committed)
    }

    /// Runs the writes of `batch` in one transaction, moving its reads to `reads`; their
    /// answers wait in `answers` for the commit, whose outcome this returns. `keep` is set
    /// when a heartbeat asks for housekeeping.
    fn write(
        &self,
        batch: &mut Vec<Request>,
        reads: &mut Vec<Request>,
        now: i64,
        answers: &mut Vec<Answer>,
        keep: &mut Option<Keep>,
    ) -> Result<(), Error> {
        let mut lost: Option<Error> = None;
        let mut open = false;
        let mut done = 0;
        for request in batch.drain(..) {
            if request.reads() {
                reads.push(request);
            } else if request.abandoned() {
                continue;
            } else if let Some(e) = &lost {
                request.fail(e.clone());
            } else if !open && let Err(e) = ops::exec(&self.conn, "BEGIN IMMEDIATE") {
                // Begun at the first write (the write lock up front, so two processes never
                // deadlock upgrading a read lock); failing, it fails every write.
                request.fail(e.clone());
                lost = Some(e);
            } else {
                open = true;
                self.apply(request, now, answers, &mut done, keep, &mut lost);
            }
        }
        if !open {
            return lost.map_or(Ok(()), Err);
        }
        if lost.is_none()
            && done > 0
            && let Err(e) = ops::count_done(&self.conn, &self.queue, done)
        {
            lost = Some(e);
        }
        let committed = match lost {
            None => ops::exec(&self.conn, "COMMIT"),
            Some(e) => Err(e),
        };
        match &committed {
            Ok(()) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => self.roll_back(),
        }
        committed
    }

    /// Runs one write request inside the open transaction; its answer goes to `answers`.
    fn apply(
        &self,
        request: Request,
        now: i64,
        answers: &mut Vec<Answer>,
        done: &mut u64,
        keep: &mut Option<Keep>,
        lost: &mut Option<Error>,
    ) {
        let (conn, queue) = (&self.conn, self.queue.as_str());
        let mut ack = |id: &JobId, worker: &str, ack: &Ack| {
            let acked = alone(conn, lost, || {
                ops::ack(conn, queue, &id.0, worker, ack, now)
            });
            if matches!((ack, &acked), (Ack::Done, Ok(true))) {
                *done += 1;
            }
            acked
        };
        let answer = match request {
            Request::Ack(id, worker, outcome, reply) => {
                Answer::Flag(reply, ack(&id, &worker, &outcome))
            }
            Request::AckBatch(acks, reply) => {
                let acked = acks.iter().map(|(id, w, a)| ack(id, w, a)).collect();
                Answer::Acked(reply, acked)
            }
            Request::Push(jobs, reply) => {
                let pushed = jobs
                    .iter()
                    .map(|job| alone(conn, lost, || ops::push(conn, queue, job, now)))
                    .collect();
                Answer::Pushed(reply, pushed)
            }
            Request::Fetch(worker, limit, reply) => {
                let claimed = alone(conn, lost, || ops::claim(conn, queue, &worker, limit, now));
                Answer::Claimed(worker, reply, claimed)
            }
            Request::Heartbeat(worker, housekeeping, reply) => {
                let orphan_ms = housekeeping.orphan_ms;
                let beat = alone(conn, lost, || {
                    ops::beat(conn, queue, &worker, now, orphan_ms)
                });
                if beat.is_ok() {
                    *keep = Some(housekeeping);
                }
                Answer::Count(reply, beat)
            }
            Request::Deregister(worker, reply) => {
                Answer::Unit(reply, alone(conn, lost, || ops::deregister(conn, &worker)))
            }
            Request::Retry(id, ttl_ms, reply) => {
                let expires = now.saturating_add(ttl_ms);
                let retried = alone(conn, lost, || ops::retry(conn, queue, &id.0, now, expires));
                Answer::Flag(reply, retried)
            }
            #[cfg(test)]
            Request::Panic(_) => panic!("the SQLite store panicked on purpose (test)"),
            read => return self.read(read),
        };
        answers.push(answer);
    }

    /// Answers a read-only request.
    fn read(&self, request: Request) {
        let (conn, queue) = (&self.conn, self.queue.as_str());
        match request {
            Request::StillLeased(worker, ids, reply) => {
                drop(reply.send(ops::still_leased(conn, queue, &worker, ids)));
            }
            Request::Failed(limit, reply) => drop(reply.send(ops::failed(conn, queue, limit))),
            Request::Stats(reply) => drop(reply.send(ops::stats(conn, queue))),
            Request::Ping(reply) => drop(reply.send(ops::ping(conn))),
            #[cfg(test)]
            Request::Hold(running, release, reply) => {
                let _ = running.send(());
                let _ = release.recv();
                drop(reply.send(Ok(())));
            }
            write => write.fail(Error::Backend("a write was routed as a read".into())),
        }
    }

    /// Returns to the queue (attempt given back) jobs claimed for workers that stopped
    /// waiting; those it cannot return are recovered as orphans.
    fn give_back(&self, unwanted: &[(String, Vec<JobId>)], now: i64) {
        let release = Ack::give_back(now);
        let returned = ops::exec(&self.conn, "BEGIN IMMEDIATE").and_then(|()| {
            for (worker, ids) in unwanted {
                for id in ids {
                    ops::ack(&self.conn, &self.queue, &id.0, worker, &release, now)?;
                }
            }
            ops::exec(&self.conn, "COMMIT")
        });
        if let Err(e) = returned {
            self.roll_back();
            warn!(error = %e, "could not return unwanted claims; they are recovered as orphans");
        }
    }

    /// Deletes what expired, in its own transaction after the batch's answers are out; a
    /// failure is only logged (the next heartbeat tries again).
    fn housekeeping(&self, now: i64, keep: Keep) {
        let cleaned = ops::exec(&self.conn, "BEGIN IMMEDIATE")
            .and_then(|()| ops::housekeeping(&self.conn, &self.queue, now, keep))
            .and_then(|()| ops::exec(&self.conn, "COMMIT"));
        if let Err(e) = cleaned {
            self.roll_back();
            warn!(error = %e, "SQLite housekeeping failed");
        }
    }
}

/// A queue in a SQLite file, served by a thread of its own; cheap to clone. Calls from many
/// tasks at once share commits.
#[derive(Clone)]
pub(crate) struct SqliteStore {
    requests: mpsc::Sender<Request>,
    queue: Arc<str>,
    commits: Arc<AtomicU64>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("queue", &self.queue)
            .field("commits", &self.commits())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the SQLite file named by the config's URL (created if missing; `sqlite::memory:`
    /// for a private in-memory database), creates the tables if needed, and starts the
    /// thread that serves it.
    pub(crate) async fn connect(config: &QueueConfig) -> Result<Self, Error> {
        let target = ops::Target::parse(&config.url)?;
        let (requests, receiver) = mpsc::channel();
        let (opened, ready) = oneshot::channel();
        let commits = Arc::new(AtomicU64::new(0));
        let thread = {
            let (queue, skew_ms) = (config.queue.clone(), config.clock_skew_ms);
            let (max_batch, commits) = (config.max_batch.max(1), commits.clone());
            let busy = config.backend_timeout;
            let kept_max = bodies_max(config);
            move || match ops::open(&target, busy) {
                Err(e) => drop(opened.send(Err(e))),
                Ok(conn) => {
                    // A file's WAL is checkpointed by a thread of its own (on a connection
                    // opened once this one has set the file up), which stops with this one.
                    let (_stop, stopped) = std::sync::mpsc::channel::<()>();
                    if let ops::Target::File { path, .. } = &target {
                        let path = path.clone();
                        let checkpointer = move || match ops::open_plain(&path, busy) {
                            Ok(conn) => checkpoint::run(&conn, &path, &stopped),
                            Err(e) => warn!(error = %e, "no SQLite checkpoint thread"),
                        };
                        if let Err(e) = std::thread::Builder::new()
                            .name("atombot-sqlite-checkpoint".into())
                            .spawn(checkpointer)
                        {
                            warn!(error = %e, "no SQLite checkpoint thread");
                        }
                    }
                    if opened.send(Ok(())).is_ok() {
                        let thread = Thread {
                            conn,
                            queue,
                            skew_ms,
                            max_batch,
                            commits,
                            kept_max,
                            kept_since_prune: Cell::new(0),
                        };
                        thread.run(&receiver);
                    }
                }
            }
        };
        std::thread::Builder::new()
            .name("atombot-sqlite".into())
            .spawn(thread)
            .map_err(|e| Error::Unavailable(format!("could not start the SQLite thread: {e}")))?;
        ready.await.map_err(|_| {
            Error::Unavailable("the SQLite thread died opening the database".into())
        })??;
        Ok(SqliteStore {
            requests,
            queue: config.queue.as_str().into(),
            commits,
        })
    }

    /// How many write transactions the thread has committed (each shared by all the writes
    /// that were waiting when it began).
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Sends a request to the thread and waits for its answer.
    async fn call<T>(&self, request: impl FnOnce(Reply<T>) -> Request) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(request(reply))
            .map_err(|_| Error::Unavailable("the SQLite store's thread has stopped".into()))?;
        answer.await.map_err(|_| {
            Error::Unavailable("the SQLite store's thread dropped the request".into())
        })?
    }

    /// Stores `jobs`, each in a savepoint of a shared transaction; one result per job (a bad
    /// job fails alone), or an error for all of them when the database is unavailable.
    pub(crate) async fn push_batch(
        &self,
        jobs: &[NewJob],
    ) -> Result<Vec<Result<Pushed, Error>>, Error> {
        self.push_owned(jobs.to_vec()).await
    }

    /// [`push_batch`](Self::push_batch) for jobs the caller gives away (no copy).
    pub(crate) async fn push_owned(
        &self,
        mut jobs: Vec<NewJob>,
    ) -> Result<Vec<Result<Pushed, Error>>, Error> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        // Bodies are stored lz4-packed, packed here rather than on the store's thread,
        // which every commit waits on: a 6.6 KB webhook body then writes about 1.8 KB to the
        // WAL instead of two overflow pages.
        for job in &mut jobs {
            if let Some(body) = &job.body {
                job.body = Some(crate::packed::pack(body).into());
            }
        }
        self.call(|reply| Request::Push(jobs, reply)).await
    }

    /// Claims up to `limit` ready jobs for `worker`.
    pub(crate) async fn fetch(&self, worker: &str, limit: usize) -> Result<Vec<Leased>, Error> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        self.call(|reply| Request::Fetch(worker.to_owned(), limit, reply))
            .await
    }

    /// Records `worker`'s outcome for job `id`; `false` when `worker` no longer holds it.
    pub(crate) async fn ack(&self, id: &JobId, worker: &str, ack: &Ack) -> Result<bool, Error> {
        self.call(|reply| Request::Ack(id.clone(), worker.to_owned(), ack.clone(), reply))
            .await
    }

    /// Records several outcomes; one result per outcome, or an error for all of them.
    pub(crate) async fn ack_batch(
        &self,
        acks: &[(JobId, Arc<str>, Ack)],
    ) -> Result<Vec<Result<bool, Error>>, Error> {
        if acks.is_empty() {
            return Ok(Vec::new());
        }
        self.call(|reply| Request::AckBatch(acks.to_vec(), reply))
            .await
    }

    /// Records `worker` as alive and queues again the jobs of silent workers (failing those
    /// out of attempts); how many. Then, after answering, the thread deletes what expired,
    /// in bounded batches (a failure there is only logged: the next heartbeat tries again).
    pub(crate) async fn heartbeat(&self, worker: &str, config: &QueueConfig) -> Result<u64, Error> {
        let keep = Keep {
            orphan_ms: dur_ms(config.orphan_timeout),
            done_ms: dur_ms(config.keep_done),
            failed_ms: dur_ms(config.keep_failed),
            bodies_ms: dur_ms(config.keep_bodies),
            bodies_max: bodies_max(config),
        };
        self.call(|reply| Request::Heartbeat(worker.to_owned(), keep, reply))
            .await
    }

    /// Of `ids`, those still running under `worker`'s lease.
    pub(crate) async fn still_leased(
        &self,
        worker: &str,
        ids: &[JobId],
    ) -> Result<Vec<JobId>, Error> {
        self.call(|reply| Request::StillLeased(worker.to_owned(), ids.to_vec(), reply))
            .await
    }

    /// Forgets `worker` (it stopped cleanly).
    pub(crate) async fn deregister(&self, worker: &str) -> Result<(), Error> {
        self.call(|reply| Request::Deregister(worker.to_owned(), reply))
            .await
    }

    /// Failed jobs, newest first.
    pub(crate) async fn failed(&self, limit: usize) -> Result<Vec<FailedJob>, Error> {
        self.call(|reply| Request::Failed(limit, reply)).await
    }

    /// Queues failed job `id` again and claims its key again for the dedupe TTL.
    pub(crate) async fn retry(&self, id: &JobId, config: &QueueConfig) -> Result<bool, Error> {
        let ttl = dur_ms(config.dedupe_ttl);
        self.call(|reply| Request::Retry(id.clone(), ttl, reply))
            .await
    }

    /// Job counts by state.
    pub(crate) async fn stats(&self) -> Result<Stats, Error> {
        self.call(Request::Stats).await
    }

    /// Checks that the thread runs and the database answers.
    pub(crate) async fn ping(&self) -> Result<(), Error> {
        self.call(Request::Ping).await
    }
}

#[cfg(test)]
mod tests;
