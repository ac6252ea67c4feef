//! `bare-axum`: the floor for `bench/run` — a plain axum 0.8 receiver that reads the
//! body, verifies its HMAC-SHA256 signature in constant time, parses it as
//! `serde_json::Value` and answers 200. No queue, no durability.
//!
//! Listens on `BENCH_LISTEN` (default an ephemeral loopback port) and prints
//! `listening on ADDR`; POST deliveries to `/webhook`. Stops on SIGTERM.

use std::sync::Arc;

use atombot_bench::{SECRET, serve, signature_ok};
use axum::extract::State;
use axum::routing::post;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};

/// Verifies and parses one delivery.
async fn webhook(State(secret): State<Arc<[u8]>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if !signature_ok(&secret, &headers, &body) {
        return StatusCode::UNAUTHORIZED;
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secret: Arc<[u8]> = Arc::from(SECRET.as_bytes());
    let app = axum::Router::new()
        .route("/webhook", post(webhook))
        .with_state(secret);
    serve(app).await?;
    Ok(())
}
