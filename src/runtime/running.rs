//! [`RunningBot`]: a bot whose server is running.

use tokio::sync::watch;

use super::metrics::Metrics;
use crate::error::{Error, Result};
use crate::jobs::Queue;

/// A bot whose server is running; see [`Bot::start`](super::Bot::start).
#[derive(Debug)]
pub struct RunningBot {
    pub(super) oauth: Option<crate::oauth::OAuth>,
    pub(super) addr: std::net::SocketAddr,
    pub(super) metrics: Metrics,
    pub(super) queue: Queue,
    pub(super) delivery_log: Option<crate::deliveries::DeliveryLog>,
    pub(super) stop: watch::Sender<bool>,
    pub(super) done: tokio::task::JoinHandle<bool>,
}

impl RunningBot {
    /// The address the bot listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The webhook URL on that address.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The bot's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// A client acting as signed-in user `user`, with their `atu_` token (refreshed as
    /// needed).
    ///
    /// Fails with a "sign in again" error ([`Error::is_sign_in_again`]) when the user has no
    /// stored token, and with [`Error::Config`] when the bot has no
    /// [`Bot::oauth`](super::Bot::oauth).
    pub async fn user_client(&self, user: &str) -> Result<crate::Client> {
        match &self.oauth {
            Some(oauth) => oauth.user_client(user).await,
            None => Err(Error::config(
                crate::config::env::CLIENT_ID,
                "user sign-in is not enabled on this bot (Bot::oauth)",
            )),
        }
    }

    /// The bot's job queue (inspect failed jobs, re-queue them, read stats).
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The bot's delivery log (list, show, replay kept deliveries), when it is on
    /// (`ATOMBOT_DELIVERY_LOG=true`). With `ATOMBOT_QUEUE=memory` this is the only way to
    /// it: an in-memory log, like the queue, belongs to its bot.
    pub fn delivery_log(&self) -> Option<&crate::deliveries::DeliveryLog> {
        self.delivery_log.as_ref()
    }

    /// Stops accepting, lets open connections and running handlers finish (within the
    /// shutdown timeout; connections still open then are dropped) and returns whether all
    /// handlers did.
    pub async fn shutdown(self) -> bool {
        let _ = self.stop.send(true);
        self.done.await.unwrap_or(false)
    }
}
