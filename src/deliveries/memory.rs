//! The log in process memory (for `ATOMBOT_QUEUE=memory`: tests and demos).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::{Filter, HandlerOutcome, Record, Summary};

/// How many records the in-memory log keeps at most, whatever `ATOMBOT_DELIVERY_LOG_MAX`
/// says: it lives in the process's memory.
pub(crate) const MEMORY_MAX: usize = 1_000;

/// Records oldest first, at most [`MEMORY_MAX`].
#[derive(Debug, Default)]
pub(crate) struct MemoryLog {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    records: VecDeque<Record>,
    /// The sequence number of `records[0]`; a record's is its place in insertion order.
    first: u64,
    /// Each kept record's sequence number, by delivery id.
    index: HashMap<String, u64>,
    /// Outcomes that came before their delivery's record (in process, a handler can finish
    /// before the receiver has logged its delivery), by delivery, at most [`MEMORY_MAX`]
    /// deliveries' (then cleared: those records were dropped from the writer's queue).
    early: HashMap<String, Vec<HandlerOutcome>>,
}

/// The summary of `record`.
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
    match outcomes.iter_mut().find(|o| o.handler == outcome.handler) {
        Some(kept) if kept.attempt <= outcome.attempt => *kept = outcome.clone(),
        Some(_) => {}
        None => outcomes.push(outcome.clone()),
    }
}

impl Inner {
    fn pop_oldest(&mut self) {
        if let Some(old) = self.records.pop_front() {
            self.index.remove(&old.id);
            self.first += 1;
        }
    }

    /// Where the record of `id` is in `records`.
    fn position(&self, id: &str) -> Option<usize> {
        let seq = *self.index.get(id)?;
        usize::try_from(seq - self.first).ok()
    }
}

impl MemoryLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn insert(&self, records: Vec<Record>) {
        let mut inner = self.lock();
        for record in records {
            if inner.records.len() >= MEMORY_MAX {
                inner.pop_oldest();
            }
            let mut record = record;
            for outcome in inner.early.remove(&record.id).unwrap_or_default() {
                set_outcome(&mut record.outcomes, &outcome);
            }
            let seq = inner.first + inner.records.len() as u64;
            inner.index.insert(record.id.clone(), seq);
            inner.records.push_back(record);
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
            .map(summary)
            .filter(|s| filter.passes(s))
            .take(filter.limit)
            .collect()
    }

    pub(crate) fn get(&self, id: &str) -> Option<Record> {
        let inner = self.lock();
        inner.position(id).map(|at| inner.records[at].clone())
    }

    pub(crate) fn prune(&self, before: i64, max: u64) -> u64 {
        let mut inner = self.lock();
        let start = inner.records.len();
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        // Records are in the order received: the old ones are at the front.
        while inner
            .records
            .front()
            .is_some_and(|r| r.received_at.timestamp_millis() < before)
            || inner.records.len() > max
        {
            inner.pop_oldest();
        }
        (start - inner.records.len()) as u64
    }
}
