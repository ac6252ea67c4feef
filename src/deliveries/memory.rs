//! The log in process memory (for `ATOMBOT_QUEUE=memory`: tests and demos).

use std::collections::VecDeque;
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
    /// Outcomes that came before their delivery's record (in process, a handler can finish
    /// before the receiver has logged its delivery), at most [`MEMORY_MAX`] deliveries'.
    early: VecDeque<(String, HandlerOutcome)>,
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

impl MemoryLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn insert(&self, records: &[Record]) {
        let mut inner = self.lock();
        for record in records {
            if inner.records.len() >= MEMORY_MAX {
                inner.records.pop_front();
            }
            let mut record = record.clone();
            let early = std::mem::take(&mut inner.early);
            for (delivery, outcome) in early {
                if delivery == record.id {
                    set_outcome(&mut record.outcomes, &outcome);
                } else {
                    inner.early.push_back((delivery, outcome));
                }
            }
            inner.records.push_back(record);
        }
    }

    pub(crate) fn outcomes(&self, outcomes: &[(String, HandlerOutcome)]) {
        let mut inner = self.lock();
        for (delivery, outcome) in outcomes {
            match inner.records.iter_mut().rev().find(|r| &r.id == delivery) {
                Some(record) => set_outcome(&mut record.outcomes, outcome),
                None => {
                    if inner.early.len() >= MEMORY_MAX {
                        inner.early.pop_front();
                    }
                    inner.early.push_back((delivery.clone(), outcome.clone()));
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
        self.lock().records.iter().find(|r| r.id == id).cloned()
    }

    pub(crate) fn prune(&self, before: i64, max: u64) -> u64 {
        let mut inner = self.lock();
        let kept = &mut inner.records;
        let start = kept.len();
        kept.retain(|r| r.received_at.timestamp_millis() >= before);
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        while kept.len() > max {
            kept.pop_front();
        }
        (start - kept.len()) as u64
    }
}
