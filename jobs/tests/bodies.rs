//! A job's body reaches a worker byte for byte on every backend, also when it waited in the
//! store (no worker was idle to take it at push time); Redis keeps it packed, and still
//! reads bodies stored unpacked by older versions.

mod common;

use std::process::Command;
use std::sync::{Arc, Mutex};

use atombot_jobs::{Job, Queue, QueueConfig};
use bytes::Bytes;
use common::*;
use serde_json::json;

fn push_body() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../bench/payloads/push.json"
    ))
    .unwrap()
}

/// Pushes a job carrying `body` while no worker runs, calls `between` with its id, then
/// starts a worker: the body the worker got.
async fn stored_then_run(
    queue: &Queue,
    body: Vec<u8>,
    between: impl AsyncFnOnce(&str),
) -> Option<Bytes> {
    let id = queue
        .push(Job::new("carry", json!({})).with_body(body))
        .await
        .unwrap();
    between(&id.0).await;
    let seen = Arc::new(Mutex::new(None));
    let keep = seen.clone();
    let (_runs, _stop) = counting_worker(queue, move |job: &Job| {
        *keep.lock().unwrap() = Some(job.body.clone());
    });
    assert!(done_eventually(queue, 1).await, "the job did not run");
    seen.lock().unwrap().take().expect("handler ran")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_body_reaches_the_worker_unchanged() {
    let body = push_body();
    for config in backends("bodies") {
        let name = format!("{config:?}");
        let queue = Queue::connect(config).await.unwrap();
        let got = stored_then_run(&queue, body.clone(), async |_| {}).await;
        assert_eq!(got.as_deref(), Some(&body[..]), "{name}");
    }
}

fn redis_cli(url: &str, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-u")
        .arg(url)
        .args(args)
        .output()
        .expect("redis-cli");
    assert!(out.status.success(), "redis-cli {args:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_keeps_bodies_packed_and_reads_older_unpacked_ones() {
    let Some(url) = redis_url() else { return };
    let body = push_body();
    let name = unique("packed");
    let queue = Queue::connect(fast(QueueConfig::new(url.clone()).queue_name(name.clone())))
        .await
        .unwrap();
    let got = stored_then_run(&queue, body.clone(), async |id: &str| {
        let key = format!("atombot:{{{name}}}:job:{id}");
        let packed: usize = redis_cli(&url, &["HSTRLEN", &key, "lz4body"])
            .parse()
            .unwrap();
        assert!(
            packed > 0 && packed * 3 < body.len(),
            "stored {packed} bytes for a {}-byte body",
            body.len()
        );
        assert_eq!(redis_cli(&url, &["HEXISTS", &key, "body"]), "0");
    })
    .await;
    assert_eq!(got.as_deref(), Some(&body[..]));

    // A job as an older version stored it: the body as is, in `body`.
    let older = unique("unpacked");
    let queue = Queue::connect(fast(
        QueueConfig::new(url.clone()).queue_name(older.clone()),
    ))
    .await
    .unwrap();
    let got = stored_then_run(&queue, b"x".to_vec(), async |id: &str| {
        let key = format!("atombot:{{{older}}}:job:{id}");
        redis_cli(&url, &["HDEL", &key, "lz4body"]);
        redis_cli(&url, &["HSET", &key, "body", "as stored before"]);
    })
    .await;
    assert_eq!(got.as_deref(), Some(&b"as stored before"[..]));
}
