//! The log in a SQLite file beside the queue's (`atombot.db` → `atombot-deliveries.db`):
//! its own write lock, so logging never waits on the queue's writer, nor the queue on it.
//! One thread owns the connection and runs each request there with cached prepared
//! statements; a batch of records and outcomes is one transaction.
//!
//! The bodies of the deliveries a bot logs stay in the queue's file, where its jobs stored
//! them (`Job::with_kept_body`, kept for the log's retention): the log's row holds none, and
//! `get` reads the body from there. Records written otherwise (replays, tests) hold their
//! body, lz4-packed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use atombot_jobs::sqlite_file::{self, rusqlite};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};
use tokio::sync::oneshot;

use super::sql::{self, GET, LIST, OUTCOMES_OF, PRUNE_MANY, PRUNE_OLD, PRUNE_OUTCOMES};
use super::store::{StoreError, StoreResult, pack_body, unpack_body};
use super::{Entry, Filter, HandlerOutcome, Record, Summary};

/// How long a statement waits on another connection's lock (the CLI's, another replica's).
const BUSY: Duration = Duration::from_secs(5);

/// One row of the log.
const INSERT_ROW: &str = "INSERT INTO atombot_delivery_log (queue, id, received_at, event, \
    action, repository, replay_of, installation, headers, body) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (queue, id) DO NOTHING";

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<atombot_jobs::Error> for StoreError {
    fn from(e: atombot_jobs::Error) -> Self {
        StoreError(e.to_string())
    }
}

/// A request run on the log's thread.
type Request = Box<dyn FnOnce(&mut Connection) + Send>;

/// Cheap to clone; the thread ends with the last clone.
#[derive(Clone)]
pub(crate) struct SqliteLog {
    requests: mpsc::Sender<Request>,
    queue: Arc<str>,
    path: Arc<Path>,
    /// The queue's file, which keeps the bodies of deliveries the bot logged
    /// (`Job::with_kept_body`).
    queue_file: Arc<Path>,
}

impl fmt::Debug for SqliteLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteLog")
            .field("path", &self.path)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

/// The log's file beside the queue's file `queue_file`.
pub(crate) fn beside(queue_file: &Path) -> PathBuf {
    sqlite_file::beside(queue_file, "deliveries")
}

impl SqliteLog {
    /// Opens the log beside the queue file `queue_file`, creating it and its tables if
    /// missing, on a thread of its own.
    pub(crate) async fn open(queue_file: &Path, queue: &str) -> StoreResult<Self> {
        let path: Arc<Path> = beside(queue_file).into();
        let (requests, incoming) = mpsc::channel::<Request>();
        let (opened, open_result) = oneshot::channel();
        let at = path.clone();
        std::thread::Builder::new()
            .name("atombot-log".into())
            .spawn(move || match open(&at) {
                Ok(mut conn) => {
                    let _ = opened.send(Ok(()));
                    for request in incoming {
                        request(&mut conn);
                    }
                }
                Err(e) => {
                    let _ = opened.send(Err(e));
                }
            })
            .map_err(|e| StoreError(format!("cannot start the delivery log's thread: {e}")))?;
        open_result
            .await
            .map_err(|_| StoreError("the delivery log's thread stopped".into()))??;
        Ok(Self {
            requests,
            queue: queue.into(),
            path,
            queue_file: queue_file.into(),
        })
    }

    /// Runs `f` on the log's thread.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection, &str) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (tx, rx) = oneshot::channel();
        let queue = self.queue.clone();
        let request: Request = Box::new(move |conn| {
            let _ = tx.send(f(conn, &queue));
        });
        let stopped = || StoreError("the delivery log's thread stopped".into());
        self.requests.send(request).map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    pub(crate) async fn write(
        &self,
        entries: Vec<Entry>,
        outcomes: Vec<(String, HandlerOutcome)>,
    ) -> StoreResult<()> {
        self.run(move |conn, queue| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut insert = tx.prepare_cached(INSERT_ROW)?;
                for e in &entries {
                    let headers: Vec<(&str, &str)> = e.headers().collect();
                    insert.execute(rusqlite::params![
                        queue,
                        e.id(),
                        e.received_at().timestamp_millis(),
                        e.event(),
                        e.action(),
                        e.repository(),
                        e.replay_of(),
                        e.installation().and_then(|i| i64::try_from(i).ok()),
                        serde_json::to_string(&headers)?,
                        // Empty: the queue's file keeps it.
                        if e.is_body_in_queue() {
                            Vec::new()
                        } else {
                            pack_body(e.body())
                        },
                    ])?;
                }
                let mut upsert = tx.prepare_cached(sql::UPSERT_OUTCOME)?;
                for (delivery, o) in &outcomes {
                    upsert.execute(rusqlite::params![
                        queue,
                        delivery,
                        o.handler,
                        o.status.as_str(),
                        i64::from(o.attempt),
                        o.error,
                        o.at.timestamp_millis(),
                    ])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub(crate) async fn list(&self, filter: &Filter) -> StoreResult<Vec<Summary>> {
        let (event, action) = sql::event_and_action(filter.event.as_deref());
        let since = filter.since.map_or(i64::MIN, |s| s.timestamp_millis());
        let failed = i64::from(filter.failed);
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        self.run(move |conn, queue| {
            let mut statement = conn.prepare_cached(LIST)?;
            let mut rows = statement.query(rusqlite::params![
                queue, since, event, action, failed, limit
            ])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let summary = |id| {
                    Ok(Summary {
                        id,
                        event: row.get("event")?,
                        action: row.get("action")?,
                        repository: row.get("repository")?,
                        received_at: sql::time(row.get("received_at")?),
                        replay_of: row.get("replay_of")?,
                        outcomes: Vec::new(),
                    })
                };
                sql::fold_row(&mut out, row.get("id")?, summary, outcome(row)?)?;
            }
            Ok(out)
        })
        .await
    }

    pub(crate) async fn get(&self, id: &str) -> StoreResult<Option<Record>> {
        let id = id.to_owned();
        let queue_file = self.queue_file.clone();
        self.run(move |conn, queue| {
            let Some((mut record, headers, body)) = conn
                .prepare_cached(GET)?
                .query_row(rusqlite::params![queue, id], |row| {
                    let record = Record {
                        id: row.get("id")?,
                        event: row.get("event")?,
                        action: row.get("action")?,
                        installation: row
                            .get::<_, Option<i64>>("installation")?
                            .and_then(|i| u64::try_from(i).ok()),
                        repository: row.get("repository")?,
                        received_at: sql::time(row.get("received_at")?),
                        headers: Vec::new(),
                        replay_of: row.get("replay_of")?,
                        outcomes: Vec::new(),
                        body: bytes::Bytes::new(),
                    };
                    let (headers, body): (String, Vec<u8>) =
                        (row.get("headers")?, row.get("body")?);
                    Ok((record, headers, body))
                })
                .optional()?
            else {
                return Ok(None);
            };
            record.headers = serde_json::from_str(&headers)?;
            record.body = if body.is_empty() {
                // Kept by the queue (empty once pruned there).
                let queue_conn = sqlite_file::open_wal(&queue_file, BUSY)?;
                sqlite_file::kept_body(&queue_conn, queue, &id)?.unwrap_or_default()
            } else {
                unpack_body(body)?
            };
            let mut statement = conn.prepare_cached(OUTCOMES_OF)?;
            let mut rows = statement.query(rusqlite::params![queue, id])?;
            while let Some(row) = rows.next()? {
                record.outcomes.extend(outcome(row)?);
            }
            Ok(Some(record))
        })
        .await
    }

    pub(crate) async fn prune(&self, before: i64, max: u64) -> StoreResult<u64> {
        let keep = i64::try_from(max).unwrap_or(i64::MAX).saturating_sub(1);
        self.run(move |conn, queue| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let old = tx
                .prepare_cached(PRUNE_OLD)?
                .execute(rusqlite::params![queue, before])?;
            let many = tx
                .prepare_cached(PRUNE_MANY)?
                .execute(rusqlite::params![queue, keep])?;
            tx.prepare_cached(PRUNE_OUTCOMES)?.execute([queue])?;
            tx.commit()?;
            Ok((old + many) as u64)
        })
        .await
    }
}

/// The outcome columns of `row`, if it has an outcome.
fn outcome(row: &Row<'_>) -> StoreResult<Option<HandlerOutcome>> {
    sql::outcome(
        row.get("handler")?,
        row.get("status")?,
        row.get("attempt")?,
        row.get("error")?,
        row.get("at")?,
    )
}

/// Opens the log's file and creates its tables if missing. `synchronous = NORMAL`: the log
/// may lose its last records on power loss (the queue itself is `FULL`).
fn open(path: &Path) -> StoreResult<Connection> {
    let mut conn = sqlite_file::open_wal(path, BUSY)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Several processes may open it at once: the write lock makes them take turns, and
    // every statement is IF NOT EXISTS.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for statement in sql::SQLITE_SCHEMA {
        tx.execute(statement, [])?;
    }
    tx.commit()?;
    Ok(conn)
}
