//! Issue 12: one bad job fails only its own push, not the batch it was committed with
//! (Postgres refuses a NUL in text; on Redis a dedupe key of the wrong type makes one push
//! script fail inside a `MULTI` whose other commands still run).

mod common;

use atombot_jobs::{Job, Queue, QueueConfig};
use common::*;
use serde_json::json;

async fn push_good_and_bad(queue: &Queue, bad: Job) {
    // Three rounds of 40 good pushes with the bad one in the middle, all at once: while the
    // writer commits the first of them, the rest (the bad one among them) share a batch.
    for round in 0..3 {
        let pushes = (0..41).map(|n| {
            let job = if n == 20 {
                bad.clone()
            } else {
                Job::new("good", json!(n))
            };
            let queue = queue.clone();
            async move {
                if n == 20 {
                    queue.push_unique(job).await.map(|p| p.id().clone())
                } else {
                    queue.push(job).await
                }
            }
        });
        let results = futures_util::future::join_all(pushes).await;
        for (n, result) in results.iter().enumerate() {
            if n == 20 {
                assert!(result.is_err(), "the bad job fails: {result:?}");
            } else {
                assert!(
                    result.is_ok(),
                    "round {round}: a good job failed: {result:?}"
                );
            }
        }
    }
    let stats = queue.stats().await.unwrap();
    assert_eq!(stats.pending, 120, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_nul_in_one_key_fails_only_that_push() {
    let Some(url) = postgres_url() else { return };
    let queue = Queue::connect(QueueConfig::new(url).queue_name(unique("bad-pg")))
        .await
        .unwrap();
    push_good_and_bad(&queue, Job::new("bad", json!({})).with_key("a\0b")).await;
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_a_failing_script_fails_only_that_push() {
    let Some(url) = redis_url() else { return };
    let name = unique("bad-redis");
    let queue = Queue::connect(QueueConfig::new(url.clone()).queue_name(&name))
        .await
        .unwrap();
    // A hash where the dedupe record of key "taken" would be: GET on it fails (WRONGTYPE).
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("HSET")
        .arg(format!("atombot:{{{name}}}:dedupe:taken"))
        .arg("f")
        .arg("v")
        .query_async(&mut conn)
        .await
        .unwrap();
    push_good_and_bad(&queue, Job::new("bad", json!({})).with_key("taken")).await;
}
