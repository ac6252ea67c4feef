//! `atombot-target`: an atombot bot with one `push` handler that only counts, against the
//! built-in simulator (offline), for `bench/run`.
//!
//! The queue comes from `ATOMBOT_QUEUE` (default `memory`; `sqlite://FILE`, and with the
//! crate features `redis` / `postgres` also `redis://…` / `postgres://…`); the other
//! `ATOMBOT_*` runtime settings are read from the environment as usual. Listens on
//! `BENCH_LISTEN` (default an ephemeral loopback port), prints `listening on ADDR`, serves
//! deliveries at `/webhook` and, at `GET /bench/handled`, `RUNS DISTINCT`: how many times
//! the handler ran and for how many distinct delivery ids (they differ when a delivery
//! is handled twice). On SIGTERM it shuts down and prints `handled RUNS DISTINCT`.
//!
//! Two opt-in modes for the extra measurements of `bench/run`:
//! - `BENCH_LATENCY=1`: the bot is mounted with [`Bot::into_router`] under an axum
//!   middleware that notes when each delivery's request arrived (by delivery id, before
//!   the body is read); the handler takes the time since then when it starts.
//!   `GET /bench/latency` answers `N P50_US P99_US MAX_US` over the deliveries handled since
//!   the last `DELETE /bench/latency`. The bot's own server limits (header and idle
//!   timeouts, connection cap) are not applied in this mode; its router's limits are.
//! - `BENCH_API_CALL=1`: the handler makes one API call with the delivery's installation
//!   token (`GET` of the simulator's `atomgit-demo/hello-world`), with client-side pacing
//!   off; `GET /bench/mints` answers how many tokens the simulator minted for
//!   installation 14 (send deliveries with `"installation": {"id": 14}`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atombot::client::layers::RateLimitConfig;
use atombot::runtime::RuntimeSettings;
use atombot::testing::Simulator;
use atombot::{Bot, Client, Context};
use atombot_bench::{announce, listen_addr, terminated};
use axum::routing::get;

/// The simulator's installation whose token mints `GET /bench/mints` reports.
const INSTALLATION: u64 = 14;

/// What the `push` handler saw: how often it ran, and the distinct delivery ids.
///
/// Ids of the form `PREFIX-THREAD-N` (what `bench/wrk/push.lua` sends) are kept as one bit
/// per `N` under their `PREFIX-THREAD`, so a million deliveries take ~125 KB here and the
/// target's RSS measures the bot, not this bookkeeping; other ids are kept whole.
#[derive(Debug, Default)]
struct Handled {
    runs: AtomicU64,
    seen: Mutex<Seen>,
}

/// Distinct delivery ids.
#[derive(Debug, Default)]
struct Seen {
    /// `PREFIX-THREAD` → bit set of the `N`s seen.
    numbered: HashMap<String, Vec<u64>>,
    other: HashSet<String>,
    distinct: u64,
}

impl Seen {
    fn insert(&mut self, id: &str) {
        let new = match id.rsplit_once('-').map(|(p, n)| (p, n.parse::<usize>())) {
            Some((prefix, Ok(n))) => {
                let bits = match self.numbered.get_mut(prefix) {
                    Some(bits) => bits,
                    None => self.numbered.entry(prefix.to_owned()).or_default(),
                };
                if bits.len() <= n / 64 {
                    bits.resize(n / 64 + 1, 0);
                }
                let (word, bit) = (&mut bits[n / 64], 1u64 << (n % 64));
                let new = *word & bit == 0;
                *word |= bit;
                new
            }
            _ => self.other.insert(id.to_owned()),
        };
        self.distinct += u64::from(new);
    }
}

impl Handled {
    /// Counts one run of the handler for delivery `id`.
    fn record(&self, id: &str) {
        self.runs.fetch_add(1, Ordering::Relaxed);
        lock(&self.seen).insert(id);
    }

    /// `RUNS DISTINCT`.
    fn report(&self) -> String {
        let distinct = lock(&self.seen).distinct;
        format!("{} {distinct}", self.runs.load(Ordering::Relaxed))
    }
}

/// Delivery → handler-start latencies (`BENCH_LATENCY=1`).
#[derive(Debug, Default)]
struct Latency {
    /// When each delivery's request reached the middleware, by delivery id.
    arrived: Mutex<HashMap<String, Instant>>,
    /// Microseconds from arrival to handler start, of the deliveries handled so far.
    samples: Mutex<Vec<u64>>,
}

impl Latency {
    /// Notes that the request of delivery `id` arrived now (a redelivery keeps the first).
    fn arrived(&self, id: &str) {
        lock(&self.arrived)
            .entry(id.to_owned())
            .or_insert_with(Instant::now);
    }

    /// The handler for delivery `id` starts now.
    fn started(&self, id: &str) {
        let now = Instant::now();
        if let Some(at) = lock(&self.arrived).remove(id) {
            let us = u64::try_from(now.duration_since(at).as_micros()).unwrap_or(u64::MAX);
            lock(&self.samples).push(us);
        }
    }

    /// `N P50_US P99_US MAX_US` (`0 0 0 0` before any sample).
    fn report(&self) -> String {
        let mut samples = lock(&self.samples).clone();
        samples.sort_unstable();
        let pct = |p: usize| match samples.len() {
            0 => 0,
            n => samples[((n * p).div_ceil(100)).clamp(1, n) - 1],
        };
        let max = samples.last().copied().unwrap_or(0);
        format!("{} {} {} {max}", samples.len(), pct(50), pct(99))
    }

    /// Forgets the samples (arrivals still pending stay).
    fn reset(&self) {
        lock(&self.samples).clear();
    }
}

/// Locks `m`, ignoring poisoning (the data are counters).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether the environment variable `name` is set to `1` or `true`.
fn flag(name: &str) -> bool {
    matches!(std::env::var(name).as_deref(), Ok("1" | "true"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listen = listen_addr();
    let latency_mode = flag("BENCH_LATENCY");
    let api_call = flag("BENCH_API_CALL");
    let sim = Arc::new(Simulator::start().await?);
    let mut runtime = RuntimeSettings::from_lookup(|k| match k {
        "ATOMBOT_LISTEN" => Some(listen.clone()),
        "ATOMBOT_QUEUE" => Some(std::env::var(k).unwrap_or_else(|_| "memory".to_owned())),
        _ => std::env::var(k).ok(),
    })?;
    runtime.shutdown_timeout = Duration::from_secs(5);
    let config = atombot_bench::app_config(&sim)?;
    let handled = Arc::new(Handled::default());
    let latency = Arc::new(Latency::default());
    let counter = Arc::clone(&handled);
    let reader = Arc::clone(&handled);
    let timer = Arc::clone(&latency);
    let mut routes = axum::Router::new().route(
        "/bench/handled",
        get(move || {
            let reader = Arc::clone(&reader);
            async move { reader.report() }
        }),
    );
    if latency_mode {
        let (get_l, del_l) = (Arc::clone(&latency), Arc::clone(&latency));
        routes = routes.route(
            "/bench/latency",
            get(move || {
                let l = Arc::clone(&get_l);
                async move { l.report() }
            })
            .delete(move || {
                let l = Arc::clone(&del_l);
                async move { l.reset() }
            }),
        );
    }
    if api_call {
        let sim = Arc::clone(&sim);
        routes = routes.route(
            "/bench/mints",
            get(move || {
                let sim = Arc::clone(&sim);
                async move { sim.mint_count(INSTALLATION).to_string() }
            }),
        );
    }
    let bot = Bot::new(config)
        .settings(runtime)
        .client(
            // 1,000 API calls at once: pacing would only spread them out.
            Client::builder().rate_limit(RateLimitConfig::default().per_second(0).per_hour(0)),
        )
        .on("push", move |ctx: Context| {
            if latency_mode {
                timer.started(ctx.delivery_id());
            }
            let counter = Arc::clone(&counter);
            async move {
                if api_call {
                    ctx.client()
                        .repos()
                        .get("atomgit-demo", "hello-world")
                        .await?;
                }
                counter.record(ctx.delivery_id());
                Ok::<_, atombot::Error>(())
            }
        })
        .merge(routes);
    if latency_mode {
        let noted = Arc::clone(&latency);
        let app = bot.into_router().await?.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                if let Some(id) = delivery_id(req.headers()) {
                    noted.arrived(id);
                }
                next.run(req)
            },
        ));
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        announce(listener.local_addr()?);
        axum::serve(listener, app)
            .with_graceful_shutdown(terminated())
            .await?;
    } else {
        let bot = bot.start().await?;
        announce(bot.addr());
        terminated().await;
        bot.shutdown().await;
    }
    println!("handled {}", handled.report());
    Ok(())
}

/// The delivery id of a webhook request, from the headers atombot reads it from.
fn delivery_id(headers: &http::HeaderMap) -> Option<&str> {
    [
        "x-atomgit-delivery",
        "x-gitcode-delivery",
        "x-github-delivery",
    ]
    .iter()
    .find_map(|h| headers.get(*h))
    .and_then(|v| v.to_str().ok())
}
