//! Follows the runtime's reports and tells when a delivery's work has finished.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{mpsc, watch};

use super::outcome::{HandlerRun, JobRun, Outcome};
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
}

#[derive(Debug, Default)]
struct DeliveryState {
    /// The handler units, once fanned out.
    handlers: Option<Vec<String>>,
    /// Handler runs in the order they were first reported.
    runs: Vec<(HandlerRun, bool)>,
    /// Ids of the jobs queued on the delivery's behalf, in order.
    jobs: Vec<String>,
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
        let Some(handlers) = &progress.handlers else {
            return vec!["fan-out into handler units".to_owned()];
        };
        let mut pending: Vec<String> = handlers
            .iter()
            .filter(|name| {
                !progress
                    .runs
                    .iter()
                    .any(|(run, last)| *last && &run.name == *name)
            })
            .map(|name| format!("handler {name}"))
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
            Observed::FannedOut { delivery, handlers } => {
                self.deliveries.entry(delivery).or_default().handlers = Some(handlers);
            }
            Observed::Unit {
                delivery,
                handler,
                attempt,
                outcome,
                last,
            } => {
                let progress = self.deliveries.entry(delivery).or_default();
                let index = match progress.runs.iter().position(|(r, _)| r.name == handler) {
                    Some(index) => index,
                    None => {
                        progress.runs.push((
                            HandlerRun {
                                name: handler,
                                attempts: 0,
                                outcome: Outcome::Succeeded,
                                errors: Vec::new(),
                            },
                            false,
                        ));
                        progress.runs.len() - 1
                    }
                };
                let (run, done) = &mut progress.runs[index];
                run.attempts = run.attempts.max(attempt);
                run.outcome = match outcome {
                    Ok(()) => Outcome::Succeeded,
                    Err(error) => {
                        run.errors.push(error.clone());
                        Outcome::Failed(error)
                    }
                };
                *done = last;
            }
            Observed::JobQueued { id, kind, delivery } => {
                if let Some(delivery) = delivery {
                    self.deliveries
                        .entry(delivery)
                        .or_default()
                        .jobs
                        .push(id.clone());
                }
                self.jobs.entry(id).or_insert(JobState {
                    kind,
                    attempts: 0,
                    outcome: None,
                });
            }
            Observed::Job {
                id,
                kind,
                attempt,
                outcome,
                last,
                delivery,
            } => {
                if let Some(delivery) = delivery {
                    let jobs = &mut self.deliveries.entry(delivery).or_default().jobs;
                    if !jobs.contains(&id) {
                        jobs.push(id.clone());
                    }
                }
                let job = self.jobs.entry(id).or_insert(JobState {
                    kind,
                    attempts: 0,
                    outcome: None,
                });
                job.attempts = job.attempts.max(attempt);
                if last {
                    job.outcome = Some(match outcome {
                        Ok(()) => Outcome::Succeeded,
                        Err(error) => Outcome::Failed(error),
                    });
                }
            }
        }
    }
}
