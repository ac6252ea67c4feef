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

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use atombot::runtime::RuntimeSettings;
use atombot::testing::Simulator;
use atombot::{Bot, Context};
use atombot_bench::{announce, listen_addr, terminated};
use axum::routing::get;

/// What the `push` handler saw: how often it ran, and the distinct delivery ids.
#[derive(Debug, Default)]
struct Handled {
    runs: AtomicU64,
    ids: Mutex<HashSet<String>>,
}

impl Handled {
    /// Counts one run of the handler for delivery `id`.
    fn record(&self, id: &str) {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_owned());
    }

    /// `RUNS DISTINCT`.
    fn report(&self) -> String {
        let distinct = self.ids.lock().unwrap_or_else(|e| e.into_inner()).len();
        format!("{} {distinct}", self.runs.load(Ordering::Relaxed))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listen = listen_addr();
    let sim = Simulator::start().await?;
    let mut runtime = RuntimeSettings::from_lookup(|k| match k {
        "ATOMBOT_LISTEN" => Some(listen.clone()),
        "ATOMBOT_QUEUE" => Some(std::env::var(k).unwrap_or_else(|_| "memory".to_owned())),
        _ => std::env::var(k).ok(),
    })?;
    runtime.shutdown_timeout = Duration::from_secs(5);
    let config = atombot_bench::app_config(&sim)?;
    let handled = Arc::new(Handled::default());
    let counter = Arc::clone(&handled);
    let reader = Arc::clone(&handled);
    let bot = Bot::new(config)
        .settings(runtime)
        .on("push", move |ctx: Context| {
            counter.record(ctx.delivery_id());
            async move { Ok::<_, atombot::Error>(()) }
        })
        .merge(axum::Router::new().route(
            "/bench/handled",
            get(move || {
                let reader = Arc::clone(&reader);
                async move { reader.report() }
            }),
        ))
        .start()
        .await?;
    announce(bot.addr());
    terminated().await;
    bot.shutdown().await;
    println!("handled {}", handled.report());
    Ok(())
}
