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
    records: Mutex<VecDeque<Record>>,
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
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Record>> {
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn insert(&self, records: &[Record]) {
        let mut kept = self.lock();
        for record in records {
            if kept.len() >= MEMORY_MAX {
                kept.pop_front();
            }
            kept.push_back(record.clone());
        }
    }

    pub(crate) fn outcomes(&self, outcomes: &[(String, HandlerOutcome)]) {
        let mut kept = self.lock();
        for (delivery, outcome) in outcomes {
            if let Some(record) = kept.iter_mut().rev().find(|r| &r.id == delivery) {
                set_outcome(&mut record.outcomes, outcome);
            }
        }
    }

    pub(crate) fn list(&self, filter: &Filter) -> Vec<Summary> {
        self.lock()
            .iter()
            .rev()
            .map(summary)
            .filter(|s| filter.passes(s))
            .take(filter.limit)
            .collect()
    }

    pub(crate) fn get(&self, id: &str) -> Option<Record> {
        self.lock().iter().find(|r| r.id == id).cloned()
    }

    pub(crate) fn prune(&self, before: i64, max: u64) -> u64 {
        let mut kept = self.lock();
        let start = kept.len();
        kept.retain(|r| r.received_at.timestamp_millis() >= before);
        let max = usize::try_from(max).unwrap_or(usize::MAX);
        while kept.len() > max {
            kept.pop_front();
        }
        (start - kept.len()) as u64
    }
}
