//! A nightly sweep over every installation: a schedule (`Bot::every`) that runs once per
//! tick however many replicas serve the bot, and reaches each installation's repositories
//! with that installation's `ats_` token through the app client the tick carries.
//!
//! Run with: cargo run --example nightly
//! Tested by: tests/example_nightly.rs (the binary, and its bot on `TestBot`)
//!
//! Offline (no `ATOMGIT_APP_ID`) it starts the local AtomGit simulator, ticks every 2 s
//! instead of nightly, prints two sweeps and exits. With the `ATOMGIT_*` settings it sweeps
//! at 03:00 UTC every day (`NIGHTLY_SCHEDULE` to change it, a cron pattern) until Ctrl-C.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use atombot::Bot;
use atombot::runtime::RuntimeSettings;
use atombot::schedule::{Schedule, Tick};
use atombot::testing::Simulator;

/// Sweeps done by this process (the offline run stops after two).
static SWEEPS: AtomicUsize = AtomicUsize::new(0);

/// One sweep: every repository of every installation, each listed with its installation's
/// token.
async fn sweep(tick: Tick) -> atombot::Result<()> {
    let seen = Arc::new(AtomicUsize::new(0));
    let counted = seen.clone();
    tick.app()
        .for_each_repository(4, move |installation, repo, _client| {
            let seen = counted.clone();
            async move {
                seen.fetch_add(1, Ordering::Relaxed);
                println!(
                    "[nightly]   {} (installation {})",
                    repo.full_name, installation.id
                );
                Ok::<_, atombot::Error>(())
            }
        })
        .await?;
    let n = SWEEPS.fetch_add(1, Ordering::Relaxed) + 1;
    println!(
        "[nightly] sweep {n} for the tick at {}: {} repositories",
        tick.time().format("%H:%M:%S"),
        seen.load(Ordering::Relaxed)
    );
    Ok(())
}

/// The schedule on `base` (its settings), ticking on `schedule`: what `main` serves, and
/// what `tests/example_nightly.rs` runs on `TestBot`.
pub(crate) fn bot(base: Bot, schedule: Schedule) -> Bot {
    base.every_named("nightly", schedule, sweep)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("ATOMGIT_APP_ID").is_some() {
        let pattern = std::env::var("NIGHTLY_SCHEDULE").unwrap_or_else(|_| "0 3 * * *".into());
        return Ok(bot(Bot::from_env()?, Schedule::cron(&pattern)?)
            .serve()
            .await?);
    }
    let sim = Simulator::start().await?;
    println!("[sim] local AtomGit at {}", sim.url());
    let mut settings = RuntimeSettings::from_env()?;
    settings.listen = "127.0.0.1:0".parse()?;
    let running = bot(
        Bot::new(sim.app_config()).settings(settings),
        Schedule::every(Duration::from_secs(2)),
    )
    .start()
    .await?;
    println!("[bot] sweeping every 2 s (nightly on the real platform)");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while SWEEPS.load(Ordering::Relaxed) < 2 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    running.shutdown().await;
    anyhow::ensure!(SWEEPS.load(Ordering::Relaxed) >= 2, "no two sweeps in 30 s");
    Ok(())
}
