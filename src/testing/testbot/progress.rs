//! Follows the runtime's reports and tells when a delivery's work has finished.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, watch};

use super::outcome::{HandlerRun, JobRun, Outcome};
use atombot_jobs::RecordedOutcome;

use crate::observe::Observed;

/// What is known of every delivery and job so far; `changes` ticks on each report.
#[derive(Debug)]
pub(super) struct Progress {
    state: Mutex<State>,
    changes: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct State {
    deliveries: HashMap<String, DeliveryState>,
    jobs: HashMap<String, JobState>,
    /// Which delivery and handler each unit job id belongs to.
    units: HashMap<String, (String, String)>,
    /// Final outcomes recorded before the runtime's own report arrived, by job id.
    early: HashMap<String, Outcome>,
}

#[derive(Debug, Default)]
struct DeliveryState {
    /// The handler units (name, job id), once fanned out.
    handlers: Option<Vec<(String, String)>>,
    /// Handler runs in the order they were first reported, and whether each is final.
    runs: Vec<(HandlerRun, bool)>,
    /// Ids of the jobs queued on the delivery's behalf, in order.
    jobs: Vec<String>,
    /// Why the delivery could not be fanned out, when it failed for good.
    fan_out_failed: Option<String>,
}

#[derive(Debug)]
struct JobState {
    kind: String,
    attempts: u32,
    outcome: Option<Outcome>,
}

impl Progress {
    /// Starts following `reports`.
    pub(super) fn follow(mut reports: mpsc::UnboundedReceiver<Observed>) -> Arc<Self> {
        let progress = Arc::new(Self {
            state: Mutex::new(State::default()),
            changes: watch::channel(0).0,
        });
        let follower = Arc::clone(&progress);
        tokio::spawn(async move {
            while let Some(report) = reports.recv().await {
                follower.lock().apply(report);
                follower.changes.send_modify(|n| *n += 1);
            }
        });
        progress
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ticks whenever something was reported.
    pub(super) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Whether every handler of `delivery` (and with `and_jobs` every job it queued) has
    /// finished for good.
    pub(super) fn finished(&self, delivery: &str, and_jobs: bool) -> bool {
        self.pending(delivery, and_jobs).is_empty()
    }

    /// What `delivery` still waits for.
    pub(super) fn pending(&self, delivery: &str, and_jobs: bool) -> Vec<String> {
        let state = self.lock();
        let Some(progress) = state.deliveries.get(delivery) else {
            return vec!["fan-out into handler units".to_owned()];
        };
        if progress.fan_out_failed.is_some() {
            return Vec::new();
        }
        let Some(handlers) = &progress.handlers else {
            return vec!["fan-out into handler units".to_owned()];
        };
        let mut pending: Vec<String> = handlers
            .iter()
            .filter(|(name, _)| {
                !progress
                    .runs
                    .iter()
                    .any(|(run, last)| *last && &run.name == name)
            })
            .map(|(name, _)| format!("handler {name}"))
            .collect();
        if and_jobs {
            pending.extend(
                progress
                    .jobs
                    .iter()
                    .filter(|id| state.jobs.get(*id).is_none_or(|j| j.outcome.is_none()))
                    .map(|id| format!("job {id}")),
            );
        }
        pending
    }

    /// Why `delivery` could not be fanned out, if it failed for good.
    pub(super) fn fan_out_failed(&self, delivery: &str) -> Option<String> {
        let state = self.lock();
        state.deliveries.get(delivery)?.fan_out_failed.clone()
    }

    /// The handler and job runs of `delivery`.
    pub(super) fn runs(&self, delivery: &str) -> (Vec<HandlerRun>, Vec<JobRun>) {
        let state = self.lock();
        let Some(progress) = state.deliveries.get(delivery) else {
            return (Vec::new(), Vec::new());
        };
        let handlers = progress.runs.iter().map(|(run, _)| run.clone()).collect();
        let jobs = progress
            .jobs
            .iter()
            .filter_map(|id| {
                let job = state.jobs.get(id)?;
                Some(JobRun {
                    id: id.clone(),
                    kind: job.kind.clone(),
                    attempts: job.attempts,
                    outcome: job.outcome.clone(),
                })
            })
            .collect();
        (handlers, jobs)
    }
}

impl State {
    fn apply(&mut self, report: Observed) {
        match report {
            Observed::FannedOut { delivery, units } => {
                for (name, id) in &units {
                    self.units
                        .insert(id.clone(), (delivery.clone(), name.clone()));
                }
                self.deliveries
                    .entry(delivery.clone())
                    .or_default()
                    .handlers = Some(units.clone());
                for (_, id) in units {
                    if let Some(outcome) = self.early.remove(&id) {
                        self.finish_unit(&id, outcome);
                    }
                }
            }
            Observed::Unit {
                delivery,
                handler,
                attempt,
                outcome,
            } => {
                let run = self.run_mut(&delivery, &handler);
                run.attempts = run.attempts.max(attempt);
                run.outcome = match outcome {
                    Ok(()) => Outcome::Succeeded,
                    Err(error) => {
                        run.errors.push(error.clone());
                        Outcome::Failed(error)
                    }
                };
            }
            Observed::JobQueued { id, kind, delivery } => {
                self.job_of(&id, kind, delivery);
            }
            Observed::Job {
                id,
                kind,
                attempt,
                delivery,
                ..
            } => {
                let job = self.job_of(&id, kind, delivery);
                job.attempts = job.attempts.max(attempt);
            }
            Observed::Recorded(recorded) if recorded.kind == crate::runtime::DELIVERY_KIND => {
                // Keyed `delivery:{id}` (unless the replay guard keys it by body digest).
                let delivery = recorded
                    .key
                    .as_deref()
                    .and_then(|k| k.strip_prefix("delivery:"));
                if let (Some(delivery), RecordedOutcome::Failed { error }) =
                    (delivery, recorded.outcome)
                {
                    self.deliveries
                        .entry(delivery.to_owned())
                        .or_default()
                        .fan_out_failed = Some(error);
                }
            }
            Observed::Recorded(recorded) => {
                let outcome = match recorded.outcome {
                    RecordedOutcome::Done => Outcome::Succeeded,
                    RecordedOutcome::Failed { error } => Outcome::Failed(error),
                    _ => return,
                };
                let id = recorded.id.0;
                if let Some(job) = self.jobs.get_mut(&id) {
                    job.attempts = job.attempts.max(recorded.attempt);
                    job.outcome = Some(outcome);
                } else if self.units.contains_key(&id) {
                    self.finish_unit(&id, outcome);
                } else if !recorded.kind.starts_with("atombot.") {
                    // Finished before its fan-out or queueing was reported.
                    self.early.insert(id, outcome);
                }
            }
        }
    }

    /// The run of `handler` for `delivery`, created on first sight.
    fn run_mut(&mut self, delivery: &str, handler: &str) -> &mut HandlerRun {
        let progress = self.deliveries.entry(delivery.to_owned()).or_default();
        let index = match progress.runs.iter().position(|(r, _)| r.name == handler) {
            Some(index) => index,
            None => {
                progress.runs.push((
                    HandlerRun {
                        name: handler.to_owned(),
                        attempts: 0,
                        outcome: Outcome::Succeeded,
                        errors: Vec::new(),
                    },
                    false,
                ));
                progress.runs.len() - 1
            }
        };
        &mut progress.runs[index].0
    }

    /// Marks unit `id` final with `outcome`.
    fn finish_unit(&mut self, id: &str, outcome: Outcome) {
        let Some((delivery, handler)) = self.units.get(id).cloned() else {
            return;
        };
        self.run_mut(&delivery, &handler).outcome = outcome;
        if let Some(progress) = self.deliveries.get_mut(&delivery) {
            for (run, last) in &mut progress.runs {
                if run.name == handler {
                    *last = true;
                }
            }
        }
    }

    /// Job `id`, listed under `delivery`, created on first sight (with an early outcome).
    fn job_of(&mut self, id: &str, kind: String, delivery: Option<String>) -> &mut JobState {
        if let Some(delivery) = delivery {
            let jobs = &mut self.deliveries.entry(delivery).or_default().jobs;
            if !jobs.iter().any(|j| j == id) {
                jobs.push(id.to_owned());
            }
        }
        let early = self.early.remove(id);
        self.jobs.entry(id.to_owned()).or_insert(JobState {
            kind,
            attempts: 0,
            outcome: early,
        })
    }
}
