//! Hardening: a large body is verified off the async threads, so hashing it never holds up
//! other requests. On a single-threaded runtime the order of completion tells, with no
//! timing: a large delivery with a wrong signature is polled first, and a `/healthz`
//! request polled after it still completes first, because the large body's HMAC runs on a
//! blocking thread. Verified inline, the large request would finish within its first poll.

mod common;

use std::sync::{Arc, Mutex};

use atombot::testing::Simulator;
use axum::body::Body;
use http::Request;
use tower::ServiceExt;

#[tokio::test(flavor = "current_thread")]
async fn a_large_body_is_verified_without_holding_the_runtime_thread() {
    let sim = Simulator::start().await.unwrap();
    let app = common::bot(&sim)
        .on("push", |_ctx: atombot::Context| async {
            Ok::<_, atombot::Error>(())
        })
        .into_router()
        .await
        .unwrap();
    for size in [8 * 1024 * 1024, 1024 * 1024] {
        let body = vec![b' '; size];
        let wrong = atombot::webhook::sign(b"not-the-secret", &body);
        let large = Request::post("/webhook")
            .header("x-atomgit-event", "push")
            .header("x-atomgit-delivery", format!("large-{size}"))
            .header("x-hub-signature-256", wrong)
            .header("content-length", size.to_string())
            .body(Body::from(body))
            .unwrap();
        let health = Request::get("/healthz").body(Body::empty()).unwrap();
        let order = Arc::new(Mutex::new(Vec::new()));
        let (big, small) = (order.clone(), order.clone());
        let (large_app, health_app) = (app.clone(), app.clone());
        // `join!` polls the large request first.
        let (large_status, health_status) = tokio::join!(
            async move {
                let status = large_app.oneshot(large).await.unwrap().status();
                big.lock().unwrap().push("large");
                status
            },
            async move {
                let status = health_app.oneshot(health).await.unwrap().status();
                small.lock().unwrap().push("healthz");
                status
            },
        );
        assert_eq!(large_status.as_u16(), 401);
        assert_eq!(health_status.as_u16(), 200);
        assert_eq!(
            *order.lock().unwrap(),
            ["healthz", "large"],
            "{size} bytes: /healthz had to wait for the large body's HMAC"
        );
    }
}
