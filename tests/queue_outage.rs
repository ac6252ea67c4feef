//! Jobs acceptance 6: with the queue's Redis stopped the receiver answers 503 and
//! acknowledges nothing it did not store; once Redis is back, deliveries flow again without
//! restarting the bot.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use atombot::Context;
use atombot::testing::Simulator;
use serde_json::json;

struct Redis(Child);

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_redis(port: u16, dir: &std::path::Path) -> Redis {
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
    let redis = Redis(child);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return redis;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not start on port {port}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queue_outage_answers_503_and_recovers_without_a_restart() {
    if !cfg!(feature = "redis") {
        eprintln!("skipped: atombot built without the `redis` feature (use --all-features)");
        return;
    }
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: redis-server not installed (run jobs/ci-services.sh)");
        return;
    }
    let dir = common::temp_dir("outage");
    let port = common::free_port();
    let redis = start_redis(port, &dir).await;

    let sim = Simulator::start().await.unwrap();
    let handled = Arc::new(AtomicUsize::new(0));
    let count = handled.clone();
    let bot = common::bot(&sim)
        .settings(common::settings_with_queue(&format!(
            "redis://127.0.0.1:{port}/"
        )))
        .on("push", move |_ctx: Context| {
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    let body = json!({"ref": "refs/heads/main", "repository": {"full_name": "atomgit-demo/hello-world"}, "installation": {"id": 14}});

    let (status, _) = common::deliver(&bot, "push", "before", &body).await;
    assert_eq!(status, 202);

    drop(redis); // the queue's storage goes away
    let start = Instant::now();
    let (status, text) = common::deliver(&bot, "push", "during", &body).await;
    assert_eq!(status, 503, "{text}");
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "the 503 took {:?}",
        start.elapsed()
    );
    let metrics = common::metrics(&bot).await;
    assert!(
        metrics.contains(r#"outcome="queue_unavailable""#),
        "{metrics}"
    );
    assert_eq!(
        reqwest::get(bot.url("/readyz"))
            .await
            .unwrap()
            .status()
            .as_u16(),
        503
    );

    let _redis = start_redis(port, &dir).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut status = 0;
    while Instant::now() < deadline {
        status = common::deliver(&bot, "push", "after", &body).await.0;
        if status == 202 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 202, "deliveries flow again once Redis is back");
    // The delivery refused during the outage is redelivered by the platform; it is new.
    assert_eq!(common::deliver(&bot, "push", "during", &body).await.0, 202);
    let deadline = Instant::now() + Duration::from_secs(20);
    while handled.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        handled.load(Ordering::SeqCst),
        3,
        "before, after and the redelivered one"
    );
    bot.shutdown().await;
}
