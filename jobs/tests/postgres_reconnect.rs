//! The database drops the queue's connections (a restart, a failover, an administrator):
//! the pushes right after it are still stored, not refused, and every one of them runs.
#![cfg(feature = "postgres")]

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use atombot_jobs::{Job, Queue, QueueConfig};
use common::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_go_on_when_the_database_drops_the_connections() {
    let Some(url) = postgres_url() else { return };
    let queue = Queue::connect(fast(
        QueueConfig::new(url.clone()).queue_name(unique("dropped")),
    ))
    .await
    .unwrap();
    // Several pooled connections, all used a moment ago.
    let pushes = (0..40).map(|i| queue.push(Job::new("before", json!({ "i": i }))));
    for pushed in futures_util::future::join_all(pushes).await {
        pushed.unwrap();
    }

    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    let dropped: i64 = sqlx::query_scalar(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::BIGINT FROM pg_stat_activity
         WHERE datname = current_database() AND usename = current_user
           AND pid <> pg_backend_pid()",
    )
    .fetch_one(&admin)
    .await
    .unwrap();
    assert!(dropped > 0, "no connection of the queue to drop");
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut refused = Vec::new();
    for i in 0..20 {
        if let Err(e) = queue.push(Job::new("after", json!({ "i": i }))).await {
            refused.push(e.to_string());
        }
    }
    assert!(
        refused.is_empty(),
        "pushes refused after the drop: {refused:?}"
    );
    let (runs, _stop) = counting_worker(&queue, |_| {});
    assert!(
        eventually(Duration::from_secs(15), async || runs
            .load(Ordering::SeqCst)
            >= 60)
        .await,
        "{} of 60 jobs ran",
        runs.load(Ordering::SeqCst)
    );
}
