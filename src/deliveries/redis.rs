//! The log in Redis, beside the queue (prefix `atombot:{queue}:dlog:`): a sorted set of
//! delivery ids by time received, a hash per delivery (`d:{id}`: its record and body) and a
//! hash of outcomes per delivery (`o:{id}`: handler → latest outcome).

use std::collections::HashMap;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::memory::set_outcome;
use super::store::{StoreError, StoreResult, pack_body, unpack_body};
use super::{Filter, HandlerOutcome, Record, Summary};

/// Ids read per round while listing.
const PAGE: isize = 500;

#[derive(Clone)]
pub(crate) struct RedisLog {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLog")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisLog {
    pub(crate) async fn connect(url: &str, queue: &str) -> StoreResult<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| StoreError(e.to_string().replace(url, "<the queue's URL>")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Self {
            conn,
            prefix: format!("atombot:{queue}:dlog:"),
        })
    }

    fn index(&self) -> String {
        [&self.prefix, "index"].concat()
    }

    fn record_key(&self, id: &str) -> String {
        [&self.prefix, "d:", id].concat()
    }

    fn outcomes_key(&self, id: &str) -> String {
        [&self.prefix, "o:", id].concat()
    }

    pub(crate) async fn insert(&self, records: &[Record]) -> StoreResult<()> {
        let mut pipe = redis::pipe();
        for r in records {
            pipe.zadd(self.index(), &r.id, r.received_at.timestamp_millis())
                .ignore()
                .hset_multiple(
                    self.record_key(&r.id),
                    &[
                        ("meta", serde_json::to_vec(r)?),
                        ("body", pack_body(&r.body)),
                    ],
                )
                .ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone()).await?;
        Ok(())
    }

    pub(crate) async fn outcomes(&self, outcomes: &[(String, HandlerOutcome)]) -> StoreResult<()> {
        let mut pipe = redis::pipe();
        for (delivery, o) in outcomes {
            pipe.hset(
                self.outcomes_key(delivery),
                &o.handler,
                serde_json::to_vec(o)?,
            )
            .ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone()).await?;
        Ok(())
    }

    /// The records (without body) and outcomes of `ids`, skipping ids whose record is gone.
    async fn load(&self, ids: &[String]) -> StoreResult<Vec<Record>> {
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.hget(self.record_key(id), "meta")
                .hgetall(self.outcomes_key(id));
        }
        type Loaded = (Option<Vec<u8>>, HashMap<String, Vec<u8>>);
        let loaded: Vec<Loaded> = pipe.query_async(&mut self.conn.clone()).await?;
        let mut out = Vec::with_capacity(ids.len());
        for (meta, outcomes) in loaded {
            let Some(meta) = meta else { continue };
            let mut record: Record = serde_json::from_slice(&meta)?;
            record.outcomes.clear();
            let mut decoded = outcomes
                .values()
                .map(|o| serde_json::from_slice::<HandlerOutcome>(o))
                .collect::<Result<Vec<_>, _>>()?;
            decoded.sort_by(|a, b| a.handler.cmp(&b.handler));
            for o in &decoded {
                set_outcome(&mut record.outcomes, o);
            }
            out.push(record);
        }
        Ok(out)
    }

    pub(crate) async fn list(&self, filter: &Filter) -> StoreResult<Vec<Summary>> {
        let min = filter
            .since
            .map_or_else(|| "-inf".to_owned(), |s| s.timestamp_millis().to_string());
        let mut out = Vec::new();
        let mut offset = 0;
        while out.len() < filter.limit {
            let ids: Vec<String> = redis::cmd("ZRANGE")
                .arg(self.index())
                .arg("+inf")
                .arg(&min)
                .arg("BYSCORE")
                .arg("REV")
                .arg("LIMIT")
                .arg(offset)
                .arg(PAGE)
                .query_async(&mut self.conn.clone())
                .await?;
            if ids.is_empty() {
                break;
            }
            offset += PAGE;
            for record in self.load(&ids).await? {
                let summary = super::memory::summary(&record);
                if filter.passes(&summary) && out.len() < filter.limit {
                    out.push(summary);
                }
            }
        }
        Ok(out)
    }

    pub(crate) async fn get(&self, id: &str) -> StoreResult<Option<Record>> {
        let ids = [id.to_owned()];
        let Some(mut record) = self.load(&ids).await?.pop() else {
            return Ok(None);
        };
        let body: Option<Vec<u8>> = redis::cmd("HGET")
            .arg(self.record_key(id))
            .arg("body")
            .query_async(&mut self.conn.clone())
            .await?;
        record.body = unpack_body(body.unwrap_or_default())?;
        Ok(Some(record))
    }

    async fn remove(&self, ids: &[String]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for id in ids {
            pipe.del(self.record_key(id))
                .ignore()
                .del(self.outcomes_key(id))
                .ignore()
                .zrem(self.index(), id)
                .ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone()).await?;
        Ok(())
    }

    pub(crate) async fn prune(&self, before: i64, max: u64) -> StoreResult<u64> {
        let mut conn = self.conn.clone();
        let old: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.index())
            .arg("-inf")
            .arg(format!("({before}"))
            .arg("BYSCORE")
            .query_async(&mut conn)
            .await?;
        self.remove(&old).await?;
        let count: u64 = redis::cmd("ZCARD")
            .arg(self.index())
            .query_async(&mut conn)
            .await?;
        let extra = count.saturating_sub(max);
        let many: Vec<String> = if extra > 0 {
            redis::cmd("ZRANGE")
                .arg(self.index())
                .arg(0)
                .arg(extra - 1)
                .query_async(&mut conn)
                .await?
        } else {
            Vec::new()
        };
        self.remove(&many).await?;
        Ok((old.len() + many.len()) as u64)
    }
}
