//! `atombot forward`: streams a relay channel's deliveries to a local bot, in order, with
//! their original headers and exact bodies.
//!
//! At least once: the position is the last delivery handled (answered, refused with 4xx, or
//! given up on), sent back as `Last-Event-ID` on every reconnect, and with `--state` kept in a
//! file so a restarted forwarder resumes too. Only the delivery in flight when the process
//! dies can arrive twice.

mod deliver;
pub(crate) mod sse;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use clap::Args;
use reqwest::{StatusCode, Url, header};
use secrecy::{ExposeSecret, SecretString};

use crate::relay::wire::{self, WireDelivery};
use crate::relay::{self, TOKEN_ENV};

use self::deliver::Bot;
use self::sse::{SseEvent, SseParser};

/// A stream with no bytes (not even the relay's keep-alive comments) for this long is dead.
const STREAM_IDLE: Duration = Duration::from_secs(60);
/// First and largest pause before reconnecting to the relay.
const RECONNECT: (Duration, Duration) = (Duration::from_millis(250), Duration::from_secs(30));

/// Arguments of `atombot forward`.
#[derive(Debug, Args)]
pub(crate) struct ForwardArgs {
    /// The relay channel's URL (the webhook URL the platform posts to).
    #[arg(long, value_name = "URL")]
    from: Url,
    /// The local bot's webhook URL.
    #[arg(long, value_name = "URL")]
    to: Url,
    /// The relay's token.
    #[arg(long, env = TOKEN_ENV, hide_env_values = true, value_parser = relay::secret)]
    token: SecretString,
    /// File holding the last delivered sequence number; a restarted forwarder resumes after it.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Start with the oldest delivery the relay keeps (not only new ones).
    #[arg(long)]
    replay: bool,
    /// Attempts per delivery while the bot is unreachable or answers 5xx.
    #[arg(long, value_name = "N", default_value = "12")]
    max_attempts: NonZeroU32,
}

fn http_url(url: &Url, flag: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        matches!(url.scheme(), "http" | "https"),
        "{flag} must be an http:// or https:// URL, not `{url}`"
    );
    Ok(())
}

/// Forwards until Ctrl-C, or until the relay refuses the token or the channel.
pub(crate) async fn run(args: ForwardArgs) -> anyhow::Result<()> {
    http_url(&args.from, "--from")?;
    http_url(&args.to, "--to")?;
    relay::check_token(&args.token, 1)?;
    let after = match (&args.state, args.replay) {
        (_, true) => Some(0),
        (Some(path), false) => read_state(path)?,
        (None, false) => None,
    };
    let mut forwarder = Forwarder {
        relay: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .build()
            .context("cannot build the HTTP client")?,
        bot: Bot::new(args.to.clone(), args.max_attempts.get())?,
        after,
        args,
    };
    tokio::select! {
        result = forwarder.forward() => result,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("stopped");
            Ok(())
        }
    }
}

/// The last handled sequence number in `path`; `None` if the file does not exist yet.
fn read_state(path: &Path) -> anyhow::Result<Option<u64>> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.trim().parse().map(Some).with_context(|| {
            format!(
                "{} does not hold a delivery sequence number",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes the position so that a reader never sees a partial file.
fn write_state(path: &Path, after: u64) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, format!("{after}\n"))
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Why a stream ended.
enum End {
    /// Reconnect: the relay or the network went away.
    Dropped(anyhow::Error),
    /// Stop: retrying cannot help (wrong token, wrong URL, state file not writable).
    Fatal(anyhow::Error),
}

struct Forwarder {
    relay: reqwest::Client,
    bot: Bot,
    args: ForwardArgs,
    /// Last delivery handled (`None`: start with new deliveries).
    after: Option<u64>,
}

impl Forwarder {
    async fn forward(&mut self) -> anyhow::Result<()> {
        let mut pause = RECONNECT.0;
        loop {
            let mut connected = false;
            let error = match self.stream(&mut connected).await {
                End::Fatal(e) => return Err(e),
                End::Dropped(e) => e,
            };
            if connected {
                pause = RECONNECT.0;
            }
            eprintln!(
                "relay stream lost ({error:#}); reconnecting in {} ms",
                pause.as_millis()
            );
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RECONNECT.1);
        }
    }

    /// One connection to the relay, until it drops.
    async fn stream(&mut self, connected: &mut bool) -> End {
        let mut request = self
            .relay
            .get(self.args.from.clone())
            .bearer_auth(self.args.token.expose_secret())
            .header(header::ACCEPT, "text/event-stream");
        if let Some(after) = self.after {
            request = request.header("Last-Event-ID", after.to_string());
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                return End::Dropped(
                    anyhow!(e.without_url()).context(format!("cannot reach {}", self.args.from)),
                );
            }
        };
        let status = response.status();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return End::Fatal(anyhow!(
                "the relay refused the token ({status}); check --token / {TOKEN_ENV}"
            ));
        }
        if matches!(status, StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST) {
            let text = response.text().await.unwrap_or_default();
            return End::Fatal(anyhow!(
                "{} is not a relay channel ({status}): {}",
                self.args.from,
                text.trim()
            ));
        }
        if !status.is_success() {
            return End::Dropped(anyhow!("the relay answered {status}"));
        }
        let mut parser = SseParser::default();
        loop {
            let chunk = match tokio::time::timeout(STREAM_IDLE, response.chunk()).await {
                Err(_) => {
                    return End::Dropped(anyhow!(
                        "nothing from the relay for {} s",
                        STREAM_IDLE.as_secs()
                    ));
                }
                Ok(Err(e)) => return End::Dropped(anyhow!(e.without_url())),
                Ok(Ok(None)) => return End::Dropped(anyhow!("the relay closed the stream")),
                Ok(Ok(Some(chunk))) => chunk,
            };
            let events = match parser.feed(&chunk) {
                Ok(events) => events,
                Err(e) => return End::Dropped(e.into()),
            };
            for event in events {
                if let Err(e) = self.handle(event, connected).await {
                    return End::Fatal(e);
                }
            }
        }
    }

    /// Acts on one event; fails only when the position cannot be saved.
    async fn handle(&mut self, event: SseEvent, connected: &mut bool) -> anyhow::Result<()> {
        match event.event.as_str() {
            wire::READY => {
                let ready: wire::Ready = match serde_json::from_str(&event.data) {
                    Ok(ready) => ready,
                    Err(e) => {
                        bail!("the relay sent a `ready` event this forwarder cannot read: {e}")
                    }
                };
                *connected = true;
                eprintln!(
                    "connected to {} (channel {}); forwarding deliveries after #{} to {}",
                    self.args.from, ready.channel, ready.after, self.args.to
                );
                self.advance(ready.after)?;
            }
            wire::WARNING => match serde_json::from_str::<wire::Warning>(&event.data) {
                Ok(warning) => eprintln!("relay warning: {}", warning.message),
                Err(_) => eprintln!("relay warning: {}", event.data),
            },
            wire::DELIVERY => {
                let delivery: WireDelivery = match serde_json::from_str(&event.data) {
                    Ok(delivery) => delivery,
                    Err(e) => {
                        eprintln!("skipped event {:?}: not a delivery ({e})", event.id);
                        return Ok(());
                    }
                };
                if self.after.is_some_and(|after| delivery.seq <= after) {
                    return Ok(()); // Already handled.
                }
                self.bot.deliver(&delivery).await;
                self.advance(delivery.seq)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn advance(&mut self, after: u64) -> anyhow::Result<()> {
        self.after = Some(after);
        match &self.args.state {
            Some(path) => write_state(path, after),
            None => Ok(()),
        }
    }
}
