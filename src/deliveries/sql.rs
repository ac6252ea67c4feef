//! The log as two SQL tables, the text shared by SQLite (`sqlite.rs`) and Postgres
//! (`postgres.rs`): one row per delivery (`atombot_delivery_log`, the body as a
//! BLOB/BYTEA) and one per delivery and handler (`atombot_delivery_outcomes`, its latest
//! outcome), both scoped by queue name. Placeholders are `$n`, numbered in the order they
//! first appear, which both databases bind by position.

use chrono::{TimeZone, Utc};

use super::store::{StoreError, StoreResult};
use super::{HandlerOutcome, Status, Summary};

/// The tables, with the given 64-bit integer and binary column types.
macro_rules! schema {
    ($int:literal, $bytes:literal) => {
        [
            concat!(
                "CREATE TABLE IF NOT EXISTS atombot_delivery_log (",
                "queue TEXT NOT NULL, id TEXT NOT NULL, received_at ",
                $int,
                " NOT NULL, ",
                "event TEXT NOT NULL, action TEXT, repository TEXT, replay_of TEXT, ",
                "installation ",
                $int,
                ", headers TEXT NOT NULL, body ",
                $bytes,
                " NOT NULL, ",
                "PRIMARY KEY (queue, id))"
            ),
            "CREATE INDEX IF NOT EXISTS atombot_delivery_log_time \
             ON atombot_delivery_log (queue, received_at)",
            concat!(
                "CREATE TABLE IF NOT EXISTS atombot_delivery_outcomes (",
                "queue TEXT NOT NULL, delivery_id TEXT NOT NULL, handler TEXT NOT NULL, ",
                "status TEXT NOT NULL, attempt ",
                $int,
                " NOT NULL, error TEXT, at ",
                $int,
                " NOT NULL, PRIMARY KEY (queue, delivery_id, handler))"
            ),
        ]
    };
}

/// The SQLite tables.
pub(super) const SQLITE_SCHEMA: [&str; 3] = schema!("INTEGER", "BLOB");

/// The Postgres tables.
#[cfg(feature = "postgres")]
pub(super) const POSTGRES_SCHEMA: [&str; 3] = schema!("BIGINT", "BYTEA");

pub(super) const UPSERT_OUTCOME: &str = "INSERT INTO atombot_delivery_outcomes \
    (queue, delivery_id, handler, status, attempt, error, at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
    ON CONFLICT (queue, delivery_id, handler) DO UPDATE SET status = excluded.status, \
    attempt = excluded.attempt, error = excluded.error, at = excluded.at \
    WHERE atombot_delivery_outcomes.attempt <= excluded.attempt";

/// `$1` queue, `$2` since (ms), `$3` event or '', `$4` action or '', `$5` failed only (0/1),
/// `$6` limit.
pub(super) const LIST: &str = "SELECT d.id, d.received_at, d.event, d.action, d.repository, d.replay_of, \
    o.handler, o.status, o.attempt, o.error, o.at \
    FROM (SELECT id, received_at, event, action, repository, replay_of \
          FROM atombot_delivery_log l \
          WHERE queue = $1 AND received_at >= $2 AND ($3 = '' OR event = $3) \
            AND ($4 = '' OR action = $4) \
            AND ($5 = 0 OR EXISTS (SELECT 1 FROM atombot_delivery_outcomes f \
                 WHERE f.queue = $1 AND f.delivery_id = l.id AND f.status <> 'succeeded')) \
          ORDER BY received_at DESC, id DESC LIMIT $6) d \
    LEFT JOIN atombot_delivery_outcomes o ON o.queue = $1 AND o.delivery_id = d.id \
    ORDER BY d.received_at DESC, d.id DESC, o.handler";

pub(super) const GET: &str = "SELECT id, received_at, event, action, repository, replay_of, installation, \
    headers, body FROM atombot_delivery_log WHERE queue = $1 AND id = $2";

pub(super) const OUTCOMES_OF: &str = "SELECT handler, status, attempt, error, at \
    FROM atombot_delivery_outcomes WHERE queue = $1 AND delivery_id = $2 ORDER BY handler";

pub(super) const PRUNE_OLD: &str =
    "DELETE FROM atombot_delivery_log WHERE queue = $1 AND received_at < $2";

/// All but the newest `$2` of queue `$1`.
pub(super) const PRUNE_MANY: &str = "DELETE FROM atombot_delivery_log WHERE queue = $1 AND received_at < \
    (SELECT received_at FROM atombot_delivery_log WHERE queue = $1 \
     ORDER BY received_at DESC LIMIT 1 OFFSET $2)";

pub(super) const PRUNE_OUTCOMES: &str = "DELETE FROM atombot_delivery_outcomes WHERE queue = $1 \
    AND NOT EXISTS (SELECT 1 FROM atombot_delivery_log d \
                    WHERE d.queue = $1 AND d.id = atombot_delivery_outcomes.delivery_id)";

/// The time of `ms` milliseconds since the Unix epoch.
pub(super) fn time(ms: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// The outcome of an outcome row's columns (`handler`, `status`, `attempt`, `error`, `at`);
/// `None` when the row has none (a delivery without outcomes, from [`LIST`]'s join).
pub(super) fn outcome(
    handler: Option<String>,
    status: Option<String>,
    attempt: Option<i64>,
    error: Option<String>,
    at: Option<i64>,
) -> StoreResult<Option<HandlerOutcome>> {
    let (Some(handler), Some(status)) = (handler, status) else {
        return Ok(None);
    };
    Ok(Some(HandlerOutcome {
        handler,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError(format!("unknown outcome {status:?}")))?,
        attempt: attempt.and_then(|a| u32::try_from(a).ok()).unwrap_or(0),
        error,
        at: time(at.unwrap_or_default()),
    }))
}

/// Adds a row of [`LIST`] to `out` (rows come grouped by delivery): a summary, made by
/// `summary`, when the row's delivery `id` is not the last one's, and the row's outcome.
pub(super) fn fold_row(
    out: &mut Vec<Summary>,
    id: String,
    summary: impl FnOnce(String) -> StoreResult<Summary>,
    outcome: Option<HandlerOutcome>,
) -> StoreResult<()> {
    if out.last().is_none_or(|s| s.id != id) {
        out.push(summary(id)?);
    }
    if let (Some(outcome), Some(last)) = (outcome, out.last_mut()) {
        last.outcomes.push(outcome);
    }
    Ok(())
}

/// `(event, action)` to bind for [`LIST`]: empty strings match any.
pub(super) fn event_and_action(event: Option<&str>) -> (String, String) {
    match event {
        Some(e) => match e.split_once('.') {
            Some((event, action)) => (event.to_owned(), action.to_owned()),
            None => (e.to_owned(), String::new()),
        },
        None => (String::new(), String::new()),
    }
}
