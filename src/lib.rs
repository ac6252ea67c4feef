//! # atombot
//!
//! Write bots as **AtomGit Apps** in Rust.
//!
//! atombot signs the app's RS256 JWT, lists its installations, mints and caches each
//! installation's `ats_` access token, and calls the AtomGit OpenAPI through a tower stack
//! that paces requests to the platform's rate limits, retries what is safe to retry and
//! never logs a token.
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
//! A [`Bot`] receives webhook deliveries, stores each durably, and runs every matching
//! handler as its own queued unit with a [`Context`] whose client acts as the delivery's
//! installation: a handler that succeeded never runs again for that delivery, and a failing
//! one is retried (or not) as its error says — see [`Retry`] for the table, [`Abort`] and
//! [`ResultExt`] to say it yourself, and [`webhook::Router`] for how handlers are named.
//!
//! With the `testing` feature, `testing::Simulator` runs a local AtomGit on `127.0.0.1`
//! so all of this works offline.

mod app;
pub mod auth;
pub mod client;
pub mod config;
mod context;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod jobs;
pub mod models;
pub mod oauth;
mod observe;
pub mod runtime;
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
pub use runtime::Bot;
#[doc(inline)]
pub use state::State;
#[doc(inline)]
pub use steer::{Abort, ResultExt, Retry};
