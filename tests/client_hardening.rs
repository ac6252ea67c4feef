//! Issue 12, the API client: no answer the platform can give parks, hangs or panics a client.
//! Each test talks to a scripted AtomGit stand-in on 127.0.0.1 that answers from a list and
//! records when each request arrived.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atombot::Client;
use atombot::client::layers::{DefaultRetryPolicy, RateLimitConfig};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::IntoResponse;

/// One scripted answer: status and headers (the body is a JSON message).
#[derive(Clone)]
struct Answer(u16, Vec<(&'static str, String)>);

#[derive(Clone, Default)]
struct Script {
    answers: Arc<Mutex<Vec<Answer>>>,
    seen: Arc<Mutex<Vec<Instant>>>,
}

impl Script {
    fn seen(&self) -> Vec<Instant> {
        self.seen.lock().unwrap().clone()
    }
}

/// Serves `answers` in order (then 200 `{}`) on a free loopback port; returns its URL.
async fn scripted(answers: Vec<Answer>) -> (String, Script) {
    let script = Script {
        answers: Arc::new(Mutex::new(answers.into_iter().rev().collect())),
        ..Script::default()
    };
    let state = script.clone();
    let app = axum::Router::new().fallback(move || {
        let state = state.clone();
        async move {
            state.seen.lock().unwrap().push(Instant::now());
            let next = state.answers.lock().unwrap().pop();
            let Answer(status, headers) = next.unwrap_or(Answer(200, vec![]));
            let mut map = HeaderMap::new();
            for (k, v) in headers {
                map.insert(
                    HeaderName::from_static(k),
                    HeaderValue::from_str(&v).unwrap(),
                );
            }
            let body = if status == 200 {
                "{}".to_owned()
            } else {
                r#"{"message":"API rate limit exceeded"}"#.to_owned()
            };
            (StatusCode::from_u16(status).unwrap(), map, body).into_response()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, script)
}

fn client(url: &str) -> atombot::client::ClientBuilder {
    Client::builder()
        .base_url(url)
        .token_source(Arc::new(atombot::auth::StaticToken::new("ats_test", "t")))
}

fn reset_in(secs: i64) -> String {
    (chrono::Utc::now().timestamp() + secs).to_string()
}

/// An hourly budget used up (403, remaining 0, reset an hour away) makes later requests on
/// that token fail at once with a typed rate-limit error instead of waiting an hour.
#[tokio::test]
async fn an_exhausted_budget_fails_fast_instead_of_parking_every_request() {
    let limited = Answer(
        403,
        vec![
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-limit", "5000".into()),
            ("x-ratelimit-reset", reset_in(3600)),
        ],
    );
    let (url, script) = scripted(vec![limited]).await;
    let client = client(&url).build().unwrap();
    let first = client
        .get::<serde_json::Value, ()>("/repos/a/b", None)
        .await;
    assert!(
        matches!(first, Err(atombot::Error::RateLimited { .. })),
        "{first:?}"
    );
    let started = Instant::now();
    let second = tokio::time::timeout(
        Duration::from_secs(5),
        client.get::<serde_json::Value, ()>("/repos/a/c", None),
    )
    .await
    .expect("the second request is not parked for the hour");
    match second {
        Err(atombot::Error::RateLimited { retry_after, .. }) => {
            let after = retry_after.expect("says when");
            assert!(after > Duration::from_secs(3000), "{after:?}");
        }
        other => panic!("expected a rate-limit error, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(script.seen().len(), 1, "the second request was not sent");
}

/// A `Retry-After` or reset that does not fit in a `Duration`/`Instant` is saturated, not a
/// panic.
#[tokio::test]
async fn huge_delays_do_not_panic() {
    let (url, _) = scripted(vec![
        Answer(429, vec![("retry-after", u64::MAX.to_string())]),
        Answer(
            403,
            vec![
                ("x-ratelimit-remaining", "0".into()),
                ("x-ratelimit-reset", u64::MAX.to_string()),
            ],
        ),
        Answer(503, vec![("retry-after", u64::MAX.to_string())]),
    ])
    .await;
    let client = client(&url).build().unwrap();
    for path in ["/a", "/b", "/c"] {
        let result = tokio::spawn({
            let client = client.clone();
            async move { client.get::<serde_json::Value, ()>(path, None).await }
        })
        .await;
        let result = result.expect("no panic");
        assert!(result.is_err(), "{path}: {result:?}");
    }
}

/// One deadline covers the whole call, waits for pacing included.
#[tokio::test]
async fn the_request_deadline_covers_pacing_waits() {
    let (url, _) = scripted(vec![]).await;
    let client = client(&url)
        .rate_limit(RateLimitConfig::default().per_second(1))
        .deadline(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let calls = (0..3).map(|i| {
        let client = client.clone();
        async move {
            client
                .get::<serde_json::Value, ()>(&format!("/n/{i}"), None)
                .await
        }
    });
    let results = futures::future::join_all(calls).await;
    let timed_out = results
        .iter()
        .filter(|r| matches!(r, Err(atombot::Error::Timeout { .. })))
        .count();
    // At 1 request/s the third call could only be sent after 2 s: past its deadline.
    assert!(timed_out >= 1, "{results:?}");
    assert!(started.elapsed() < Duration::from_millis(1900));
}

/// A 429 (what AtomGit's siblings answer) blocks the token until `Retry-After`, like a 403
/// with `x-ratelimit-remaining: 0`: the refused request and the next one on that token wait
/// instead of going out at once.
#[tokio::test]
async fn a_429_blocks_the_token_like_an_exhausted_403() {
    let (url, script) = scripted(vec![Answer(429, vec![("retry-after", "2".into())])]).await;
    let client = client(&url)
        .retry_policy(DefaultRetryPolicy::default().max_attempts(1))
        .build()
        .unwrap();
    let first = tokio::spawn({
        let client = client.clone();
        async move { client.get::<serde_json::Value, ()>("/a", None).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    client
        .get::<serde_json::Value, ()>("/b", None)
        .await
        .expect("sent once the token may send again");
    first
        .await
        .unwrap()
        .expect("the refused request was waited out and sent again");
    let seen = script.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    for later in &seen[1..] {
        assert!(
            *later - seen[0] >= Duration::from_millis(1500),
            "a request went out while the token was blocked: {:?}",
            *later - seen[0]
        );
    }
}

/// Time spent waiting for the rate limit is measured.
#[tokio::test]
async fn waiting_for_the_rate_limit_is_measured() {
    let (url, _) = scripted(vec![Answer(429, vec![("retry-after", "1".into())])]).await;
    let client = client(&url).build().unwrap();
    assert_eq!(client.rate_limit_wait(), Duration::ZERO);
    client
        .get::<serde_json::Value, ()>("/a", None)
        .await
        .unwrap();
    assert!(client.rate_limit_wait() >= Duration::from_millis(800));
}
