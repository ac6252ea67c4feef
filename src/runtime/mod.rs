//! The bot runtime: webhook receiver, router, workers, health, metrics and shutdown.
//!
//! - [`Bot`] (`bot.rs`) is the definition: handlers, jobs, state and settings.
//! - `wiring.rs` turns a definition into a running service: queue, worker, receiver and
//!   HTTP routes, served by [`Bot::start`] or mounted with [`Bot::into_router`].
//! - [`RunningBot`] (`running.rs`) is a started bot: its address, metrics, queue, shutdown.
//!
//! ```no_run
//! use atombot::{Bot, Context};
//!
//! async fn on_push(ctx: Context) -> atombot::Result<()> {
//!     let repo = ctx.repo().expect("push deliveries name their repository");
//!     let info = ctx.client().repos().get(&repo.owner, &repo.name).await?;
//!     tracing::info!(repo = %info.full_name, "pushed");
//!     Ok(())
//! }
//!
//! # async fn run() -> atombot::Result<()> {
//! Bot::from_env()?.on("push", on_push).serve().await
//! # }
//! ```

mod bot;
mod dispatch;
mod install_page;
mod lifecycle;
mod metrics;
mod ops;
mod queue;
mod receiver;
mod resolve;
mod running;
mod scheduler;
mod serve;
mod settings;
mod signal;
mod steer;
mod wiring;
mod worker;

#[doc(inline)]
pub use self::{
    bot::Bot,
    metrics::Metrics,
    queue::{DELIVERY_KIND, DeliveryQueue, EnqueueError, HANDLER_KIND_PREFIX},
    resolve::InstallationResolver,
    running::RunningBot,
    settings::{LogFormat, RuntimeSettings, env},
    signal::{init_logging, shutdown_signal},
};
pub(crate) use queue::replay_job;
#[cfg(feature = "testing")]
pub(crate) use wiring::{Built, Overrides};
