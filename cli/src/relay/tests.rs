//! The relay over real HTTP on 127.0.0.1: authentication, size limit, resume, pruning.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::net::TcpListener;

use super::store::Limits;
use super::wire::{self, WireDelivery};
use super::{RelaySettings, serve};
use crate::forward::sse::{SseEvent, SseParser};

const TOKEN: &str = "relay-unit-test-token-0123";

struct Relay {
    url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn relay(max_deliveries: usize, max_body_bytes: usize) -> Relay {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let settings = RelaySettings {
        token: TOKEN.to_owned().into(),
        limits: Limits {
            max_deliveries,
            max_age: Duration::from_secs(3600),
            max_channels: 8,
        },
        max_body_bytes,
        keep_alive: Duration::from_secs(15),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, settings, async {
        let _ = stopped.await;
    }));
    Relay { url, _stop: stop }
}

async fn post(url: &str, body: &[u8]) -> StatusCode {
    reqwest::Client::new()
        .post(url)
        .header("X-AtomGit-Event", "push")
        .header("X-AtomGit-Delivery", "d-1")
        .header("X-Hub-Signature-256", "sha256=00")
        .header("X-Forwarded-For", "10.0.0.1")
        .header("Content-Type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
}

async fn open(url: &str, token: Option<&str>, last_event_id: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    request.send().await.unwrap()
}

/// The next `n` events of a stream (a stuck stream fails the test after a minute).
async fn next_events(
    response: &mut reqwest::Response,
    parser: &mut SseParser,
    n: usize,
) -> Vec<SseEvent> {
    let mut events = Vec::new();
    while events.len() < n {
        let chunk = tokio::time::timeout(Duration::from_secs(60), response.chunk())
            .await
            .expect("the relay sent nothing")
            .unwrap()
            .expect("the stream ended");
        events.extend(parser.feed(&chunk).unwrap());
    }
    events
}

fn delivery(event: &SseEvent) -> WireDelivery {
    assert_eq!(event.event, wire::DELIVERY, "{event:?}");
    let delivery: WireDelivery = serde_json::from_str(&event.data).unwrap();
    assert_eq!(event.id.as_deref(), Some(delivery.seq.to_string().as_str()));
    delivery
}

fn ready_after(event: &SseEvent) -> u64 {
    assert_eq!(event.event, wire::READY, "{event:?}");
    let ready: wire::Ready = serde_json::from_str(&event.data).unwrap();
    assert_eq!(event.id.as_deref(), Some(ready.after.to_string().as_str()));
    ready.after
}

#[tokio::test]
async fn streams_need_the_token() {
    let relay = relay(10, 1024).await;
    let channel = format!("{}/deliveries/team", relay.url);
    for token in [None, Some("relay-unit-test-token-012"), Some("wrong")] {
        let response = open(&channel, token, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let text = response.text().await.unwrap();
        assert!(!text.contains(TOKEN), "{text}");
    }
    let response = open(&channel, Some(TOKEN), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let health = reqwest::get(format!("{}/health", relay.url)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn oversize_bodies_get_413() {
    let relay = relay(10, 1024).await;
    let channel = format!("{}/deliveries/team", relay.url);
    assert_eq!(
        post(&channel, &[b'x'; 1025]).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert_eq!(post(&channel, &[b'x'; 1024]).await, StatusCode::ACCEPTED);
    assert_eq!(
        post(&format!("{}/deliveries/a%20b", relay.url), b"{}").await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_stream_resumes_after_last_event_id_and_then_follows() {
    let relay = relay(100, 1024).await;
    let channel = format!("{}/deliveries/team", relay.url);
    let bodies: Vec<Vec<u8>> = (1..=5)
        .map(|i| format!("{{\"n\": {i},\r\n \"é\": \"\\u00e9\"}}  ").into_bytes())
        .collect();
    for body in &bodies {
        assert_eq!(post(&channel, body).await, StatusCode::ACCEPTED);
    }

    let mut response = open(&channel, Some(TOKEN), Some("2")).await;
    let mut parser = SseParser::default();
    let events = next_events(&mut response, &mut parser, 4).await;
    assert_eq!(ready_after(&events[0]), 2);
    for (event, seq) in events[1..].iter().zip(3..) {
        let d = delivery(event);
        assert_eq!(d.seq, seq);
        assert_eq!(d.body_bytes().unwrap(), bodies[seq as usize - 1]);
        assert_eq!(d.header("x-hub-signature-256"), Some("sha256=00"));
        assert_eq!(d.header("content-type"), Some("application/json"));
        assert_eq!((d.event(), d.delivery_id()), ("push", "d-1"));
        assert_eq!(d.header("x-forwarded-for"), None);
    }
    // Live: the next delivery follows on the open stream.
    assert_eq!(post(&channel, b"six").await, StatusCode::ACCEPTED);
    let events = next_events(&mut response, &mut parser, 1).await;
    assert_eq!(delivery(&events[0]).body_bytes().unwrap(), b"six");

    // Without Last-Event-ID a stream starts after the latest.
    let mut fresh = open(&channel, Some(TOKEN), None).await;
    let mut parser = SseParser::default();
    assert_eq!(
        ready_after(&next_events(&mut fresh, &mut parser, 1).await[0]),
        6
    );
}

#[tokio::test]
async fn pruned_deliveries_are_reported_on_resume() {
    let relay = relay(3, 1024).await;
    let channel = format!("{}/deliveries/team", relay.url);
    for i in 1..=5 {
        assert_eq!(
            post(&channel, format!("{i}").as_bytes()).await,
            StatusCode::ACCEPTED
        );
    }
    let mut response = open(&channel, Some(TOKEN), Some("1")).await;
    let mut parser = SseParser::default();
    let events = next_events(&mut response, &mut parser, 5).await;
    assert_eq!(ready_after(&events[0]), 1);
    assert_eq!(events[1].event, wire::WARNING);
    let warning: wire::Warning = serde_json::from_str(&events[1].data).unwrap();
    assert_eq!(warning.missed, 1, "{}", warning.message);
    assert!(warning.message.contains("pruned"), "{}", warning.message);
    let seqs: Vec<u64> = events[2..].iter().map(|e| delivery(e).seq).collect();
    assert_eq!(seqs, [3, 4, 5]);
}

#[tokio::test]
async fn an_unknown_id_replays_what_is_kept_with_a_warning() {
    let relay = relay(10, 1024).await;
    let channel = format!("{}/deliveries/team", relay.url);
    assert_eq!(post(&channel, b"one").await, StatusCode::ACCEPTED);
    let mut response = open(&channel, Some(TOKEN), Some("40")).await;
    let mut parser = SseParser::default();
    let events = next_events(&mut response, &mut parser, 3).await;
    assert_eq!(ready_after(&events[0]), 0);
    assert_eq!(events[1].event, wire::WARNING);
    assert!(
        events[1].data.contains("no delivery #40"),
        "{}",
        events[1].data
    );
    assert_eq!(delivery(&events[2]).body_bytes().unwrap(), b"one");

    let bad = open(&channel, Some(TOKEN), Some("last")).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
