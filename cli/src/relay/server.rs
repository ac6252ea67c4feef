//! The relay's HTTP side: deliveries in (`POST`), authenticated SSE streams out (`GET`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use futures_util::Stream;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use super::store::{Channel, Store, TooManyChannels};
use super::wire::{self, WireDelivery};

/// Deliveries sent per read of the store.
const BATCH: usize = 64;

/// What the router needs.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Store,
    /// SHA-256 of the forwarders' token: compared in constant time, the token is not kept.
    pub(crate) token_digest: [u8; 32],
    pub(crate) keep_alive: Duration,
    /// Turns `true` on shutdown; open streams end.
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// `GET /health`, `POST /deliveries/{channel}`, `GET /deliveries/{channel}` (SSE).
pub(crate) fn router(shared: Arc<Shared>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok\n" }))
        .route("/deliveries/{channel}", get(stream).post(keep))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(shared)
}

/// A channel name: 1 to 64 of `A-Z a-z 0-9 . _ -`.
fn valid_channel(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Why the relay refuses a request; each reason has its status and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    /// 404: not a valid channel name.
    Channel,
    /// 503: no room for another channel.
    TooManyChannels,
    /// 401: no or the wrong `Authorization: Bearer` token.
    Token,
    /// 400: `Last-Event-ID` is not a sequence number.
    LastEventId,
}

impl From<TooManyChannels> for Refused {
    fn from(_: TooManyChannels) -> Self {
        tracing::warn!("channel limit reached; refusing a new channel");
        Self::TooManyChannels
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let (status, text) = match self {
            Self::Channel => (
                StatusCode::NOT_FOUND,
                "a channel name is 1 to 64 letters, digits, `.`, `_` or `-`",
            ),
            Self::TooManyChannels => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the relay's channel limit is reached",
            ),
            Self::Token => (
                StatusCode::UNAUTHORIZED,
                "missing or wrong relay token (send Authorization: Bearer <token>)",
            ),
            Self::LastEventId => (
                StatusCode::BAD_REQUEST,
                "Last-Event-ID must be a delivery sequence number",
            ),
        };
        let mut response = (status, format!("{text}\n")).into_response();
        if self == Self::Token {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

fn check_channel(name: &str) -> Result<(), Refused> {
    if valid_channel(name) {
        Ok(())
    } else {
        Err(Refused::Channel)
    }
}

/// `POST /deliveries/{channel}`: keep the body byte for byte with the headers that matter,
/// answer 202 at once. Bodies over the limit are refused with 413 by the body extractor.
async fn keep(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Refused> {
    check_channel(&name)?;
    let channel = shared.store.channel(&name)?;
    let kept: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| wire::keeps_header(name.as_str()))
        .filter_map(|(name, value)| match value.to_str() {
            Ok(value) => Some((name.as_str().to_owned(), value.to_owned())),
            Err(_) => {
                tracing::debug!(header = %name, "header value is not visible ASCII; not kept");
                None
            }
        })
        .collect();
    // Base64 outside the channel's lock; inside it only the JSON gets its sequence number.
    let encoded = WireDelivery::new(0, kept, &body);
    let seq = channel.push(|seq| {
        serde_json::to_string(&WireDelivery { seq, ..encoded })
            .expect("strings and numbers always serialize")
    });
    tracing::debug!(channel = %name, seq, bytes = body.len(), "delivery kept");
    Ok((StatusCode::ACCEPTED, format!("kept as #{seq} on {name}\n")).into_response())
}

/// Whether `headers` carry `Authorization: Bearer <the token>`.
fn authorized(headers: &HeaderMap, token_digest: &[u8; 32]) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
    else {
        return false;
    };
    Sha256::digest(given).as_slice().ct_eq(token_digest).into()
}

/// `GET /deliveries/{channel}`: an SSE stream of the channel's deliveries, for a forwarder
/// holding the token. With `Last-Event-ID: n` it starts after delivery `n` (0: everything
/// kept); without, after the latest.
async fn stream(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Refused> {
    if !authorized(&headers, &shared.token_digest) {
        tracing::warn!(channel = %name, "refused a stream request without the right token");
        return Err(Refused::Token);
    }
    check_channel(&name)?;
    let last_event_id = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or(Refused::LastEventId)?,
        ),
    };
    let channel = shared.store.channel(&name)?;
    let events = events(channel, name, last_event_id, shared.shutdown.clone());
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(shared.keep_alive))
        .into_response())
}

/// The first events of a stream: `ready` with where it starts, and a warning if the asked-for
/// id is unknown (relay restarted, channel forgotten).
fn opening(channel: &Channel, name: &str, last_event_id: Option<u64>) -> (u64, Vec<Event>) {
    let (latest, oldest) = channel.bounds();
    let mut opening = Vec::new();
    let after = match last_event_id {
        None => latest,
        Some(id) if id > latest => {
            let message = format!(
                "the relay has no delivery #{id} on channel {name} (its latest is #{latest}): \
                 it restarted or forgot the channel; sending all it keeps from #{oldest}"
            );
            tracing::warn!("{message}");
            opening.push(warning(message, 0));
            oldest - 1
        }
        Some(id) => id,
    };
    let ready = wire::Ready {
        channel: name.to_owned(),
        after,
    };
    opening.insert(
        0,
        Event::default()
            .event(wire::READY)
            .id(after.to_string())
            .data(serde_json::to_string(&ready).expect("serializes")),
    );
    (after, opening)
}

fn warning(message: String, missed: u64) -> Event {
    Event::default()
        .event(wire::WARNING)
        .data(serde_json::to_string(&wire::Warning { message, missed }).expect("serializes"))
}

struct StreamState {
    channel: Arc<Channel>,
    name: String,
    after: u64,
    changes: watch::Receiver<u64>,
    shutdown: watch::Receiver<bool>,
    pending: VecDeque<Event>,
}

/// The events of one stream, until the client goes or the relay shuts down.
fn events(
    channel: Arc<Channel>,
    name: String,
    last_event_id: Option<u64>,
    shutdown: watch::Receiver<bool>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    // Subscribe before looking, so nothing kept in between goes unnoticed.
    let changes = channel.subscribe();
    let (after, opening) = opening(&channel, &name, last_event_id);
    let state = StreamState {
        channel,
        name,
        after,
        changes,
        shutdown,
        pending: opening.into(),
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(event) = st.pending.pop_front() {
                return Some((Ok(event), st));
            }
            st.changes.borrow_and_update();
            let read = st.channel.read(st.after, BATCH);
            if read.missed > 0 {
                let message = format!(
                    "{} deliveries after #{} on channel {} were pruned before they could be \
                     sent (raise --max-deliveries or --max-age on the relay)",
                    read.missed, st.after, st.name
                );
                tracing::warn!("{message}");
                st.pending.push_back(warning(message, read.missed));
            }
            for kept in read.items {
                st.after = kept.seq;
                st.pending.push_back(
                    Event::default()
                        .event(wire::DELIVERY)
                        .id(kept.seq.to_string())
                        .data(&*kept.data),
                );
            }
            if st.pending.is_empty() {
                let mut shutdown = st.shutdown.clone();
                tokio::select! {
                    changed = st.changes.changed() => if changed.is_err() { return None },
                    _ = shutdown.wait_for(|stop| *stop) => return None,
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names() {
        assert!(valid_channel("my-bot_1.dev"));
        for bad in ["", "a/b", "a b", "ü", &"x".repeat(65)] {
            assert!(!valid_channel(bad), "{bad}");
        }
    }

    #[test]
    fn bearer_token_must_match_exactly() {
        let digest: [u8; 32] = Sha256::digest(b"0123456789abcdef").into();
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            authorized(&h, &digest)
        };
        assert!(with("Bearer 0123456789abcdef"));
        assert!(!with("Bearer 0123456789abcde"));
        assert!(!with("Bearer 0123456789abcdefg"));
        assert!(!with("bearer0123456789abcdef"));
        assert!(!with("Basic 0123456789abcdef"));
        assert!(!authorized(&HeaderMap::new(), &digest));
    }
}
