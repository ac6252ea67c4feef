//! The log in the queue's Postgres database: the tables of `sql.rs`, written through a small
//! sqlx pool of its own.

use std::fmt;
use std::time::Duration;

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};

use super::sql::{self, GET, LIST, OUTCOMES_OF, PRUNE_MANY, PRUNE_OLD, PRUNE_OUTCOMES};
use super::store::{StoreError, StoreResult, pack_body, unpack_body};
use super::{Filter, HandlerOutcome, Record, Summary};

/// The start of a (multi-row) insert; `VALUES` follow, then `INSERT_END`.
const INSERT: &str = "INSERT INTO atombot_delivery_log \
    (queue, id, received_at, event, action, repository, replay_of, installation, headers, body) ";

/// What ends an insert: a delivery already kept stays as it is.
const INSERT_END: &str = " ON CONFLICT (queue, id) DO NOTHING";

/// Rows per insert statement (10 parameters each).
const ROWS_PER_INSERT: usize = 256;

/// The tables in one database, for one queue name. Its `Debug` shows no URL.
#[derive(Clone)]
pub(crate) struct PostgresLog {
    pool: PgPool,
    queue: String,
}

impl fmt::Debug for PostgresLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresLog")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

/// The outcome columns of `row`, if it has an outcome.
fn outcome(row: &PgRow) -> StoreResult<Option<HandlerOutcome>> {
    sql::outcome(
        row.try_get("handler")?,
        row.try_get("status")?,
        row.try_get("attempt")?,
        row.try_get("error")?,
        row.try_get("at")?,
    )
}

impl PostgresLog {
    /// The log in the Postgres database of `url`, its tables created if missing.
    pub(crate) async fn connect(url: &str, queue: &str) -> StoreResult<Self> {
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
        for statement in sql::POSTGRES_SCHEMA {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Self {
            pool,
            queue: queue.to_owned(),
        })
    }

    pub(crate) async fn write(
        &self,
        records: &[Record],
        outcomes: &[(String, HandlerOutcome)],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for chunk in records.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::new(INSERT);
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
                    .push_bind(pack_body(&r.body));
            });
            insert.push(INSERT_END);
            insert.build().execute(&mut *tx).await?;
        }
        for (delivery, o) in outcomes {
            sqlx::query(sql::UPSERT_OUTCOME)
                .bind(&self.queue)
                .bind(delivery)
                .bind(&o.handler)
                .bind(o.status.as_str())
                .bind(i64::from(o.attempt))
                .bind(&o.error)
                .bind(o.at.timestamp_millis())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn list(&self, filter: &Filter) -> StoreResult<Vec<Summary>> {
        let (event, action) = sql::event_and_action(filter.event.as_deref());
        let rows = sqlx::query(LIST)
            .bind(&self.queue)
            .bind(filter.since.map_or(i64::MIN, |s| s.timestamp_millis()))
            .bind(event)
            .bind(action)
            .bind(i64::from(filter.failed))
            .bind(i64::try_from(filter.limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for row in &rows {
            let summary = |id| {
                Ok(Summary {
                    id,
                    event: row.try_get("event")?,
                    action: row.try_get("action")?,
                    repository: row.try_get("repository")?,
                    received_at: sql::time(row.try_get("received_at")?),
                    replay_of: row.try_get("replay_of")?,
                    outcomes: Vec::new(),
                })
            };
            sql::fold_row(&mut out, row.try_get("id")?, summary, outcome(row)?)?;
        }
        Ok(out)
    }

    pub(crate) async fn get(&self, id: &str) -> StoreResult<Option<Record>> {
        let Some(row) = sqlx::query(GET)
            .bind(&self.queue)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let outcomes = sqlx::query(OUTCOMES_OF)
            .bind(&self.queue)
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .filter_map(|row| outcome(row).transpose())
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
            received_at: sql::time(row.try_get("received_at")?),
            headers: serde_json::from_str(&headers)?,
            replay_of: row.try_get("replay_of")?,
            outcomes,
            body: unpack_body(body)?,
        }))
    }

    pub(crate) async fn prune(&self, before: i64, max: u64) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        let old = sqlx::query(PRUNE_OLD)
            .bind(&self.queue)
            .bind(before)
            .execute(&mut *tx)
            .await?;
        let many = sqlx::query(PRUNE_MANY)
            .bind(&self.queue)
            .bind(i64::try_from(max).unwrap_or(i64::MAX).saturating_sub(1))
            .execute(&mut *tx)
            .await?;
        sqlx::query(PRUNE_OUTCOMES)
            .bind(&self.queue)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(old.rows_affected() + many.rows_affected())
    }
}
