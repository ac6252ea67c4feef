//! Slow work and graceful shutdown: the delivery is acknowledged at once, the handler takes
//! a few seconds, and SIGTERM / Ctrl-C while it runs lets it finish before the process
//! exits 0.
//!
//! Run with: cargo run --example slow-handler
//! Tested by: tests/example_slow_handler.rs (on `TestBot`), tests/shutdown_sigterm.rs
//!
//! Offline (no `ATOMGIT_APP_ID`) it starts the local simulator and sends itself one push;
//! press Ctrl-C while the handler runs. With the `ATOMGIT_*` settings it serves real
//! deliveries on `ATOMBOT_LISTEN`.

use std::time::Duration;

use atombot::testing::{Simulator, events};
use atombot::{Bot, Context};

async fn slow(ctx: Context) -> atombot::Result<()> {
    println!("handler started {}", ctx.delivery_id());
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!("handler finished {}", ctx.delivery_id());
    Ok(())
}

/// The bot's handler on `base` (its settings): what `main` serves, and what `tests/example_slow_handler.rs` runs on `TestBot`.
pub(crate) fn bot(base: Bot) -> Bot {
    base.on("push", slow)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var_os("ATOMGIT_APP_ID").is_some() {
        bot(Bot::from_env()?).serve().await?;
        println!("exited cleanly");
        return Ok(());
    }
    let sim = Simulator::start().await?;
    let mut settings = atombot::runtime::RuntimeSettings::from_env()?;
    settings.listen = "127.0.0.1:0".parse()?;
    let bot = bot(Bot::new(sim.app_config()).settings(settings))
        .start()
        .await?;
    sim.set_webhook_url(bot.url("/webhook"));
    let answer = sim
        .deliver("push", events::push("atomgit-demo/hello-world"))
        .await?;
    println!(
        "acknowledged with {} in {:?}; press Ctrl-C while the handler runs",
        answer.status, answer.elapsed
    );
    atombot::runtime::shutdown_signal().await;
    println!("shutting down: waiting for the handler");
    bot.shutdown().await;
    println!("exited cleanly");
    Ok(())
}
