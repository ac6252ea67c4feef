//! The log as two SQL tables, shared by SQLite and Postgres: one row per delivery
//! (`atombot_delivery_log`, the body as a BLOB/BYTEA) and one per delivery and handler
//! (`atombot_delivery_outcomes`, its latest outcome), both scoped by queue name.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use super::store::{StoreError, StoreResult};
use super::{Filter, HandlerOutcome, Record, Status, Summary};

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

/// The start of a (multi-row) insert; `VALUES` follow.
const INSERT: &str = "INSERT INTO atombot_delivery_log \
    (queue, id, received_at, event, action, repository, replay_of, installation, headers, body) ";

/// Rows per insert statement (10 parameters each).
const ROWS_PER_INSERT: usize = 256;

const UPSERT_OUTCOME: &str = "INSERT INTO atombot_delivery_outcomes \
    (queue, delivery_id, handler, status, attempt, error, at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
    ON CONFLICT (queue, delivery_id, handler) DO UPDATE SET status = excluded.status, \
    attempt = excluded.attempt, error = excluded.error, at = excluded.at \
    WHERE atombot_delivery_outcomes.attempt <= excluded.attempt";

/// `$1` queue, `$2` since (ms), `$3` event or '', `$4` action or '', `$5` failed only (0/1),
/// `$6` limit.
const LIST: &str = "SELECT d.id, d.received_at, d.event, d.action, d.repository, d.replay_of, \
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

const GET: &str = "SELECT id, received_at, event, action, repository, replay_of, installation, \
    headers, body FROM atombot_delivery_log WHERE queue = $1 AND id = $2";

const OUTCOMES_OF: &str = "SELECT handler, status, attempt, error, at \
    FROM atombot_delivery_outcomes WHERE queue = $1 AND delivery_id = $2 ORDER BY handler";

const PRUNE_OLD: &str = "DELETE FROM atombot_delivery_log WHERE queue = $1 AND received_at < $2";

/// All but the newest `$2` of queue `$1`.
const PRUNE_MANY: &str = "DELETE FROM atombot_delivery_log WHERE queue = $1 AND received_at < \
    (SELECT received_at FROM atombot_delivery_log WHERE queue = $1 \
     ORDER BY received_at DESC LIMIT 1 OFFSET $2)";

const PRUNE_OUTCOMES: &str = "DELETE FROM atombot_delivery_outcomes WHERE queue = $1 \
    AND NOT EXISTS (SELECT 1 FROM atombot_delivery_log d \
                    WHERE d.queue = $1 AND d.id = atombot_delivery_outcomes.delivery_id)";

/// What differs between the databases.
pub(crate) trait Dialect: Database {
    /// `CREATE … IF NOT EXISTS` statements.
    const SCHEMA: [&'static str; 3];

    /// How many rows a statement changed.
    fn rows_affected(done: &Self::QueryResult) -> u64;
}

impl Dialect for sqlx::Sqlite {
    const SCHEMA: [&'static str; 3] = schema!("INTEGER", "BLOB");

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

#[cfg(feature = "postgres")]
impl Dialect for sqlx::Postgres {
    const SCHEMA: [&'static str; 3] = schema!("BIGINT", "BYTEA");

    fn rows_affected(done: &Self::QueryResult) -> u64 {
        done.rows_affected()
    }
}

/// The tables in one database, for one queue name. Its `Debug` shows no URL.
pub(crate) struct SqlLog<DB: Database> {
    pool: Pool<DB>,
    queue: String,
}

impl<DB: Database> Clone for SqlLog<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            queue: self.queue.clone(),
        }
    }
}

impl<DB: Database> fmt::Debug for SqlLog<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlLog")
            .field("database", &DB::NAME)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl SqlLog<sqlx::Sqlite> {
    /// The log in a file beside the queue's SQLite file (`atombot.db` →
    /// `atombot-deliveries.db`): its own write lock, so logging never waits on the queue's
    /// writer, nor the queue on it.
    pub(crate) async fn sqlite(url: &str, queue: &str) -> StoreResult<Self> {
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
        let options = SqliteConnectOptions::from_str(&beside(url))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(5))
            // The log may lose its last records on power loss; the queue itself is FULL.
            .synchronous(SqliteSynchronous::Normal);
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await?;
        Self::create(pool, queue).await
    }
}

#[cfg(feature = "postgres")]
impl SqlLog<sqlx::Postgres> {
    /// The log in the Postgres database of `url`.
    pub(crate) async fn postgres(url: &str, queue: &str) -> StoreResult<Self> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| StoreError(e.to_string().replace(url, "<the queue's URL>")))?;
        // Replicas starting together create the tables one at a time.
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(7234001)")
            .execute(&mut *tx)
            .await?;
        for statement in <sqlx::Postgres as Dialect>::SCHEMA {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Self {
            pool,
            queue: queue.to_owned(),
        })
    }
}

/// The URL of the log's file beside the SQLite queue file of `url`.
pub(crate) fn beside(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let file = match base.strip_suffix(".db") {
        Some(stem) => format!("{stem}-deliveries.db"),
        None => format!("{base}-deliveries"),
    };
    match query {
        Some(query) => format!("{file}?{query}"),
        None => file,
    }
}

fn time(ms: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl<DB> SqlLog<DB>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'n> &'n str: ColumnIndex<DB::Row>,
{
    async fn create(pool: Pool<DB>, queue: &str) -> StoreResult<Self> {
        for statement in DB::SCHEMA {
            sqlx::query::<DB>(statement).execute(&pool).await?;
        }
        Ok(Self {
            pool,
            queue: queue.to_owned(),
        })
    }

    pub(crate) async fn insert(&self, records: &[Record]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for chunk in records.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::<DB>::new(INSERT);
            let mut headers = Vec::with_capacity(chunk.len());
            for r in chunk {
                headers.push(serde_json::to_string(&r.headers)?);
            }
            insert.push_values(chunk.iter().zip(headers), |mut row, (r, headers)| {
                row.push_bind(self.queue.clone())
                    .push_bind(r.id.clone())
                    .push_bind(r.received_at.timestamp_millis())
                    .push_bind(r.event.clone())
                    .push_bind(r.action.clone())
                    .push_bind(r.repository.clone())
                    .push_bind(r.replay_of.clone())
                    .push_bind(r.installation.and_then(|i| i64::try_from(i).ok()))
                    .push_bind(headers)
                    .push_bind(r.body.to_vec());
            });
            insert.push(" ON CONFLICT (queue, id) DO NOTHING");
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn outcomes(&self, outcomes: &[(String, HandlerOutcome)]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (delivery, o) in outcomes {
            sqlx::query::<DB>(UPSERT_OUTCOME)
                .bind(self.queue.clone())
                .bind(delivery.clone())
                .bind(o.handler.clone())
                .bind(o.status.as_str().to_owned())
                .bind(i64::from(o.attempt))
                .bind(o.error.clone())
                .bind(o.at.timestamp_millis())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    fn outcome(row: &DB::Row) -> StoreResult<Option<HandlerOutcome>> {
        let Some(handler) = row.try_get::<Option<String>, _>("handler")? else {
            return Ok(None);
        };
        let status: String = row.try_get("status")?;
        Ok(Some(HandlerOutcome {
            handler,
            status: Status::parse(&status)
                .ok_or_else(|| StoreError(format!("unknown outcome {status:?}")))?,
            attempt: u32::try_from(row.try_get::<i64, _>("attempt")?).unwrap_or(0),
            error: row.try_get("error")?,
            at: time(row.try_get("at")?),
        }))
    }

    pub(crate) async fn list(&self, filter: &Filter) -> StoreResult<Vec<Summary>> {
        let (event, action) = match filter.event.as_deref() {
            Some(e) => match e.split_once('.') {
                Some((event, action)) => (event.to_owned(), action.to_owned()),
                None => (e.to_owned(), String::new()),
            },
            None => (String::new(), String::new()),
        };
        let rows = sqlx::query::<DB>(LIST)
            .bind(self.queue.clone())
            .bind(filter.since.map_or(i64::MIN, |s| s.timestamp_millis()))
            .bind(event)
            .bind(action)
            .bind(i64::from(filter.failed))
            .bind(i64::try_from(filter.limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let mut out: Vec<Summary> = Vec::new();
        for row in &rows {
            let id: String = row.try_get("id")?;
            if out.last().is_none_or(|s| s.id != id) {
                out.push(Summary {
                    id,
                    event: row.try_get("event")?,
                    action: row.try_get("action")?,
                    repository: row.try_get("repository")?,
                    received_at: time(row.try_get("received_at")?),
                    replay_of: row.try_get("replay_of")?,
                    outcomes: Vec::new(),
                });
            }
            if let (Some(outcome), Some(summary)) = (Self::outcome(row)?, out.last_mut()) {
                summary.outcomes.push(outcome);
            }
        }
        Ok(out)
    }

    pub(crate) async fn get(&self, id: &str) -> StoreResult<Option<Record>> {
        let Some(row) = sqlx::query::<DB>(GET)
            .bind(self.queue.clone())
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let outcomes = sqlx::query::<DB>(OUTCOMES_OF)
            .bind(self.queue.clone())
            .bind(id.to_owned())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .filter_map(|row| Self::outcome(row).transpose())
            .collect::<StoreResult<Vec<_>>>()?;
        let headers: String = row.try_get("headers")?;
        let body: Vec<u8> = row.try_get("body")?;
        Ok(Some(Record {
            id: row.try_get("id")?,
            event: row.try_get("event")?,
            action: row.try_get("action")?,
            installation: row
                .try_get::<Option<i64>, _>("installation")?
                .and_then(|i| u64::try_from(i).ok()),
            repository: row.try_get("repository")?,
            received_at: time(row.try_get("received_at")?),
            headers: serde_json::from_str(&headers)?,
            replay_of: row.try_get("replay_of")?,
            outcomes,
            body: body.into(),
        }))
    }

    pub(crate) async fn prune(&self, before: i64, max: u64) -> StoreResult<u64> {
        let old = sqlx::query::<DB>(PRUNE_OLD)
            .bind(self.queue.clone())
            .bind(before)
            .execute(&self.pool)
            .await?;
        let many = sqlx::query::<DB>(PRUNE_MANY)
            .bind(self.queue.clone())
            .bind(i64::try_from(max).unwrap_or(i64::MAX).saturating_sub(1))
            .execute(&self.pool)
            .await?;
        sqlx::query::<DB>(PRUNE_OUTCOMES)
            .bind(self.queue.clone())
            .execute(&self.pool)
            .await?;
        Ok(DB::rows_affected(&old) + DB::rows_affected(&many))
    }
}
