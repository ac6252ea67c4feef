//! # atombot
//!
//! Write bots as **AtomGit Apps** in Rust: a few handlers, and atombot gives you the
//! service around them — a webhook receiver that verifies and stores every delivery before
//! acknowledging it, an API client authenticated as the delivery's installation, durable
//! retries, background jobs, health, metrics and graceful shutdown.
//!
//! # A guided tour
//!
//! **1. A handler** is an `async fn` taking a [`Context`] (and, if it wants, the bot's
//! shared [`State`]). Register it on a [`Bot`] with [`Bot::on`] for an event name from the
//! canonical table ([`webhook::events::CANONICAL`]; a typo is a start-up error naming the
//! closest name):
//!
//! ```no_run
//! use atombot::{Bot, Context};
//! use atombot::models::webhook::IssuesEvent;
//!
//! async fn greet(ctx: Context) -> atombot::Result<()> {
//!     let event: IssuesEvent = ctx.payload()?;
//!     ctx.comment(format!("Thanks for opening #{}!", event.issue.number)).await?;
//!     Ok(())
//! }
//!
//! # async fn run() -> atombot::Result<()> {
//! Bot::from_env()?.on("issues.opened", greet).serve().await
//! # }
//! ```
//!
//! **2. The context** carries the delivery (typed with [`Context::payload`], raw as JSON
//! with [`Context::json`]), its repository and sender, and a [`Client`]
//! ([`Context::client`]) that already acts as the delivery's installation: its `ats_` token
//! is minted from the app's RS256 JWT, cached, and refreshed before it expires, one mint at
//! a time however many handlers ask.
//!
//! **3. The client** ([`client`]) calls the AtomGit OpenAPI through a tower stack that paces
//! requests to the rate limits, retries what is safe to retry and never logs a token:
//! typed calls per resource (`ctx.client().repos()`, `.issues(owner, repo)`, `.pulls(..)`),
//! raw `get`/`post` beside them, and pagination as a stream. Outside a handler, an [`App`]
//! lists installations and hands out installation clients
//! ([`App::installation_client`], [`App::for_each_installation`]):
//!
//! ```no_run
//! # async fn run() -> atombot::Result<()> {
//! use atombot::{App, AppConfig};
//!
//! let app = App::new(AppConfig::from_env()?)?;
//! for installation in app.installations().await? {
//!     let client = app.installation_client(installation.id);
//!     let repos = client.repos().list_org(&installation.account.path).all().await?;
//!     println!("{}: {} repositories", installation.account.path, repos.len());
//! }
//! # Ok(()) }
//! ```
//!
//! **4. Durability and retries.** Each matching handler runs as its own queued unit: one
//! that succeeded never runs again for that delivery, one that fails is retried (or not) as
//! its error says — see [`Retry`] for the table, [`Abort`] and [`ResultExt`] to say it
//! yourself, and [`webhook::Router`] for how handlers are named.
//!
//! **5. Jobs** ([`jobs`]) take slow work off the handler: a [`jobs::Job`] type queued with
//! `ctx.jobs().push(job)` ([`Context::jobs`]) is stored in the same queue (SQLite by
//! default, Redis or Postgres for several replicas), and the handler registered for it with
//! [`Bot::job`] runs in a worker with a client for the same installation.
//!
//! **6. Testing.** With the `testing` feature, `testing::TestBot` runs the same `Bot`
//! in-process against `testing::Simulator`, a local AtomGit on `127.0.0.1`:
//! `bot.receive(event).await` returns once the handlers have finished (`.and_jobs()`: and
//! the jobs they queued), with their outcomes, attempts and the API calls they made.
//!
//! **7. Schedules** ([`schedule`]): [`Bot::every`] runs an `async fn(`[`schedule::Tick`]`)`
//! on a cron pattern in UTC or an interval, once per tick however many replicas share the
//! queue; [`Bot::every_named`] keeps its name when its timing changes. The tick carries the
//! [`App`] ([`schedule::Tick::app`]) to reach every installation:
//!
//! ```no_run
//! use atombot::{Bot, schedule::Tick};
//!
//! async fn nightly(tick: Tick) -> atombot::Result<()> {
//!     tick.app()
//!         .for_each_installation(4, |installation, client| async move {
//!             let repos = client.repos().list_org(&installation.account.path).all().await?;
//!             println!("{}: {} repositories", installation.account.path, repos.len());
//!             Ok::<_, atombot::Error>(())
//!         })
//!         .await
//! }
//!
//! # async fn run() -> atombot::Result<()> {
//! Bot::from_env()?.every("0 3 * * *", nightly).serve().await
//! # }
//! ```

mod app;
pub mod auth;
pub mod client;
pub mod commands;
pub mod config;
mod context;
pub mod deliveries;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod jobs;
pub mod models;
pub mod oauth;
mod observe;
pub mod repo_config;
pub mod runtime;
pub mod schedule;
pub mod settings;
mod state;
mod steer;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhook;

#[doc(inline)]
pub use app::App;
#[doc(inline)]
pub use client::Client;
#[doc(inline)]
pub use config::AppConfig;
#[doc(inline)]
pub use context::{Context, RepoRef};
#[doc(inline)]
pub use error::{Error, Result};
#[doc(inline)]
pub use repo_config::RepoConfigSettings;
#[doc(inline)]
pub use runtime::Bot;
#[doc(inline)]
pub use state::State;
#[doc(inline)]
pub use steer::{Abort, ResultExt, Retry};
