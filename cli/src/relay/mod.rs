//! `atombot relay`: a self-hosted smee.io. The platform posts deliveries to
//! `POST /deliveries/{channel}`; `atombot forward` holding the token streams them from
//! `GET /deliveries/{channel}` (server-sent events) to a bot on a laptop.
//!
//! Each kept delivery gets the next sequence number of its channel, which is its SSE event
//! id: a forwarder that reconnects with `Last-Event-ID` resumes right after it. Bodies are
//! kept byte for byte (base64 in the event data) with the platform's headers, so signatures
//! still verify at the bot.

mod server;
mod store;
pub(crate) mod wire;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::watch;

use atombot::webhook::DEFAULT_MAX_BODY_BYTES;

use self::store::{Limits, Store};

/// Environment variable holding the token shared by the relay and its forwarders.
pub(crate) const TOKEN_ENV: &str = "ATOMBOT_RELAY_TOKEN";

/// Shortest token the relay accepts.
const MIN_TOKEN_LEN: usize = 16;

/// Arguments of `atombot relay`.
#[derive(Debug, Args)]
pub(crate) struct RelayArgs {
    /// Address to listen on (`0.0.0.0:PORT` on a public host; put TLS in front).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3400")]
    listen: SocketAddr,
    /// Token forwarders send as `Authorization: Bearer …` (at least 16 characters).
    #[arg(long, env = TOKEN_ENV, hide_env_values = true, value_parser = secret)]
    token: SecretString,
    /// Deliveries kept per channel (the oldest are dropped first).
    #[arg(long, value_name = "N", default_value = "1000")]
    max_deliveries: NonZeroUsize,
    /// How long a delivery is kept: `90s`, `30m`, `2h`, `1d`.
    #[arg(long, value_name = "AGE", default_value = "1h", value_parser = parse_duration)]
    max_age: Duration,
    /// Largest body accepted; larger ones get 413.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Channels at once (a channel is forgotten when nothing is kept and nobody listens).
    #[arg(long, value_name = "N", default_value = "64")]
    max_channels: NonZeroUsize,
}

/// A relay's settings, without the socket.
#[derive(Debug, Clone)]
pub(crate) struct RelaySettings {
    /// The forwarders' token.
    pub(crate) token: SecretString,
    /// What is kept, and for how long.
    pub(crate) limits: Limits,
    /// Largest body accepted.
    pub(crate) max_body_bytes: usize,
    /// Interval of SSE keep-alive comments on idle streams.
    pub(crate) keep_alive: Duration,
}

/// Wraps the token at once; checked by [`check_token`], whose errors never show it (clap's
/// would).
pub(crate) fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value.to_owned()))
}

/// The token is visible ASCII (it goes in a header) and at least `min_len` long.
pub(crate) fn check_token(token: &SecretString, min_len: usize) -> anyhow::Result<()> {
    let token = token.expose_secret();
    anyhow::ensure!(
        !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()),
        "the relay token (--token / {TOKEN_ENV}) must be visible ASCII without spaces"
    );
    anyhow::ensure!(
        token.len() >= min_len,
        "the relay token (--token / {TOKEN_ENV}) must be at least {min_len} characters"
    );
    Ok(())
}

/// Parses `90s`, `30m`, `2h`, `1d` (a bare number is seconds).
fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{value}` is not a duration like 90s, 30m, 2h or 1d"))?;
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{value}`: the unit must be s, m, h or d")),
    };
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

/// Serves the relay on `listener` until `shutdown` completes; open streams end then.
///
/// # Errors
/// If the server fails to accept connections.
pub(crate) async fn serve(
    listener: TcpListener,
    settings: RelaySettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop, stopped) = watch::channel(false);
    let shared = Arc::new(server::Shared {
        store: Store::new(settings.limits),
        token_digest: Sha256::digest(settings.token.expose_secret().as_bytes()).into(),
        keep_alive: settings.keep_alive,
        shutdown: stopped,
    });
    // Deliveries past their age go even when nobody posts or reads.
    let sweeper = {
        let shared = Arc::clone(&shared);
        let every =
            (settings.limits.max_age / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                shared.store.sweep();
            }
        })
    };
    let app = server::router(shared, settings.max_body_bytes);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            stop.send_replace(true);
        })
        .await;
    sweeper.abort();
    result
}

/// Runs the relay until Ctrl-C.
pub(crate) async fn run(args: RelayArgs) -> anyhow::Result<()> {
    check_token(&args.token, MIN_TOKEN_LEN)?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr().context("no local address")?;
    println!("atombot relay listening on http://{addr}");
    println!("  webhook URL: http://{addr}/deliveries/<channel> (your public URL in front)");
    println!("  forward with: atombot forward --from <that URL> --to <your bot's webhook URL>");
    let settings = RelaySettings {
        token: args.token,
        limits: Limits {
            max_deliveries: args.max_deliveries.get(),
            max_age: args.max_age,
            max_channels: args.max_channels.get(),
        },
        max_body_bytes: args.max_body_bytes,
        keep_alive: Duration::from_secs(15),
    };
    serve(listener, settings, async {
        // If Ctrl-C cannot be watched, run until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await
    .context("the relay stopped")
}
