//! The SQL of the SQLite store, run by its thread on its one connection: writes inside the
//! thread's transaction (each request in a savepoint), reads on their own. Every statement is
//! a constant, prepared once and cached on the connection.
//!
//! Times are milliseconds since the Unix epoch, computed in Rust (with the store's clock skew),
//! except worker liveness, which is judged on the database's clock alone (`now_ms!`).

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row};

use crate::error::Error;
use crate::job::{FailedJob, JobId, Payload, Pushed, Stats, ms_to_time};
use crate::store::{Ack, Leased, NewJob, decode_job, to_u32};

/// The tables and indexes, created if missing: those of the other SQL backend, with partial
/// indexes (databases created by earlier versions keep their full ones, which work alike).
const SCHEMA: &str = include_str!("schema.sql");

/// SQLite's own tables: the jobs' raw bodies (written once, apart from the small rows whose
/// status changes; `packed` when lz4-packed, see [`crate::packed`]), bodies kept beyond their
/// jobs ([`Job::with_kept_body`](crate::Job::with_kept_body): lz4-packed, stored once per
/// key, in the order stored) and the count of finished jobs per queue (their rows are
/// deleted at once).
const TABLES: &str = "
CREATE TABLE IF NOT EXISTS atombot_bodies
    (job_id TEXT PRIMARY KEY, body BLOB NOT NULL, packed INTEGER NOT NULL DEFAULT 0)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS atombot_kept_bodies
    (seq INTEGER PRIMARY KEY, queue TEXT NOT NULL, key TEXT NOT NULL, body BLOB NOT NULL,
     stored_at BIGINT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS atombot_kept_bodies_key ON atombot_kept_bodies (queue, key);
CREATE TABLE IF NOT EXISTS atombot_counters
    (queue TEXT PRIMARY KEY, done BIGINT NOT NULL DEFAULT 0);";

/// The database's clock, in milliseconds since the Unix epoch.
macro_rules! now_ms {
    () => {
        "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"
    };
}

/// Rows one housekeeping statement deletes at most.
const HOUSEKEEPING_BATCH: i64 = 1000;

/// Which database a URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A file; `create` when it may be created.
    File { path: PathBuf, create: bool },
    /// A private in-memory database (`sqlite::memory:`), gone with the store.
    Memory,
}

impl Target {
    /// Parses `sqlite://path`, `sqlite:path` or `sqlite::memory:`, with an optional
    /// `?mode=rwc|rw|memory` (other parameters are ignored).
    pub(crate) fn parse(url: &str) -> Result<Target, Error> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| Error::InvalidUrl("sqlite url must start with sqlite:".into()))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut create = true;
        for (name, value) in query.split('&').filter_map(|p| p.split_once('=')) {
            match (name, value) {
                ("mode", "rwc") => create = true,
                ("mode", "rw") => create = false,
                ("mode", "memory") => return Ok(Target::Memory),
                ("mode", other) => {
                    return Err(Error::InvalidUrl(format!(
                        "sqlite url: unsupported mode {other:?} (a queue needs rw or rwc)"
                    )));
                }
                _ => tracing::debug!(parameter = name, "sqlite url parameter ignored"),
            }
        }
        match path {
            "" => Err(Error::InvalidUrl("sqlite url names no file".into())),
            ":memory:" => Ok(Target::Memory),
            path => Ok(Target::File {
                path: path.into(),
                create,
            }),
        }
    }
}

/// Opens the database (WAL, `synchronous = FULL`, waiting up to `busy` for other processes'
/// locks) and creates the tables if missing.
pub(super) fn open(target: &Target, busy: Duration) -> Result<Connection, Error> {
    let conn = match target {
        Target::Memory => Connection::open_in_memory()?,
        Target::File { path, create } => {
            let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            if *create {
                flags |= OpenFlags::SQLITE_OPEN_CREATE;
            }
            Connection::open_with_flags(path, flags)?
        }
    };
    conn.busy_timeout(busy)?;
    conn.set_prepared_statement_cache_capacity(64);
    wal_mode(&conn, busy)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // A thread of its own checkpoints a file's WAL and flushes what it copied (see
    // `checkpoint`), off the commits' path. Under a steady stream of commits its passive
    // checkpoints never quite catch up, so this connection completes one past 10,000 pages
    // (~40 MB), finding little left to copy or sync. The WAL file is cut back to 64 MB
    // after a checkpoint.
    conn.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    // Each request runs in a savepoint: its rollback journal stays in memory, not in a
    // temporary file.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    if !schema_current(&conn)? {
        // Several processes may start at once: the write lock makes them take turns, every
        // statement is IF NOT EXISTS, and the column is added only if still missing.
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let made = conn
            .execute_batch(SCHEMA)
            .and_then(|()| conn.execute_batch(TABLES))
            .map_err(Error::from)
            .and_then(|()| add_columns(&conn))
            .and_then(|()| Ok(conn.execute_batch("COMMIT")?));
        if let Err(e) = made {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            return Err(e);
        }
    }
    Ok(conn)
}

/// Columns added since the tables were first made: (table, column, definition).
const ADDED_COLUMNS: [(&str, &str, &str); 2] = [
    // Bodies of earlier versions are raw: the default.
    ("atombot_bodies", "packed", "INTEGER NOT NULL DEFAULT 0"),
    // The key of the job's kept body, if it has one (then no row in atombot_bodies).
    ("atombot_jobs", "body_key", "TEXT"),
];

/// Whether the tables are there, with every column this version writes.
fn schema_current(conn: &Connection) -> Result<bool, Error> {
    let tables: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN
         ('atombot_jobs', 'atombot_bodies', 'atombot_counters', 'atombot_kept_bodies')",
        [],
        |r| r.get(0),
    )?;
    for (table, column, _) in ADDED_COLUMNS {
        if !has_column(conn, table, column)? {
            return Ok(false);
        }
    }
    Ok(tables == 4)
}

fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool, Error> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM pragma_table_info(?1) WHERE name = ?2",
        (table, column),
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// Adds the [`ADDED_COLUMNS`] a file made by an earlier version lacks.
fn add_columns(conn: &Connection) -> Result<(), Error> {
    for (table, column, definition) in ADDED_COLUMNS {
        if !has_column(conn, table, column)? {
            conn.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN {column} {definition}"
            ))?;
        }
    }
    Ok(())
}

/// Puts the database in WAL mode. SQLite answers "database is locked" at once, without
/// waiting on the busy timeout, while another process switches a new file's mode; this
/// tries again until `busy` has passed.
pub(crate) fn wal_mode(conn: &Connection, busy: Duration) -> Result<(), Error> {
    let deadline = std::time::Instant::now() + busy;
    loop {
        // Answers the mode it is in ("memory" for an in-memory database).
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(_mode) => return Ok(()),
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(fastrand::u64(1..10)));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Runs a cached statement that returns no rows; how many rows it changed.
fn run(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<usize, Error> {
    Ok(conn.prepare_cached(sql)?.execute(params)?)
}

/// Runs a statement of the thread's own transaction handling (`BEGIN`, `SAVEPOINT`, …).
pub(super) fn exec(conn: &Connection, sql: &str) -> Result<(), Error> {
    run(conn, sql, []).map(drop)
}

/// `n` as an SQL `LIMIT`.
fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A text column as `&str`; anything else (a corrupt row) reads as empty, which decodes as
/// `null` rather than failing the claim.
fn text<'r>(row: &'r Row<'_>, i: usize) -> Result<&'r str, Error> {
    Ok(match row.get_ref(i)? {
        ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or(""),
        _ => "",
    })
}

/// Stores `job` (unless its key is taken by a live job: then the earlier job's id).
pub(super) fn push(
    conn: &Connection,
    queue: &str,
    job: &NewJob,
    now: i64,
) -> Result<Pushed, Error> {
    let id = job.id.0.as_str();
    if let (true, Some(key)) = (job.unique, job.key.as_deref()) {
        let took = run(
            conn,
            "INSERT INTO atombot_dedupe (queue, job_key, job_id, expires_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (queue, job_key) DO UPDATE
               SET job_id = excluded.job_id, expires_at = excluded.expires_at
               WHERE atombot_dedupe.expires_at <= ?5",
            (queue, key, id, job.dedupe_expires_at, now),
        )?;
        if took == 0 {
            let earlier: String = conn
                .prepare_cached(
                    "SELECT job_id FROM atombot_dedupe WHERE queue = ?1 AND job_key = ?2",
                )?
                .query_row((queue, key), |r| r.get(0))?;
            return Ok(Pushed::Duplicate(JobId(earlier)));
        }
    }
    // A job handed to a local worker in memory is stored already claimed by it.
    let (status, lock_by, lock_at, attempts) = match job.lease_to.as_deref() {
        Some(worker) => ("running", Some(worker), Some(now), 1_i64),
        None => ("pending", None, None, 0),
    };
    run(
        conn,
        "INSERT INTO atombot_jobs
           (id, queue, kind, payload, job_key, meta, enqueued_at, status, attempts,
            max_attempts, run_at, lock_by, lock_at, body_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        (
            id,
            queue,
            job.kind.as_str(),
            job.payload.json(),
            job.key.as_deref(),
            job.meta.as_str(),
            job.enqueued_at,
            status,
            attempts,
            job.max_attempts,
            job.run_at,
            lock_by,
            lock_at,
            job.body_kept_as.as_deref().filter(|_| job.body.is_some()),
        ),
    )?;
    match (job.body.as_deref(), job.body_kept_as.as_deref()) {
        (Some(body), Some(key)) => run(
            conn,
            "INSERT INTO atombot_kept_bodies (queue, key, body, stored_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (queue, key) DO NOTHING",
            (queue, key, body, now),
        )?,
        (Some(body), None) => run(
            conn,
            "INSERT INTO atombot_bodies (job_id, body, packed) VALUES (?1, ?2, 1)",
            (id, body),
        )?,
        (None, _) => 0,
    };
    Ok(Pushed::Enqueued(job.id.clone()))
}

/// Claims up to `n` ready jobs for `worker` with one statement that also returns their
/// bodies; sorted by id.
pub(super) fn claim(
    conn: &Connection,
    queue: &str,
    worker: &str,
    n: usize,
    now: i64,
) -> Result<Vec<Leased>, Error> {
    let mut stmt = conn.prepare_cached(
        "UPDATE atombot_jobs
         SET status = 'running', lock_by = ?1, lock_at = ?2, attempts = attempts + 1
         WHERE id IN (
             SELECT id FROM atombot_jobs
             WHERE queue = ?3 AND status IN ('pending', 'unknown') AND run_at <= ?2
             ORDER BY run_at, id
             LIMIT ?4)
         RETURNING id, kind, payload, job_key, meta, enqueued_at, attempts, max_attempts,
             CASE WHEN body_key IS NULL
                 THEN (SELECT body FROM atombot_bodies WHERE job_id = atombot_jobs.id)
                 ELSE (SELECT body FROM atombot_kept_bodies k
                       WHERE k.queue = ?3 AND k.key = atombot_jobs.body_key) END,
             CASE WHEN body_key IS NULL
                 THEN (SELECT packed FROM atombot_bodies WHERE job_id = atombot_jobs.id)
                 ELSE 1 END",
    )?;
    let mut rows = stmt.query((worker, now, queue, limit(n)))?;
    let mut out = Vec::with_capacity(n.min(64));
    while let Some(row) = rows.next()? {
        let body = match (row.get_ref(8)?, row.get::<_, Option<bool>>(9)?) {
            (ValueRef::Blob(b) | ValueRef::Text(b), Some(true)) => {
                let body = crate::packed::unpack(b);
                if body.is_none() {
                    tracing::warn!(job = %row.get_ref(0)?.as_str().unwrap_or(""),
                        "a job's stored body is corrupt; the job runs without it");
                }
                body
            }
            (ValueRef::Blob(b) | ValueRef::Text(b), _) => Some(Bytes::copy_from_slice(b)),
            _ => None,
        };
        out.push(Leased {
            id: JobId(row.get(0)?),
            job: decode_job(
                row.get(1)?,
                Payload::stored(text(row, 2)?.to_owned()),
                body,
                row.get(3)?,
                text(row, 4)?,
                row.get(5)?,
            ),
            attempts: to_u32(row.get(6)?),
            max_attempts: to_u32(row.get(7)?),
        });
    }
    out.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// Records `worker`'s outcome for job `id`; `false` when `worker` no longer holds it. A done
/// job is deleted with its body (the caller counts it in `atombot_counters`).
pub(super) fn ack(
    conn: &Connection,
    queue: &str,
    id: &str,
    worker: &str,
    ack: &Ack,
    now: i64,
) -> Result<bool, Error> {
    let changed = match ack {
        Ack::Done => {
            let n = run(
                conn,
                "DELETE FROM atombot_jobs
                 WHERE id = ?1 AND lock_by = ?2 AND status = 'running'",
                (id, worker),
            )?;
            if n > 0 {
                run(conn, "DELETE FROM atombot_bodies WHERE job_id = ?1", (id,))?;
            }
            n
        }
        Ack::Retry { run_at, error } => run(
            conn,
            "UPDATE atombot_jobs SET status = 'pending', run_at = ?3, lock_by = NULL,
             last_error = ?4 WHERE id = ?1 AND lock_by = ?2 AND status = 'running'",
            (id, worker, *run_at, error.as_str()),
        )?,
        // 'unknown' is pending too (fetched alike), marked for stats.
        Ack::Release {
            run_at,
            error,
            unknown,
        } => run(
            conn,
            "UPDATE atombot_jobs SET status = ?4, run_at = ?3, lock_by = NULL,
             attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
             last_error = COALESCE(?5, last_error)
             WHERE id = ?1 AND lock_by = ?2 AND status = 'running'",
            (
                id,
                worker,
                *run_at,
                if *unknown { "unknown" } else { "pending" },
                error.as_deref(),
            ),
        )?,
        Ack::Fail { error } => {
            let n = run(
                conn,
                "UPDATE atombot_jobs SET status = 'failed', done_at = ?3, lock_by = NULL,
                 last_error = ?4 WHERE id = ?1 AND lock_by = ?2 AND status = 'running'",
                (id, worker, now, error.as_str()),
            )?;
            if n > 0 {
                // A finally failed job frees its key: pushing it again may run it again.
                run(
                    conn,
                    "DELETE FROM atombot_dedupe WHERE queue = ?1 AND job_id = ?2",
                    (queue, id),
                )?;
            }
            n
        }
    };
    Ok(changed > 0)
}

/// Adds `n` finished (deleted) jobs to the queue's done count.
pub(super) fn count_done(conn: &Connection, queue: &str, n: u64) -> Result<(), Error> {
    run(
        conn,
        "INSERT INTO atombot_counters (queue, done) VALUES (?1, ?2)
         ON CONFLICT (queue) DO UPDATE SET done = done + excluded.done",
        (queue, i64::try_from(n).unwrap_or(i64::MAX)),
    )
    .map(drop)
}

/// Records `worker` as alive, then queues again (or fails, when out of attempts) the running
/// jobs of workers silent for `orphan_ms` on the database's clock; how many it recovered.
pub(super) fn beat(
    conn: &Connection,
    queue: &str,
    worker: &str,
    now: i64,
    orphan_ms: i64,
) -> Result<u64, Error> {
    run(
        conn,
        concat!(
            "INSERT INTO atombot_workers (name, queue, last_seen, started_at) VALUES (?1, ?2, ",
            now_ms!(),
            ", ",
            now_ms!(),
            ") ON CONFLICT (name) DO UPDATE SET last_seen = excluded.last_seen"
        ),
        (worker, queue),
    )?;
    let orphans = run(
        conn,
        concat!(
            "UPDATE atombot_jobs
             SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
                 done_at = CASE WHEN attempts >= max_attempts THEN ?2 ELSE NULL END,
                 run_at = ?2, lock_by = NULL,
                 last_error = 'worker ' || lock_by || ' died while running the job'
             WHERE queue = ?1 AND status = 'running' AND lock_by NOT IN
               (SELECT name FROM atombot_workers WHERE last_seen > ",
            now_ms!(),
            " - ?3)"
        ),
        (queue, now, orphan_ms),
    )?;
    Ok(orphans as u64)
}

/// How long housekeeping keeps things, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Keep {
    pub(super) orphan_ms: i64,
    pub(super) done_ms: i64,
    pub(super) failed_ms: i64,
    pub(super) bodies_ms: i64,
    pub(super) bodies_max: i64,
}

/// Deletes expired dedupe records, long-dead workers, and finished jobs (with their bodies)
/// past their retention, at most [`HOUSEKEEPING_BATCH`] rows per statement.
pub(super) fn housekeeping(
    conn: &Connection,
    queue: &str,
    now: i64,
    keep: Keep,
) -> Result<(), Error> {
    run(
        conn,
        concat!(
            "DELETE FROM atombot_workers WHERE queue = ?1 AND last_seen < ",
            now_ms!(),
            " - ?2"
        ),
        (queue, keep.orphan_ms.saturating_add(3_600_000)),
    )?;
    run(
        conn,
        "DELETE FROM atombot_dedupe WHERE queue = ?1 AND job_key IN (
           SELECT job_key FROM atombot_dedupe WHERE queue = ?1 AND expires_at <= ?2 LIMIT ?3)",
        (queue, now, HOUSEKEEPING_BATCH),
    )?;
    // Bodies first: the same rows pick them, and the jobs then go. Done rows are only those
    // of earlier versions (done jobs are deleted at once now).
    for (status, keep_ms) in [("done", keep.done_ms), ("failed", keep.failed_ms)] {
        let params = (
            queue,
            status,
            now.saturating_sub(keep_ms),
            HOUSEKEEPING_BATCH,
        );
        run(
            conn,
            "DELETE FROM atombot_bodies WHERE job_id IN (
               SELECT id FROM atombot_jobs
               WHERE queue = ?1 AND status = ?2 AND done_at < ?3 LIMIT ?4)",
            params,
        )?;
        run(
            conn,
            "DELETE FROM atombot_jobs WHERE id IN (
               SELECT id FROM atombot_jobs
               WHERE queue = ?1 AND status = ?2 AND done_at < ?3 LIMIT ?4)",
            params,
        )?;
    }
    prune_kept_bodies(conn, queue, now, keep)
}

/// Deletes kept bodies past their retention, or beyond the newest `bodies_max` in the file
/// (of all its queues), unless a job of the queue still needs them, in batches of
/// [`HOUSEKEEPING_BATCH`]. Rows are in the order stored, so the first young one bounds the
/// old ones without scanning the young: both statements walk the rows by `seq` (`NOT
/// INDEXED`: through the key index SQLite would visit every row of the queue and sort them,
/// a stall of ~100 ms per heartbeat at 100,000 bodies). Under load the count bound is kept
/// as bodies come, by [`prune_kept_bodies_beyond`].
fn prune_kept_bodies(conn: &Connection, queue: &str, now: i64, keep: Keep) -> Result<(), Error> {
    let first_young: Option<i64> = conn
        .prepare_cached(
            "SELECT seq FROM atombot_kept_bodies NOT INDEXED
             WHERE queue = ?1 AND stored_at >= ?2 ORDER BY seq LIMIT 1",
        )?
        .query_row((queue, now.saturating_sub(keep.bodies_ms)), |r| r.get(0))
        .optional()?;
    let Some(newest) = newest_kept_body(conn)? else {
        return Ok(());
    };
    // Old: before the first young one (all, if none is young); too many: before the newest
    // `bodies_max`.
    let old = first_young.unwrap_or(newest.saturating_add(1));
    let bound = old.max(too_many_before(newest, keep.bodies_max));
    // Up to ten batches a heartbeat (every third of the orphan timeout, 10 s by default).
    for _ in 0..10 {
        let deleted = run(
            conn,
            "DELETE FROM atombot_kept_bodies WHERE seq IN (
               SELECT seq FROM atombot_kept_bodies NOT INDEXED
               WHERE seq < ?2 AND queue = ?1 AND key NOT IN
                 (SELECT body_key FROM atombot_jobs WHERE queue = ?1 AND body_key IS NOT NULL)
               ORDER BY seq LIMIT ?3)",
            (queue, bound, HOUSEKEEPING_BATCH),
        )?;
        if deleted < HOUSEKEEPING_BATCH as usize {
            break;
        }
    }
    Ok(())
}

/// The newest kept body's sequence number, if any.
fn newest_kept_body(conn: &Connection) -> Result<Option<i64>, Error> {
    Ok(conn
        .prepare_cached("SELECT MAX(seq) FROM atombot_kept_bodies")?
        .query_row([], |r| r.get(0))?)
}

/// The first sequence number of the newest `max` kept bodies, when `newest` is the last.
fn too_many_before(newest: i64, max: i64) -> i64 {
    newest.saturating_sub(max).saturating_add(1)
}

/// Deletes up to `at_most` of the oldest kept bodies beyond the newest `max` in the file, of
/// any queue, unless a job still needs them; how many. Run in the transaction that stores
/// bodies, so under a steady load the file holds `max` of them, not more, and no heartbeat
/// has thousands to delete at once.
pub(super) fn prune_kept_bodies_beyond(
    conn: &Connection,
    max: i64,
    at_most: usize,
) -> Result<usize, Error> {
    let Some(newest) = newest_kept_body(conn)? else {
        return Ok(0);
    };
    run(
        conn,
        "DELETE FROM atombot_kept_bodies WHERE seq IN (
           SELECT seq FROM atombot_kept_bodies NOT INDEXED
           WHERE seq < ?1 AND (queue, key) NOT IN
             (SELECT queue, body_key FROM atombot_jobs WHERE body_key IS NOT NULL)
           ORDER BY seq LIMIT ?2)",
        (too_many_before(newest, max), limit(at_most)),
    )
}

/// Forgets `worker`.
pub(super) fn deregister(conn: &Connection, worker: &str) -> Result<(), Error> {
    run(
        conn,
        "DELETE FROM atombot_workers WHERE name = ?1",
        (worker,),
    )
    .map(drop)
}

/// Queues failed job `id` again with fresh attempts and claims its key again until
/// `key_expires_at`; `false` if it is not failed.
pub(super) fn retry(
    conn: &Connection,
    queue: &str,
    id: &str,
    now: i64,
    key_expires_at: i64,
) -> Result<bool, Error> {
    let retried = run(
        conn,
        "UPDATE atombot_jobs SET status = 'pending', attempts = 0, run_at = ?3, done_at = NULL
         WHERE queue = ?1 AND id = ?2 AND status = 'failed'",
        (queue, id, now),
    )? > 0;
    if retried {
        // The job's key was freed when it failed: claim it again, so the same key pushed
        // (or delivered) meanwhile is a duplicate of the retried job.
        run(
            conn,
            "INSERT INTO atombot_dedupe (queue, job_key, job_id, expires_at)
             SELECT queue, job_key, id, ?3 FROM atombot_jobs
             WHERE queue = ?1 AND id = ?2 AND job_key IS NOT NULL
             ON CONFLICT (queue, job_key) DO UPDATE
               SET job_id = excluded.job_id, expires_at = excluded.expires_at",
            (queue, id, key_expires_at),
        )?;
    }
    Ok(retried)
}

/// Of `ids`, those still running under `worker`'s lease.
pub(super) fn still_leased(
    conn: &Connection,
    queue: &str,
    worker: &str,
    ids: Vec<JobId>,
) -> Result<Vec<JobId>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM atombot_jobs
         WHERE id = ?1 AND queue = ?2 AND lock_by = ?3 AND status = 'running'",
    )?;
    let mut held = Vec::with_capacity(ids.len());
    for id in ids {
        if stmt.exists((id.0.as_str(), queue, worker))? {
            held.push(id);
        }
    }
    Ok(held)
}

/// Failed jobs, newest first.
pub(super) fn failed(conn: &Connection, queue: &str, n: usize) -> Result<Vec<FailedJob>, Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, job_key, attempts, last_error, payload, enqueued_at, done_at
         FROM atombot_jobs WHERE queue = ?1 AND status = 'failed'
         ORDER BY done_at DESC, id LIMIT ?2",
    )?;
    let mut rows = stmt.query((queue, limit(n)))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let done_at: Option<i64> = row.get(7)?;
        out.push(FailedJob {
            id: JobId(row.get(0)?),
            kind: row.get(1)?,
            key: row.get(2)?,
            attempts: to_u32(row.get(3)?),
            last_error: row.get(4)?,
            payload: serde_json::from_str(text(row, 5)?).unwrap_or_default(),
            enqueued_at: ms_to_time(row.get(6)?),
            failed_at: done_at.map(ms_to_time),
        });
    }
    Ok(out)
}

/// Job counts by status; done counts the deleted finished jobs and any done rows of
/// earlier versions.
pub(super) fn stats(conn: &Connection, queue: &str) -> Result<Stats, Error> {
    let mut stats = Stats::default();
    let mut stmt = conn.prepare_cached(
        "SELECT status, COUNT(*) FROM atombot_jobs WHERE queue = ?1 GROUP BY status",
    )?;
    let mut rows = stmt.query((queue,))?;
    while let Some(row) = rows.next()? {
        let n = u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0);
        stats.count_status(text(row, 0)?, n);
    }
    let counted: Option<i64> = conn
        .prepare_cached("SELECT done FROM atombot_counters WHERE queue = ?1")?
        .query_row((queue,), |r| r.get(0))
        .optional()?;
    stats.done += u64::try_from(counted.unwrap_or(0)).unwrap_or(0);
    Ok(stats)
}

/// Runs a trivial query.
pub(super) fn ping(conn: &Connection) -> Result<(), Error> {
    conn.prepare_cached("SELECT 1")?
        .query_row([], |r| r.get::<_, i64>(0))?;
    Ok(())
}

/// A connection to the existing database file at `path` that changes nothing of its setup
/// (for checkpoints).
pub(super) fn open_plain(path: &std::path::Path, busy: Duration) -> Result<Connection, Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}
