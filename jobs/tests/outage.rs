//! Acceptance 6: with Redis down, pushes fail promptly; once it is back, the same `Queue`
//! and the running worker work again.

mod common;

use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use atombot_jobs::{Job, Queue, QueueConfig};
use common::*;
use serde_json::json;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private redis-server on loopback (append-only, so acknowledged pushes survive restarts).
fn start_redis(port: u16, dir: &std::path::Path) -> Kid {
    let child = Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
        ])
        .args(["--appendonly", "yes", "--dir", &dir.display().to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server");
    Kid(child)
}

async fn wait_up(port: u16) {
    let up = eventually(Duration::from_secs(10), async || {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    assert!(up, "redis-server did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_outage_fails_fast_and_recovers() {
    // The shared server only signals that Redis is installed; this test runs its own.
    if redis_url().is_none() {
        return;
    }
    let dir = temp_dir("outage");
    let port = free_port();
    let mut redis = start_redis(port, &dir);
    wait_up(port).await;
    let config = fast(QueueConfig::new(format!("redis://127.0.0.1:{port}/")))
        .queue_name(unique("outage"))
        .backend_timeout(Duration::from_secs(1));
    let queue = Queue::connect(config).await.unwrap();
    let (done, _stop) = counting_worker(&queue, |_| {});
    queue.push(Job::new("before", json!({}))).await.unwrap();
    assert!(
        eventually(Duration::from_secs(5), async || done.load(Ordering::SeqCst)
            == 1)
        .await
    );

    redis.kill();
    let t = Instant::now();
    let err = queue.push(Job::new("during", json!({}))).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "push took {:?} to fail",
        t.elapsed()
    );
    assert!(queue.ping().await.is_err());

    let _redis = start_redis(port, &dir);
    wait_up(port).await;
    let t = Instant::now();
    let back = eventually(Duration::from_secs(10), async || {
        queue.push(Job::new("after", json!({}))).await.is_ok()
    })
    .await;
    assert!(back, "push still failing after redis came back");
    eprintln!("push worked again {:?} after restart", t.elapsed());
    assert!(
        eventually(Duration::from_secs(10), async || done
            .load(Ordering::SeqCst)
            == 2)
        .await
    );
    queue.ping().await.unwrap();
}

/// Redis forgets loaded scripts on a restart or `SCRIPT FLUSH`; the queue calls them by SHA,
/// so it loads them again and the push, the run and its outcome all still go through.
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_forgotten_scripts_are_loaded_again() {
    let Some(url) = redis_url() else { return };
    let queue = Queue::connect(fast(QueueConfig::new(url.clone())).queue_name(unique("noscript")))
        .await
        .unwrap();
    let flush = || async {
        let client = redis::Client::open(url.as_str()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let _: () = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut conn)
            .await
            .unwrap();
    };
    flush().await;
    queue.push(Job::new("pushed", json!({}))).await.unwrap();
    flush().await;
    let (done, _stop) = counting_worker(&queue, |_| {});
    assert!(
        done_eventually(&queue, 1).await,
        "{:?}",
        queue.stats().await
    );
    assert_eq!(done.load(Ordering::SeqCst), 1);
}
