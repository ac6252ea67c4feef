//! `atombot-target`: an atombot bot with one `push` handler that only counts, against the
//! built-in simulator (offline), for `bench/run`.
//!
//! The queue comes from `ATOMBOT_QUEUE` (default `memory`; `sqlite://FILE`, and with the
//! crate features `redis` / `postgres` also `redis://…` / `postgres://…`); the other
//! `ATOMBOT_*` runtime settings are read from the environment as usual. Listens on
//! `BENCH_LISTEN` (default an ephemeral loopback port), prints `listening on ADDR`, serves
//! deliveries at `/webhook` and the number of handled pushes at `GET /bench/handled`.
//! On SIGTERM it shuts down and prints `handled N`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use atombot::runtime::RuntimeSettings;
use atombot::testing::Simulator;
use atombot::{Bot, Context};
use atombot_bench::{SECRET, announce, listen_addr, terminated};
use axum::routing::get;

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
    let config = atombot::AppConfig::builder()
        .app_id(sim.app_id())
        .private_key_pem(Simulator::dev_private_key_pem())
        .api_url(sim.url())
        .webhook_secret(SECRET)
        .build()?;
    let handled = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&handled);
    let reader = Arc::clone(&handled);
    let bot = Bot::new(config)
        .settings(runtime)
        .on("push", move |_ctx: Context| {
            let counter = Arc::clone(&counter);
            async move {
                counter.fetch_add(1, Ordering::Relaxed);
                Ok::<_, atombot::Error>(())
            }
        })
        .merge(axum::Router::new().route(
            "/bench/handled",
            get(move || {
                let reader = Arc::clone(&reader);
                async move { reader.load(Ordering::Relaxed).to_string() }
            }),
        ))
        .start()
        .await?;
    announce(bot.addr());
    terminated().await;
    bot.shutdown().await;
    println!("handled {}", handled.load(Ordering::Relaxed));
    Ok(())
}
