//! Prometheus metrics of a running bot, served at `GET /metrics`.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::queue::DeliveryQueue;
use crate::auth::InstallationTokens;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    event: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandlerLabels {
    handler: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandlerErrorLabels {
    handler: String,
    kind: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    method: String,
    status: String,
}

type HistogramFamily = Family<HandlerLabels, Histogram, fn() -> Histogram>;

/// Counts API calls by method and status; handed to the client before [`Metrics`] exists.
#[derive(Debug, Clone, Default)]
pub(crate) struct ApiCalls(Family<ApiLabels, Counter>);

impl ApiCalls {
    pub(crate) fn observer(&self) -> crate::client::layers::ResponseObserver {
        let family = self.0.clone();
        Arc::new(move |method, status| {
            family
                .get_or_create(&ApiLabels {
                    method: method.to_string(),
                    status: status.map_or_else(|| "error".to_owned(), |s| s.as_u16().to_string()),
                })
                .inc();
        })
    }
}

/// The bot's counters and histograms. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    deliveries: Family<DeliveryLabels, Counter>,
    handler_seconds: HistogramFamily,
    handler_errors: Family<HandlerErrorLabels, Counter>,
    /// Event names counted under their own label; every other name counts as `other`, so
    /// senders cannot grow the label set.
    events: Arc<HashSet<String>>,
    /// Deliveries accepted (verified, new, queued), for the install page.
    accepted: Arc<AtomicU64>,
}

/// The canonical events (see [`events`](crate::webhook::events)) always get their own label.
const CANONICAL_EVENTS: [&str; 9] = [
    crate::webhook::events::PUSH,
    crate::webhook::events::ISSUES,
    crate::webhook::events::ISSUE_COMMENT,
    crate::webhook::events::PULL_REQUEST,
    crate::webhook::events::PULL_REQUEST_REVIEW_COMMENT,
    crate::webhook::events::COMMIT_COMMENT,
    crate::webhook::events::INSTALLATION,
    crate::webhook::events::INSTALLATION_REPOSITORIES,
    "note",
];

/// The label for deliveries whose event is neither canonical nor named by a handler.
const OTHER_EVENT: &str = "other";

fn handler_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// Reads values owned elsewhere (queue depth, token mints) at scrape time.
struct Live {
    queue: Arc<dyn DeliveryQueue>,
    tokens: Option<InstallationTokens>,
    /// The app's client, whose family (every installation client) shares one rate limiter.
    client: Option<crate::Client>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").finish_non_exhaustive()
    }
}

impl prometheus_client::collector::Collector for Live {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let depth = ConstGauge::new(self.queue.depth() as i64);
        depth.encode(encoder.encode_descriptor(
            "atombot_queue_depth",
            "Deliveries and jobs waiting to run",
            None,
            depth.metric_type(),
        )?)?;
        let mints = ConstCounter::new(self.tokens.as_ref().map_or(0, |t| t.mints()));
        mints.encode(encoder.encode_descriptor(
            "atombot_token_mints",
            "Installation access tokens minted",
            None,
            mints.metric_type(),
        )?)?;
        let waited = ConstCounter::new(
            self.client
                .as_ref()
                .map_or(0.0, |c| c.rate_limit_wait().as_secs_f64()),
        );
        waited.encode(encoder.encode_descriptor(
            "atombot_rate_limit_wait_seconds",
            "Time API calls spent waiting for the rate limit (pacing and refusals)",
            None,
            waited.metric_type(),
        )?)?;
        Ok(())
    }
}

impl Metrics {
    /// Metrics reading the depth of `queue` and the mints of `tokens` when scraped; the
    /// events named by the handler `patterns` (`issues.opened`, `*`) get their own label.
    pub(crate) fn new(
        queue: Arc<dyn DeliveryQueue>,
        tokens: Option<InstallationTokens>,
        api_calls: ApiCalls,
        client: Option<crate::Client>,
        patterns: impl IntoIterator<Item = String>,
    ) -> Self {
        let events = CANONICAL_EVENTS
            .iter()
            .map(|e| (*e).to_owned())
            .chain(patterns.into_iter().filter_map(|pattern| {
                let event = pattern.split('.').next()?;
                (!event.is_empty() && event != "*").then(|| event.to_owned())
            }))
            .collect();
        let mut registry = Registry::default();
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "atombot_deliveries",
            "Webhook deliveries by event and outcome",
            deliveries.clone(),
        );
        let handler_seconds: HistogramFamily = Family::new_with_constructor(handler_histogram);
        registry.register(
            "atombot_handler_duration_seconds",
            "Handler run time",
            handler_seconds.clone(),
        );
        let handler_errors = Family::<HandlerErrorLabels, Counter>::default();
        registry.register(
            "atombot_handler_errors",
            "Handler failures by handler and kind (error or panic)",
            handler_errors.clone(),
        );
        registry.register(
            "atombot_api_requests",
            "AtomGit API calls by method and status",
            api_calls.0,
        );
        registry.register_collector(Box::new(Live {
            queue,
            tokens,
            client,
        }));
        Self {
            registry: Arc::new(registry),
            deliveries,
            handler_seconds,
            handler_errors,
            events: Arc::new(events),
            accepted: Arc::default(),
        }
    }

    /// Counts a delivery outcome (`accepted`, `duplicate`, `ignored`, `rejected_<reason>`,
    /// `queue_unavailable`, `shutting_down`)
    /// under its event (`-` before the event is known, `other` for names no handler uses).
    pub(crate) fn delivery(&self, event: &str, outcome: &str) {
        if outcome == "accepted" {
            self.accepted.fetch_add(1, Ordering::Relaxed);
        }
        let event = if event == "-" || self.events.contains(event) {
            event
        } else {
            OTHER_EVENT
        };
        self.deliveries
            .get_or_create(&DeliveryLabels {
                event: event.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub(crate) fn handler_finished(&self, handler: &str, seconds: f64, failure: Option<&str>) {
        let labels = HandlerLabels {
            handler: handler.to_owned(),
        };
        self.handler_seconds.get_or_create(&labels).observe(seconds);
        if let Some(kind) = failure {
            self.handler_errors
                .get_or_create(&HandlerErrorLabels {
                    handler: handler.to_owned(),
                    kind: kind.to_owned(),
                })
                .inc();
        }
    }

    /// How many deliveries the receiver accepted (verified, not seen before, queued).
    pub fn deliveries_accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
