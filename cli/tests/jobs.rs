//! `atombot jobs failed | retry | stats` against a bot's SQLite queue: a delivery whose
//! handler always fails ends failed, is listed, and runs again after `retry`.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use atombot::runtime::RuntimeSettings;
use atombot::testing::{Simulator, events};
use atombot::{Bot, Context};

fn atombot(queue: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_atombot"))
        .args(args)
        .env("ATOMBOT_QUEUE", queue)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_deliveries_are_listed_and_requeued_by_the_cli() {
    let dir = std::env::temp_dir().join(format!("atombot-cli-jobs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let queue = format!("sqlite://{}", dir.join("queue.db").display());
    let sim = Simulator::start().await.unwrap();
    let mut settings = RuntimeSettings::from_lookup(|k| match k {
        "ATOMBOT_LISTEN" => Some("127.0.0.1:0".into()),
        "ATOMBOT_QUEUE" => Some(queue.clone()),
        "ATOMBOT_MAX_ATTEMPTS" => Some("2".into()),
        _ => None,
    })
    .unwrap();
    settings.queue = settings
        .queue
        .backoff(Duration::from_millis(50), Duration::from_millis(100))
        .poll_interval(Duration::from_millis(20));
    let runs = Arc::new(AtomicU32::new(0));
    let counter = runs.clone();
    let bot = Bot::new(sim.app_config())
        .settings(settings)
        .on("push", move |_ctx: Context| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(std::io::Error::other("the linter is down"))
            }
        })
        .start()
        .await
        .unwrap();
    sim.set_webhook_url(bot.url("/webhook"));
    let sent = sim
        .deliver(
            "push",
            events::push("atomgit-demo/hello-world").installation(14),
        )
        .await
        .unwrap();
    assert_eq!(sent.status, 202);

    let deadline = Instant::now() + Duration::from_secs(15);
    let listing = loop {
        let out = atombot(&queue, &["jobs", "failed"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains("handler:push#1") || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        listing.contains("attempts=2") && listing.contains("the linter is down"),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("handler:{}:push#1", sent.delivery_id)),
        "{listing}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    let id = listing.split('\t').next().unwrap().to_owned();
    let out = atombot(&queue, &["jobs", "retry", &id]);
    assert!(out.status.success(), "{out:?}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while runs.load(Ordering::SeqCst) < 4 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        runs.load(Ordering::SeqCst),
        4,
        "two more attempts after the retry"
    );

    let out = atombot(&queue, &["jobs", "retry", "no-such-job"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no failed job"));
    bot.shutdown().await;
}

/// Issue 9, acceptance 3: a handler unit or job whose name no worker knows waits (counted as
/// `unknown` by `atombot jobs stats`) for the time bound, then fails and is listed.
#[tokio::test(flavor = "multi_thread")]
async fn units_of_unknown_names_fail_after_the_bound_and_are_listed() {
    let dir = std::env::temp_dir().join(format!("atombot-cli-unknown-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let queue = format!("sqlite://{}", dir.join("queue.db").display());
    let sim = Simulator::start().await.unwrap();
    let mut settings = RuntimeSettings::from_lookup(|k| match k {
        "ATOMBOT_LISTEN" => Some("127.0.0.1:0".into()),
        "ATOMBOT_QUEUE" => Some(queue.clone()),
        "ATOMBOT_UNKNOWN_TIMEOUT" => Some("2".into()),
        _ => None,
    })
    .unwrap();
    settings.queue = settings
        .queue
        .unknown_kind_delay(Duration::from_millis(200))
        .poll_interval(Duration::from_millis(20));
    let bot = Bot::new(sim.app_config())
        .settings(settings)
        .on_named("greet", "issues.opened", |_ctx: Context| async {
            Ok::<_, atombot::Error>(())
        })
        .start()
        .await
        .unwrap();
    // Queued by a version that had a handler "retired" and a job "weekly-report".
    let stored = serde_json::json!({
        "id": "d-1", "header_event": "issues", "received_at": "2026-12-01T00:00:00Z",
        "body": "{\"action\":\"opened\",\"issue\":{\"number\":1}}"
    });
    for kind in ["handler:retired", "weekly-report"] {
        let job = atombot::jobs::QueuedJob::new(kind, stored.clone());
        bot.queue().push(job).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    let stats = loop {
        let out = atombot(&queue, &["jobs", "stats"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains("unknown=2") || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        stats.contains("unknown=2") && stats.contains("failed=0"),
        "{stats}"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let listing = loop {
        let out = atombot(&queue, &["jobs", "failed"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.lines().count() >= 2 || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        listing.contains("no worker knows handler:retired")
            && listing.contains("no worker knows weekly-report"),
        "{listing}"
    );
    let out = atombot(&queue, &["jobs", "stats"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("failed=2 unknown=0"),
        "{out:?}"
    );
    bot.shutdown().await;
}
