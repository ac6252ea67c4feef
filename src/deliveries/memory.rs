//! The log in process memory (for `ATOMBOT_QUEUE=memory`: tests and demos).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::{Entry, Filter, HandlerOutcome, KeptHeaders, Record, Status, Summary};
use crate::webhook::Delivery;

/// How many records the in-memory log keeps at most, whatever `ATOMBOT_DELIVERY_LOG_MAX`
/// says: it lives in the process's memory.
pub(crate) const MEMORY_MAX: usize = 1_000;

/// Records oldest first, at most [`MEMORY_MAX`].
#[derive(Debug, Default)]
pub(crate) struct MemoryLog {
    inner: Mutex<Inner>,
}

/// A kept delivery: the receiver's entry, and its outcomes.
#[derive(Debug, Default)]
struct Kept {
    entry: Entry,
    outcomes: Vec<HandlerOutcome>,
}

#[derive(Debug, Default)]
struct Inner {
    records: VecDeque<Kept>,
    /// The sequence number of `records[0]`; a record's is its place in insertion order.
    first: u64,
    /// Each kept record's sequence number, by a hash of its delivery id (checked against
    /// the record's id on lookup; of two ids with one hash, the later is found).
    index: HashMap<u64, u64>,
    hasher: RandomState,
    /// Outcomes that came before their delivery's record (in process, a handler can finish
    /// before the receiver has logged its delivery), by delivery, at most [`MEMORY_MAX`]
    /// deliveries' (then cleared: those records were dropped from the writer's queue).
    early: HashMap<String, Vec<HandlerOutcome>>,
}

/// The summary of `record`.
#[cfg(any(test, feature = "redis"))]
pub(crate) fn summary(record: &Record) -> Summary {
    Summary {
        id: record.id.clone(),
        event: record.event.clone(),
        action: record.action.clone(),
        repository: record.repository.clone(),
        received_at: record.received_at,
        replay_of: record.replay_of.clone(),
        outcomes: record.outcomes.clone(),
    }
}

/// Sets `outcome` as its handler's latest in `outcomes`.
pub(crate) fn set_outcome(outcomes: &mut Vec<HandlerOutcome>, outcome: &HandlerOutcome) {
    let o = outcome;
    set_outcome_of(
        outcomes,
        &o.handler,
        o.status,
        o.attempt,
        o.error.as_deref(),
        o.at,
    );
}

/// Sets the outcome of `handler` in `outcomes`, unless an outcome of a later attempt is
/// there; reuses the memory of the one it replaces.
fn set_outcome_of(
    outcomes: &mut Vec<HandlerOutcome>,
    handler: &str,
    status: Status,
    attempt: u32,
    error: Option<&str>,
    at: DateTime<Utc>,
) {
    match outcomes.iter_mut().find(|o| o.handler == handler) {
        Some(kept) if kept.attempt <= attempt => {
            kept.status = status;
            kept.attempt = attempt;
            kept.at = at;
            match (error, &mut kept.error) {
                (Some(error), Some(kept)) => error.clone_into(kept),
                (error, kept) => *kept = error.map(str::to_owned),
            }
        }
        Some(_) => {}
        None => outcomes.push(HandlerOutcome {
            handler: handler.to_owned(),
            status,
            attempt,
            error: error.map(str::to_owned),
            at,
        }),
    }
}

impl Inner {
    fn key(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    fn pop_oldest(&mut self) -> Option<Kept> {
        let old = self.records.pop_front()?;
        let key = self.key(old.entry.id());
        if self.index.get(&key) == Some(&self.first) {
            self.index.remove(&key);
        }
        self.first += 1;
        Some(old)
    }

    /// A slot for a new record: the oldest one's when full (its memory reused).
    fn slot(&mut self) -> Kept {
        let mut kept = if self.records.len() >= MEMORY_MAX {
            self.pop_oldest().unwrap_or_default()
        } else {
            Kept::default()
        };
        kept.outcomes.clear();
        kept
    }

    /// Appends `kept`, with the outcomes that came before it.
    fn push(&mut self, mut kept: Kept) {
        if !self.early.is_empty() {
            for outcome in self.early.remove(kept.entry.id()).unwrap_or_default() {
                set_outcome(&mut kept.outcomes, &outcome);
            }
        }
        let seq = self.first + self.records.len() as u64;
        let key = self.key(kept.entry.id());
        self.index.insert(key, seq);
        self.records.push_back(kept);
    }

    /// Where the record of `id` is in `records`.
    fn position(&self, id: &str) -> Option<usize> {
        let seq = *self.index.get(&self.key(id))?;
        let at = usize::try_from(seq.checked_sub(self.first)?).ok()?;
        (self.records.get(at)?.entry.id() == id).then_some(at)
    }
}

impl MemoryLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn insert(&self, entries: Vec<Entry>) {
        let mut inner = self.lock();
        for mut entry in entries {
            entry.own_body();
            let mut kept = inner.slot();
            kept.entry = entry;
            inner.push(kept);
        }
    }

    /// Keeps `delivery`, received now with `headers`, at once (the receiver's path: no
    /// writer in between, no allocation once the log is full).
    pub(crate) fn record_now(&self, delivery: &Delivery, headers: &KeptHeaders) {
        let mut inner = self.lock();
        let mut kept = inner.slot();
        kept.entry.refill(delivery, headers);
        inner.push(kept);
    }

    /// Sets a handler's outcome for `delivery` at once (the worker's path).
    pub(crate) fn outcome_now(
        &self,
        delivery: &str,
        handler: &str,
        status: Status,
        attempt: u32,
        error: Option<&str>,
    ) {
        let at = Utc::now();
        let mut inner = self.lock();
        match inner.position(delivery) {
            Some(i) => {
                set_outcome_of(
                    &mut inner.records[i].outcomes,
                    handler,
                    status,
                    attempt,
                    error,
                    at,
                );
            }
            None => {
                drop(inner);
                self.outcomes(&[(
                    delivery.to_owned(),
                    HandlerOutcome {
                        handler: handler.to_owned(),
                        status,
                        attempt,
                        error: error.map(str::to_owned),
                        at,
                    },
                )]);
            }
        }
    }

    pub(crate) fn outcomes(&self, outcomes: &[(String, HandlerOutcome)]) {
        let mut inner = self.lock();
        for (delivery, outcome) in outcomes {
            match inner.position(delivery) {
                Some(at) => set_outcome(&mut inner.records[at].outcomes, outcome),
                None => {
                    if inner.early.len() >= MEMORY_MAX && !inner.early.contains_key(delivery) {
                        inner.early.clear();
                    }
                    inner
                        .early
                        .entry(delivery.clone())
                        .or_default()
                        .push(outcome.clone());
                }
            }
        }
    }

    pub(crate) fn list(&self, filter: &Filter) -> Vec<Summary> {
        self.lock()
            .records
            .iter()
            .rev()
            .map(|kept| kept.entry.summary(&kept.outcomes))
            .filter(|s| filter.passes(s))
            .take(filter.limit)
            .collect()
    }

    pub(crate) fn get(&self, id: &str) -> Option<Record> {
        let inner = self.lock();
        let kept = &inner.records[inner.position(id)?];
        Some(kept.entry.to_record(&kept.outcomes))
    }

    pub(crate) fn prune(&self, before: i64, max: u64) -> u64 {
        let mut inner = self.lock();
        let start = inner.records.len();
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        // Records are in the order received: the old ones are at the front.
        while inner
            .records
            .front()
            .is_some_and(|r| r.entry.received_at().timestamp_millis() < before)
            || inner.records.len() > max
        {
            let _ = inner.pop_oldest();
        }
        (start - inner.records.len()) as u64
    }
}
