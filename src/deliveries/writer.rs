//! The log's background writer: records and outcomes arrive on a channel and are stored in
//! batches, off the acknowledgement's path; old records are pruned every minute.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;

use super::memory::MemoryLog;
use super::{DeliveryLog, Entry, HandlerOutcome, KeptHeaders, Status};
use crate::jobs::{Recorded, RecordedOutcome};
use crate::webhook::Delivery;

/// Records and outcomes waiting to be written at most (a few megabytes of bodies); more are
/// dropped and counted, never waited for: the log must not slow the receiver down.
const CHANNEL: usize = 1_024;

/// Items written per batch at most.
const BATCH: usize = 512;

/// How long the writer gathers after a batch before taking the next: under load, one wake
/// per this interval rather than one per delivery.
const GATHER: Duration = Duration::from_millis(20);

/// How often old records are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

enum Op {
    Record(Entry),
    Outcome(String, HandlerOutcome),
}

/// Hands records and outcomes to the writer task (or, for the in-memory log, stores them
/// at once: that costs less than handing them over). Cheap to clone.
#[derive(Clone)]
pub(crate) struct LogWriter {
    tx: mpsc::Sender<Op>,
    memory: Option<Arc<MemoryLog>>,
    dropped: Arc<AtomicU64>,
    /// The queue keeps each logged delivery's body under its id.
    bodies_in_queue: bool,
}

impl std::fmt::Debug for LogWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogWriter")
            .field("dropped", &self.dropped.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl LogWriter {
    /// Starts the writer task for `log`; it ends once every `LogWriter` is dropped, after
    /// writing what it was given. With `bodies_in_queue`, the queue keeps each logged
    /// delivery's body under its id, so the log stores none.
    pub(crate) fn spawn(log: DeliveryLog, bodies_in_queue: bool) -> LogWriter {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let memory = log.memory();
        tokio::spawn(write(log, rx));
        LogWriter {
            tx,
            memory,
            dropped: Arc::default(),
            bodies_in_queue,
        }
    }

    fn send(&self, op: Op) {
        if self.tx.try_send(op).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped = n,
                    "the delivery log falls behind; records dropped (deliveries are not)"
                );
            }
        }
    }

    /// Logs `delivery`, accepted with `headers`.
    pub(crate) fn record(&self, delivery: &Delivery, headers: KeptHeaders) {
        match &self.memory {
            Some(memory) => memory.record_now(delivery, &headers),
            None => {
                let entry = Entry::new(delivery, headers);
                self.send(Op::Record(if self.bodies_in_queue {
                    entry.body_in_queue()
                } else {
                    entry
                }));
            }
        }
    }

    /// Logs what the queue recorded for a handler unit (other jobs are not deliveries').
    pub(crate) fn recorded(&self, recorded: &Recorded) {
        let Some((delivery, handler)) = unit_of(recorded) else {
            return;
        };
        let (status, error) = match &recorded.outcome {
            RecordedOutcome::Done => (Status::Succeeded, None),
            RecordedOutcome::Retry { error } => (Status::Retrying, Some(error)),
            RecordedOutcome::Released { error: Some(error) } => (Status::Retrying, Some(error)),
            RecordedOutcome::Failed { error } => (Status::Failed, Some(error)),
            // Handed back unrun (shutdown, or a handler this process does not know).
            _ => return,
        };
        let error = error.map(String::as_str);
        if let Some(memory) = &self.memory {
            memory.outcome_now(delivery, handler, status, recorded.attempt, error);
            return;
        }
        self.send(Op::Outcome(
            delivery.to_owned(),
            HandlerOutcome {
                handler: handler.to_owned(),
                status,
                attempt: recorded.attempt,
                error: error.map(str::to_owned),
                at: Utc::now(),
            },
        ));
    }
}

/// The delivery id and handler name of a handler unit (kind `handler:{name}`, key
/// `handler:{delivery}:{name}`).
fn unit_of(recorded: &Recorded) -> Option<(&str, &str)> {
    let handler = recorded.kind.strip_prefix("handler:")?;
    let delivery = recorded
        .key
        .as_deref()?
        .strip_prefix("handler:")?
        .strip_suffix(handler)?
        .strip_suffix(':')?;
    Some((delivery, handler))
}

async fn write(log: DeliveryLog, mut rx: mpsc::Receiver<Op>) {
    let mut ops = Vec::with_capacity(BATCH);
    let mut next_prune = tokio::time::Instant::now();
    loop {
        let received = tokio::select! {
            n = rx.recv_many(&mut ops, BATCH) => Some(n),
            () = tokio::time::sleep_until(next_prune) => None,
        };
        match received {
            Some(0) => return,
            Some(_) => {
                let mut records = Vec::with_capacity(ops.len());
                let mut outcomes = Vec::with_capacity(ops.len());
                for op in ops.drain(..) {
                    match op {
                        Op::Record(entry) => records.push(entry),
                        Op::Outcome(delivery, outcome) => outcomes.push((delivery, outcome)),
                    }
                }
                let (n, m) = (records.len(), outcomes.len());
                if let Err(error) = log.write_entries(records, outcomes).await {
                    tracing::warn!(%error, records = n, outcomes = m, "could not write to the delivery log");
                }
                // Senders do not wake a sleeping writer: what arrives meanwhile is the next
                // batch.
                tokio::time::sleep(GATHER).await;
            }
            None => {
                next_prune = tokio::time::Instant::now() + PRUNE_EVERY;
                match log.prune().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(pruned = n, "delivery log pruned"),
                    Err(error) => tracing::warn!(%error, "could not prune the delivery log"),
                }
            }
        }
    }
}
