//! Jobs acceptance 2, 4, 5 and 7: one run per delivery id, retries then failed then
//! re-queued, user jobs with a token minted when they run, no token or secret in storage.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use atombot::Context;
use atombot::jobs::JobContext;
use atombot::testing::{Simulator, TokenKind};
use common::{Log, SECRET, deliver};
use serde::{Deserialize, Serialize};
use serde_json::json;

fn push() -> serde_json::Value {
    json!({
        "ref": "refs/heads/main",
        "after": "0123456789abcdef0123456789abcdef01234567",
        "repository": {"full_name": "atomgit-demo/hello-world", "owner": {"login": "atomgit-demo"}},
        "installation": {"id": 14}
    })
}

async fn wait_until(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

#[tokio::test]
async fn one_delivery_id_sent_ten_times_runs_once() {
    let sim = Simulator::start().await.unwrap();
    let runs = Arc::new(AtomicU32::new(0));
    let counter = runs.clone();
    let bot = common::bot(&sim)
        .on("push", move |_ctx: Context| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    let body = push();
    let concurrent = (0..5).map(|_| deliver(&bot, "push", "same-id", &body));
    for (status, _) in futures::future::join_all(concurrent).await {
        assert_eq!(status, 202);
    }
    assert!(wait_until(5, || runs.load(Ordering::SeqCst) >= 1).await);
    for _ in 0..5 {
        let (status, text) = deliver(&bot, "push", "same-id", &body).await;
        assert_eq!(status, 202);
        assert!(text.contains("duplicate"), "{text}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let metrics = common::metrics(&bot).await;
    assert!(
        metrics.contains(r#"atombot_deliveries_total{event="push",outcome="duplicate"} 9"#),
        "{metrics}"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn failing_handlers_are_retried_then_kept_as_failed_and_can_be_requeued() {
    let sim = Simulator::start().await.unwrap();
    let flaky_runs = Arc::new(AtomicU32::new(0));
    let broken_runs = Arc::new(AtomicU32::new(0));
    let (flaky, broken) = (flaky_runs.clone(), broken_runs.clone());
    let mut settings = common::settings();
    settings.queue = settings
        .queue
        .max_attempts(3)
        .backoff(Duration::from_millis(50), Duration::from_millis(200));
    let bot = common::bot(&sim)
        .settings(settings)
        .on("push", move |_ctx: Context| {
            let runs = flaky.clone();
            async move {
                if runs.fetch_add(1, Ordering::SeqCst) < 2 {
                    return Err(std::io::Error::other("not yet"));
                }
                Ok(())
            }
        })
        .on("issues", move |_ctx: Context| {
            let runs = broken.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Err::<(), _>(std::io::Error::other("always broken"))
            }
        })
        .start()
        .await
        .unwrap();
    deliver(&bot, "push", "flaky-1", &push()).await;
    let mut issue = push();
    issue["action"] = json!("opened");
    deliver(&bot, "issues", "broken-1", &issue).await;

    assert!(wait_until(10, || flaky_runs.load(Ordering::SeqCst) >= 3).await);
    let queue = bot.queue().clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut failed = queue.failed().await.unwrap();
    while failed.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        failed = queue.failed().await.unwrap();
    }
    assert!(!failed.is_empty(), "the broken delivery ends failed");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        flaky_runs.load(Ordering::SeqCst),
        3,
        "failing twice then succeeding runs 3 times"
    );
    assert_eq!(broken_runs.load(Ordering::SeqCst), 3, "max attempts");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 3);
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("always broken"),
        "{:?}",
        failed[0]
    );
    // The failed unit is the handler's, not the whole delivery's.
    assert_eq!(failed[0].kind, "handler:issues#1");
    assert_eq!(failed[0].key.as_deref(), Some("handler:broken-1:issues#1"));

    assert!(queue.retry(&failed[0].id).await.unwrap());
    assert!(
        wait_until(10, || broken_runs.load(Ordering::SeqCst) >= 4).await,
        "runs again after retry"
    );
    bot.shutdown().await;
}

#[derive(Debug, Serialize, Deserialize)]
struct Lint {
    owner: String,
    repo: String,
}

impl atombot::jobs::Job for Lint {
    const NAME: &'static str = "lint";
}

#[tokio::test]
async fn a_delayed_user_job_gets_a_token_minted_when_it_runs() {
    let sim = Simulator::builder()
        .token_lifetime(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let dir = common::temp_dir("user-job");
    let queue_url = format!("sqlite://{}", dir.join("queue.db").display());
    let log = Log::default();
    let seen = log.clone();
    let bot = common::bot(&sim)
        .settings(common::settings_with_queue(&queue_url))
        .client(atombot::Client::builder().token_cache(
            atombot::auth::TokenCacheConfig::default().refresh_margin(Duration::from_millis(500)),
        ))
        .on("push", |ctx: Context| async move {
            let repo = ctx.repo().unwrap();
            // Use the token now, so a cached one exists that expires before the job runs.
            ctx.client().repos().get(&repo.owner, &repo.name).await?;
            ctx.jobs()
                .push_after(
                    Duration::from_secs(5),
                    Lint {
                        owner: repo.owner,
                        repo: repo.name,
                    },
                )
                .await?;
            Ok::<_, atombot::Error>(())
        })
        .job(move |ctx: JobContext, job: Lint| {
            let seen = seen.clone();
            async move {
                let repo = ctx.client().repos().get(&job.owner, &job.repo).await?;
                seen.push(format!(
                    "{} installation={:?}",
                    repo.full_name,
                    ctx.installation_id().map(|i| i.0)
                ));
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    let start = Instant::now();
    deliver(&bot, "push", "job-1", &push()).await;
    let entries = log.wait_for(15, |e| !e.is_empty()).await;
    assert!(
        start.elapsed() >= Duration::from_secs(5),
        "the job waited for its delay"
    );
    assert_eq!(entries, ["atomgit-demo/hello-world installation=Some(14)"]);
    let calls = sim.requests_to("/repos/atomgit-demo/hello-world");
    assert_eq!(calls.len(), 2);
    assert!(
        calls
            .iter()
            .all(|r| r.token_kind == Some(TokenKind::Installation) && r.status == Some(200))
    );
    assert_eq!(
        sim.mint_count(14),
        2,
        "the job's token was minted when it ran"
    );
    bot.shutdown().await;

    // Acceptance 7: nothing stored holds a token or a secret.
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        stored.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let text = String::from_utf8_lossy(&stored);
    // The delivery went to its handler unit at once (its installation is in the payload),
    // so no `atombot.delivery` job was stored; the unit's dedupe key and the job are there.
    assert!(
        text.contains("handler:") && text.contains("lint"),
        "the jobs are in the files"
    );
    for secret in ["ats_", "atu_", "eyJ", SECRET, "PRIVATE KEY"] {
        assert!(!text.contains(secret), "{secret:?} is stored in the queue");
    }
}
