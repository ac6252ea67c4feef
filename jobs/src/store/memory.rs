//! The in-process store behind the `memory` URL: maps and an ordered ready set under one
//! mutex, for tests and demos. Nothing survives the process. Memory stays flat under load:
//! finished jobs are dropped at once (only counted), failed ones are kept up to
//! [`QueueConfig::memory_capacity`], and the dedupe set holds at most that many keys (the
//! oldest claims are forgotten first, as well as expired ones).

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use crate::config::QueueConfig;
use crate::error::Error;
use crate::job::{FailedJob, JobId, Payload, Pushed, Stats, dur_ms, ms_to_time, now_ms};
use crate::store::{Ack, Leased, NewJob, decode_job, to_u32};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Unknown,
    Running,
    Failed,
}

#[derive(Debug)]
struct Entry {
    kind: String,
    key: Option<String>,
    payload: Payload,
    body: Option<Bytes>,
    meta: String,
    enqueued_at: i64,
    status: Status,
    attempts: i64,
    max_attempts: i64,
    run_at: i64,
    lock_by: Option<Arc<str>>,
    last_error: Option<String>,
    done_at: Option<i64>,
}

#[derive(Debug, Default)]
struct Inner {
    jobs: HashMap<String, Entry>,
    /// Pending and unknown jobs by (run_at, id).
    ready: BTreeSet<(i64, String)>,
    /// key → (job id, expires at, claim number).
    dedupe: HashMap<Arc<str>, (String, i64, u64)>,
    /// Keys with their claim number in the order they were claimed, to forget the oldest
    /// first.
    dedupe_order: VecDeque<(Arc<str>, u64)>,
    seq: u64,
    /// Failed job ids, oldest first.
    failed: VecDeque<String>,
    /// Worker name → last heartbeat.
    workers: HashMap<String, i64>,
    done: u64,
}

/// The in-process store; clones share it.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    inner: Arc<Mutex<Inner>>,
    capacity: usize,
    keep_failed_ms: i64,
}

impl Store {
    pub(crate) fn new(config: &QueueConfig) -> Store {
        Store {
            inner: Arc::default(),
            capacity: config.memory_capacity.max(1),
            keep_failed_ms: dur_ms(config.keep_failed),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code panics while holding the lock; a poisoned lock still holds valid maps.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) async fn push_batch(
        &self,
        jobs: &[NewJob],
    ) -> Result<Vec<Result<Pushed, Error>>, Error> {
        Ok(jobs.iter().map(|job| self.push(job.clone())).collect())
    }

    /// Stores one job (claimed by [`NewJob::lease_to`] when set) unless its key is taken.
    pub(crate) fn push(&self, job: NewJob) -> Result<Pushed, Error> {
        let now = now_ms();
        let mut inner = self.lock();
        // Waiting and running jobs are bounded too: past the capacity a push is refused
        // (a webhook receiver then answers 503 and the platform redelivers later).
        if inner.jobs.len().saturating_sub(inner.failed.len()) >= self.capacity {
            return Err(Error::Unavailable(format!(
                "the in-process queue holds {} jobs, its capacity",
                self.capacity
            )));
        }
        if let (true, Some(key)) = (job.unique, job.key.as_deref()) {
            if let Some((id, expires, _)) = inner.dedupe.get(key)
                && *expires > now
            {
                return Ok(Pushed::Duplicate(JobId(id.clone())));
            }
            self.claim(&mut inner, key, &job.id.0, job.dedupe_expires_at, now);
        }
        let (status, attempts, lock_by) = match &job.lease_to {
            Some(worker) => (Status::Running, 1, Some(worker.clone())),
            None => {
                inner.ready.insert((job.run_at, job.id.0.clone()));
                (Status::Pending, 0, None)
            }
        };
        let id = job.id.clone();
        inner.jobs.insert(
            job.id.0,
            Entry {
                kind: job.kind,
                key: job.key,
                payload: job.payload,
                body: job.body,
                meta: job.meta,
                enqueued_at: job.enqueued_at,
                status,
                attempts,
                max_attempts: job.max_attempts,
                run_at: job.run_at,
                lock_by,
                last_error: None,
                done_at: None,
            },
        );
        Ok(Pushed::Enqueued(id))
    }

    /// Claims `key` for `job` until `expires`, then forgets keys beyond the capacity (oldest
    /// claims first) and expired ones at the front of the claim order.
    fn claim(&self, inner: &mut Inner, key: &str, job: &str, expires: i64, now: i64) {
        inner.seq += 1;
        let seq = inner.seq;
        let key: Arc<str> = key.into();
        inner
            .dedupe
            .insert(key.clone(), (job.to_owned(), expires, seq));
        inner.dedupe_order.push_back((key, seq));
        while let Some((front, seq)) = inner.dedupe_order.front() {
            let current = inner.dedupe.get(front);
            // A key claimed again later, or freed, leaves a stale entry in the order.
            let live = current.is_some_and(|c| c.2 == *seq);
            let expired = current.is_some_and(|c| c.1 <= now);
            let over =
                inner.dedupe.len() > self.capacity || inner.dedupe_order.len() > 2 * self.capacity;
            if live && !expired && !over {
                break;
            }
            if let Some((front, _)) = inner.dedupe_order.pop_front()
                && live
            {
                inner.dedupe.remove(&front);
            }
        }
    }

    pub(crate) async fn fetch(&self, worker: &str, limit: usize) -> Result<Vec<Leased>, Error> {
        let now = now_ms();
        let mut inner = self.lock();
        let due: Vec<(i64, String)> = inner
            .ready
            .iter()
            .take_while(|(run_at, _)| *run_at <= now)
            .take(limit)
            .cloned()
            .collect();
        let mut out = Vec::with_capacity(due.len());
        for slot in due {
            inner.ready.remove(&slot);
            let Some(entry) = inner.jobs.get_mut(&slot.1) else {
                continue;
            };
            entry.status = Status::Running;
            entry.lock_by = Some(worker.into());
            entry.attempts += 1;
            out.push(Leased {
                id: JobId(slot.1.clone()),
                job: decode_job(
                    entry.kind.clone(),
                    entry.payload.clone(),
                    entry.body.clone(),
                    entry.key.clone(),
                    &entry.meta,
                    entry.enqueued_at,
                ),
                attempts: to_u32(entry.attempts),
                max_attempts: to_u32(entry.max_attempts),
            });
        }
        Ok(out)
    }

    pub(crate) async fn ack(&self, id: &JobId, worker: &str, ack: &Ack) -> Result<bool, Error> {
        Ok(self.ack_now(id, worker, ack))
    }

    /// Records `worker`'s outcome for job `id`; `false` when `worker` no longer holds it.
    pub(crate) fn ack_now(&self, id: &JobId, worker: &str, ack: &Ack) -> bool {
        let now = now_ms();
        let mut inner = self.lock();
        let Some(entry) = inner.jobs.get_mut(&id.0) else {
            return false;
        };
        if entry.status != Status::Running || entry.lock_by.as_deref() != Some(worker) {
            return false;
        }
        entry.lock_by = None;
        match ack {
            Ack::Done => {
                let entry = inner.jobs.remove(&id.0);
                inner.done += 1;
                // Freed after the lock is let go.
                drop(inner);
                drop(entry);
                return true;
            }
            Ack::Retry { run_at, error } => {
                entry.status = Status::Pending;
                entry.run_at = *run_at;
                entry.last_error = Some(error.clone());
                inner.ready.insert((*run_at, id.0.clone()));
            }
            Ack::Release {
                run_at,
                error,
                unknown,
            } => {
                entry.status = if *unknown {
                    Status::Unknown
                } else {
                    Status::Pending
                };
                entry.run_at = *run_at;
                entry.attempts = (entry.attempts - 1).max(0);
                if let Some(error) = error {
                    entry.last_error = Some(error.clone());
                }
                inner.ready.insert((*run_at, id.0.clone()));
            }
            Ack::Fail { error } => {
                entry.status = Status::Failed;
                entry.done_at = Some(now);
                entry.last_error = Some(error.clone());
                // A finally failed job frees its key: pushing it again may run it again.
                if let Some(key) = entry.key.clone()
                    && inner
                        .dedupe
                        .get(key.as_str())
                        .is_some_and(|(job, ..)| *job == id.0)
                {
                    inner.dedupe.remove(key.as_str());
                }
                inner.failed.push_back(id.0.clone());
                self.bound_failed(&mut inner, now);
            }
        }
        true
    }

    /// Drops failed jobs beyond the capacity or past `keep_failed`, oldest first.
    fn bound_failed(&self, inner: &mut Inner, now: i64) {
        while let Some(oldest) = inner.failed.front().cloned() {
            let entry = inner.jobs.get(&oldest);
            let gone = entry.is_none_or(|e| e.status != Status::Failed);
            let expired = entry
                .and_then(|e| e.done_at)
                .is_some_and(|t| t < now - self.keep_failed_ms);
            if !(gone || expired || inner.failed.len() > self.capacity) {
                break;
            }
            inner.failed.pop_front();
            if !gone {
                inner.jobs.remove(&oldest);
            }
        }
    }

    pub(crate) async fn heartbeat(&self, worker: &str, config: &QueueConfig) -> Result<u64, Error> {
        let now = now_ms();
        let orphan_ms = dur_ms(config.orphan_timeout);
        let mut inner = self.lock();
        inner.workers.insert(worker.to_owned(), now);
        let alive: Vec<String> = inner
            .workers
            .iter()
            .filter(|(_, seen)| **seen > now - orphan_ms)
            .map(|(name, _)| name.clone())
            .collect();
        let orphans: Vec<String> = inner
            .jobs
            .iter()
            .filter(|(_, e)| {
                e.status == Status::Running
                    && e.lock_by
                        .as_deref()
                        .is_some_and(|w| !alive.iter().any(|a| a == w))
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in &orphans {
            let Some(entry) = inner.jobs.get_mut(id) else {
                continue;
            };
            entry.last_error = Some(format!(
                "worker {} died while running the job",
                entry.lock_by.take().as_deref().unwrap_or_default()
            ));
            entry.run_at = now;
            if entry.attempts >= entry.max_attempts {
                entry.status = Status::Failed;
                entry.done_at = Some(now);
                inner.failed.push_back(id.clone());
            } else {
                entry.status = Status::Pending;
                inner.ready.insert((now, id.clone()));
            }
        }
        self.bound_failed(&mut inner, now);
        inner
            .workers
            .retain(|_, seen| *seen >= now - orphan_ms - 3_600_000);
        Ok(orphans.len() as u64)
    }

    pub(crate) async fn still_leased(
        &self,
        worker: &str,
        ids: &[JobId],
    ) -> Result<Vec<JobId>, Error> {
        let inner = self.lock();
        Ok(ids
            .iter()
            .filter(|id| {
                inner.jobs.get(&id.0).is_some_and(|e| {
                    e.status == Status::Running && e.lock_by.as_deref() == Some(worker)
                })
            })
            .cloned()
            .collect())
    }

    pub(crate) async fn deregister(&self, worker: &str) -> Result<(), Error> {
        self.lock().workers.remove(worker);
        Ok(())
    }

    pub(crate) async fn failed(&self, limit: usize) -> Result<Vec<FailedJob>, Error> {
        let inner = self.lock();
        Ok(inner
            .failed
            .iter()
            .rev()
            .filter_map(|id| {
                let e = inner.jobs.get(id).filter(|e| e.status == Status::Failed)?;
                Some(FailedJob {
                    id: JobId(id.clone()),
                    kind: e.kind.clone(),
                    key: e.key.clone(),
                    attempts: to_u32(e.attempts),
                    last_error: e.last_error.clone(),
                    payload: (*e.payload).clone(),
                    enqueued_at: ms_to_time(e.enqueued_at),
                    failed_at: e.done_at.map(ms_to_time),
                })
            })
            .take(limit)
            .collect())
    }

    pub(crate) async fn retry(&self, id: &JobId, config: &QueueConfig) -> Result<bool, Error> {
        let now = now_ms();
        let mut inner = self.lock();
        let Some(entry) = inner
            .jobs
            .get_mut(&id.0)
            .filter(|e| e.status == Status::Failed)
        else {
            return Ok(false);
        };
        entry.status = Status::Pending;
        entry.attempts = 0;
        entry.run_at = now;
        entry.done_at = None;
        let key = entry.key.clone();
        inner.ready.insert((now, id.0.clone()));
        inner.failed.retain(|f| f != &id.0);
        if let Some(key) = key {
            let expires = now.saturating_add(dur_ms(config.dedupe_ttl));
            self.claim(&mut inner, &key, &id.0, expires, now);
        }
        Ok(true)
    }

    pub(crate) async fn stats(&self) -> Result<Stats, Error> {
        let inner = self.lock();
        let mut stats = Stats {
            done: inner.done,
            ..Stats::default()
        };
        for e in inner.jobs.values() {
            match e.status {
                Status::Pending => stats.pending += 1,
                Status::Unknown => {
                    stats.pending += 1;
                    stats.unknown += 1;
                }
                Status::Running => stats.running += 1,
                Status::Failed => stats.failed += 1,
            }
        }
        Ok(stats)
    }

    pub(crate) async fn ping(&self) -> Result<(), Error> {
        Ok(())
    }

    /// How many dedupe keys and claim-order entries are held (tests of the bound).
    #[cfg(test)]
    pub(crate) fn dedupe_len(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.dedupe.len(), inner.dedupe_order.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(key: &str) -> NewJob {
        let now = now_ms();
        NewJob {
            id: JobId::generate(),
            kind: "k".into(),
            key: Some(key.into()),
            payload: Payload::from(serde_json::json!({})),
            body: None,
            body_kept_as: None,
            meta: "{}".into(),
            enqueued_at: now,
            run_at: now,
            max_attempts: 1,
            unique: true,
            dedupe_expires_at: now + 3_600_000,
            lease_to: None,
        }
    }

    async fn push(store: &Store, key: &str) -> Pushed {
        let mut out = store.push_batch(&[job(key)]).await.unwrap();
        out.pop().unwrap().unwrap()
    }

    #[tokio::test]
    async fn memory_stays_flat_however_many_jobs_pass() {
        let store = Store::new(&QueueConfig::new("memory").memory_capacity(100));
        for i in 0..5_000 {
            assert!(matches!(
                push(&store, &format!("k{i}")).await,
                Pushed::Enqueued(_)
            ));
            for leased in store.fetch("w", 10).await.unwrap() {
                let ack = if i % 2 == 0 {
                    Ack::Done
                } else {
                    Ack::Fail { error: "no".into() }
                };
                assert!(store.ack(&leased.id, "w", &ack).await.unwrap());
            }
        }
        let (keys, order) = store.dedupe_len();
        assert!(keys <= 100 && order <= 200, "{keys} keys, {order} in order");
        let stats = store.stats().await.unwrap();
        assert_eq!(stats.done, 2_500);
        assert!(stats.failed <= 100, "{stats:?}");
        assert_eq!(store.lock().jobs.len() as u64, stats.failed);
        // The newest keys are still claimed (done ones); the oldest were forgotten.
        assert!(matches!(push(&store, "k4998").await, Pushed::Duplicate(_)));
        assert!(matches!(push(&store, "k0").await, Pushed::Enqueued(_)));
    }

    #[tokio::test]
    async fn retry_release_and_orphans_follow_the_sql_semantics() {
        let config = QueueConfig::new("memory").orphan_timeout(std::time::Duration::ZERO);
        let store = Store::new(&config);
        push(&store, "a").await;
        let leased = store.fetch("dead", 5).await.unwrap();
        assert_eq!((leased.len(), leased[0].attempts), (1, 1));
        assert!(
            store.fetch("other", 5).await.unwrap().is_empty(),
            "leased once"
        );
        // Not our lease: refused.
        assert!(!store.ack(&leased[0].id, "other", &Ack::Done).await.unwrap());
        // The dead worker's job fails (max_attempts 1 used up) on the next heartbeat.
        assert_eq!(store.heartbeat("other", &config).await.unwrap(), 1);
        let failed = store.failed(10).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert!(failed[0].last_error.as_deref().unwrap().contains("died"));
        // A failed job's key is free; retry claims it again.
        assert!(store.retry(&failed[0].id, &config).await.unwrap());
        assert!(matches!(push(&store, "a").await, Pushed::Duplicate(_)));
        let again = store.fetch("w", 5).await.unwrap();
        let release = Ack::Release {
            run_at: now_ms(),
            error: None,
            unknown: true,
        };
        assert!(store.ack(&again[0].id, "w", &release).await.unwrap());
        let stats = store.stats().await.unwrap();
        assert_eq!((stats.pending, stats.unknown), (1, 1));
        assert_eq!(
            store.fetch("w", 5).await.unwrap()[0].attempts,
            1,
            "release gives the attempt back"
        );
    }
}
