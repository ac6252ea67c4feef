//! One durable unit per handler (issue 9, acceptance 1, 2 and 4 in-process; the SIGKILL case is
//! in `handler_units_crash.rs`): a handler that succeeded never runs again for its delivery,
//! names are stable and unique, and errors steer retries.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use atombot::client::layers::{DefaultRetryPolicy, RateLimitConfig};
use atombot::jobs::FailedJob;
use atombot::runtime::{RunningBot, RuntimeSettings};
use atombot::testing::{Fault, Route, Simulator};
use atombot::{Bot, Context};
use common::{Log, deliver};
use serde_json::json;

fn issue_opened() -> serde_json::Value {
    json!({
        "action": "opened",
        "issue": {"id": 501, "number": 1, "title": "It breaks", "state": "open"},
        "repository": {"full_name": "atomgit-demo/hello-world", "name": "hello-world",
                       "owner": {"login": "atomgit-demo"}},
        "sender": {"login": "alice"},
        "installation": {"id": 14}
    })
}

/// A SQLite file queue (the default backend) with short backoff and polling.
fn settings(attempts: u32) -> RuntimeSettings {
    let dir = common::temp_dir("units");
    let mut settings =
        common::settings_with_queue(&format!("sqlite://{}", dir.join("queue.db").display()));
    settings.queue = settings
        .queue
        .max_attempts(attempts)
        .backoff(Duration::from_millis(100), Duration::from_millis(300));
    settings
}

/// What one run of a handler saw.
#[derive(Debug, Clone)]
struct Run {
    handler: String,
    attempt: u32,
    key: String,
    at: Instant,
}

#[derive(Clone, Default)]
struct Runs(Arc<Mutex<Vec<Run>>>);

impl Runs {
    fn record(&self, ctx: &Context) -> usize {
        let mut runs = self.0.lock().unwrap();
        runs.push(Run {
            handler: ctx.handler_name().unwrap_or("?").to_owned(),
            attempt: ctx.attempt(),
            key: ctx.idempotency_key().to_owned(),
            at: Instant::now(),
        });
        runs.iter()
            .filter(|r| Some(r.handler.as_str()) == ctx.handler_name())
            .count()
    }

    fn of(&self, handler: &str) -> Vec<Run> {
        let runs = self.0.lock().unwrap();
        runs.iter()
            .filter(|r| r.handler == handler)
            .cloned()
            .collect()
    }

    async fn wait_for(&self, handler: &str, n: usize, secs: u64) -> Vec<Run> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while self.of(handler).len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.of(handler)
    }
}

async fn failed_units(bot: &RunningBot, n: usize, secs: u64) -> Vec<FailedJob> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let failed = bot.queue().failed().await.unwrap();
        if failed.len() >= n || Instant::now() > deadline {
            return failed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Acceptance 1: the failing handler runs 3 times, its sibling exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_retries_alone() {
    let sim = Simulator::start().await.unwrap();
    let runs = Runs::default();
    let (flaky, greet) = (runs.clone(), runs.clone());
    let bot = Bot::new(common::config(&sim))
        .settings(settings(5))
        .on_named("flaky", "issues.opened", move |ctx: Context| {
            let runs = flaky.clone();
            async move {
                if runs.record(&ctx) < 3 {
                    return Err(std::io::Error::other("not yet"));
                }
                Ok(())
            }
        })
        .on_named("greet", "issues.opened", move |ctx: Context| {
            let runs = greet.clone();
            async move {
                runs.record(&ctx);
                Ok::<_, std::io::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    let (status, _) = deliver(&bot, "issues", "units-1", &issue_opened()).await;
    assert_eq!(status, 202);
    let flaky = runs.wait_for("flaky", 3, 10).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let flaky_now = runs.of("flaky");
    assert_eq!(
        flaky_now.len(),
        3,
        "failing twice, then succeeding: {flaky:?}"
    );
    let greet = runs.of("greet");
    assert_eq!(
        greet.len(),
        1,
        "the sibling that succeeded ran once: {greet:?}"
    );
    assert_eq!(
        flaky_now.iter().map(|r| r.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    // One idempotency key per handler, the same across its retries.
    assert!(flaky_now.iter().all(|r| r.key == "units-1:flaky"));
    assert_eq!(greet[0].key, "units-1:greet");
    let stats = bot.queue().stats().await.unwrap();
    assert_eq!((stats.failed, stats.pending), (0, 0), "{stats:?}");
    bot.shutdown().await;
}

/// Acceptance 1, with a panic instead of an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_retries_alone() {
    let sim = Simulator::start().await.unwrap();
    let runs = Runs::default();
    let (flaky, greet) = (runs.clone(), runs.clone());
    let bot = Bot::new(common::config(&sim))
        .settings(settings(5))
        .on("issues.opened", move |ctx: Context| {
            let runs = flaky.clone();
            async move {
                if runs.record(&ctx) < 3 {
                    panic!("exploded on attempt {}", ctx.attempt());
                }
                Ok::<_, atombot::Error>(())
            }
        })
        .on("issues.opened", move |ctx: Context| {
            let runs = greet.clone();
            async move {
                runs.record(&ctx);
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    deliver(&bot, "issues", "units-2", &issue_opened()).await;
    runs.wait_for("issues.opened#1", 3, 10).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(runs.of("issues.opened#1").len(), 3);
    assert_eq!(runs.of("issues.opened#2").len(), 1);
    let metrics = common::metrics(&bot).await;
    assert!(
        metrics
            .contains(r#"atombot_handler_errors_total{handler="issues.opened#1",kind="panic"} 2"#),
        "{metrics}"
    );
    bot.shutdown().await;
}

/// Acceptance 4: two closures for one event in one function both run, under different names;
/// one name registered twice fails at start-up.
#[tokio::test]
async fn closures_get_distinct_names_and_duplicates_fail_at_start() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let (a, b) = (log.clone(), log.clone());
    let bot = common::bot(&sim)
        .on("issues.opened", move |ctx: Context| {
            let log = a.clone();
            async move {
                log.push(ctx.handler_name().unwrap());
                Ok::<_, atombot::Error>(())
            }
        })
        .on("issues.opened", move |ctx: Context| {
            let log = b.clone();
            async move {
                log.push(ctx.handler_name().unwrap());
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    deliver(&bot, "issues", "names-1", &issue_opened()).await;
    let mut names = log.wait_for(5, |e| e.len() >= 2).await;
    names.sort();
    assert_eq!(names, ["issues.opened#1", "issues.opened#2"]);
    bot.shutdown().await;

    let noop = |_ctx: Context| async { Ok::<_, atombot::Error>(()) };
    let error = common::bot(&sim)
        .on_named("greet", "issues.opened", noop)
        .on_named("greet", "issue_comment.created", noop)
        .start()
        .await
        .unwrap_err();
    assert!(matches!(error, atombot::Error::Definition(_)), "{error}");
    assert!(
        error.to_string().contains("\"greet\" is registered twice"),
        "{error}"
    );
}

/// A bot whose client makes at most `tries` attempts per call and waits at most 100 ms in
/// all (retries and rate-limit waits), so a fault that lasts longer reaches the handler.
fn bot_with_client_tries(sim: &Simulator, attempts: u32, tries: u32) -> Bot {
    Bot::new(common::config(sim))
        .settings(settings(attempts))
        .client(
            atombot::Client::builder()
                .retry_policy(
                    DefaultRetryPolicy::default()
                        .max_attempts(tries)
                        .base_delay(Duration::from_millis(10))
                        .max_delay(Duration::from_millis(20))
                        .max_elapsed(Duration::from_millis(100)),
                )
                .rate_limit(RateLimitConfig::default().max_wait(Duration::from_millis(100))),
        )
}

/// A handler that reads the repository and records its runs.
fn reader(
    runs: &Runs,
) -> impl Fn(Context) -> futures::future::BoxFuture<'static, atombot::Result<()>>
+ Clone
+ Send
+ Sync
+ 'static {
    let runs = runs.clone();
    move |ctx: Context| {
        let runs = runs.clone();
        Box::pin(async move {
            runs.record(&ctx);
            let repo = ctx.repo().unwrap();
            ctx.client().repos().get(&repo.owner, &repo.name).await?;
            Ok(())
        })
    }
}

const REPO: &str = "/repos/atomgit-demo/hello-world";

/// Acceptance 2: a 404 the client does not retry fails the unit at once, with the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_fails_at_once_with_the_platforms_message() {
    let sim = Simulator::start().await.unwrap();
    sim.fail_next(Route::get(REPO), 10, Fault::Status(404));
    let runs = Runs::default();
    let bot = bot_with_client_tries(&sim, 5, 2)
        .on_named("read", "issues.opened", reader(&runs))
        .start()
        .await
        .unwrap();
    deliver(&bot, "issues", "f-404", &issue_opened()).await;
    let failed = failed_units(&bot, 1, 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(runs.of("read").len(), 1, "not retried");
    assert_eq!(sim.requests_to(REPO).len(), 1);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].kind, "handler:read");
    assert_eq!(failed[0].attempts, 1);
    let error = failed[0].last_error.as_deref().unwrap();
    assert!(
        error.contains("404") && error.contains("Not Found"),
        "{error}"
    );
    bot.shutdown().await;
}

/// Acceptance 2: a 429 with `Retry-After: 2` runs the handler again after 2 s or more, and
/// the run keeps its attempt number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_runs_again_after_retry_after_without_using_an_attempt() {
    let sim = Simulator::start().await.unwrap();
    // The client would wait, but not 2 s (its budget is 100 ms): the handler sees it.
    let retry_after = Duration::from_secs(2);
    sim.fail_next(Route::get(REPO), 1, Fault::TooManyRequests { retry_after });
    let runs = Runs::default();
    let bot = bot_with_client_tries(&sim, 1, 2)
        .on_named("read", "issues.opened", reader(&runs))
        .start()
        .await
        .unwrap();
    deliver(&bot, "issues", "f-429", &issue_opened()).await;
    let seen = runs.wait_for("read", 2, 15).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(
        seen[1].at - seen[0].at >= retry_after,
        "ran again after {:?}",
        seen[1].at - seen[0].at
    );
    // One attempt allowed (max_attempts 1), and the second run is still attempt 1.
    assert_eq!(seen.iter().map(|r| r.attempt).collect::<Vec<_>>(), [1, 1]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls = sim.requests_to(REPO);
    assert_eq!(
        calls.iter().map(|r| r.status.unwrap()).collect::<Vec<_>>(),
        [429, 200],
        "the client gave up at once (Retry-After longer than its budget)"
    );
    let stats = bot.queue().stats().await.unwrap();
    assert_eq!((stats.failed, stats.pending), (0, 0), "{stats:?}");
    bot.shutdown().await;
}

/// Acceptance 2: a lasting 503 is retried with backoff up to the attempts setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_backs_off_up_to_the_attempts_setting() {
    let sim = Simulator::start().await.unwrap();
    sim.fail_next(Route::get(REPO), 100, Fault::Status(503));
    let runs = Runs::default();
    let bot = bot_with_client_tries(&sim, 3, 2)
        .on_named("read", "issues.opened", reader(&runs))
        .start()
        .await
        .unwrap();
    deliver(&bot, "issues", "f-503", &issue_opened()).await;
    let failed = failed_units(&bot, 1, 15).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = runs.of("read");
    assert_eq!(
        seen.iter().map(|r| r.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    for pair in seen.windows(2) {
        assert!(
            pair[1].at - pair[0].at >= Duration::from_millis(70),
            "backoff"
        );
    }
    assert_eq!(sim.requests_to(REPO).len(), 6, "two client tries per run");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 3);
    assert!(failed[0].last_error.as_deref().unwrap().contains("503"));
    bot.shutdown().await;
}

/// A handler asks explicitly: `Abort` fails now, `Retry::after` runs again after the delay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_steer_with_abort_and_retry() {
    let sim = Simulator::start().await.unwrap();
    let runs = Runs::default();
    let (a, r) = (runs.clone(), runs.clone());
    let bot = Bot::new(common::config(&sim))
        .settings(settings(5))
        .on_named("abort", "issues.opened", move |ctx: Context| {
            let runs = a.clone();
            async move {
                runs.record(&ctx);
                Err::<(), atombot::Error>(atombot::Abort::new("nothing to do here").into())
            }
        })
        .on_named("later", "issues.opened", move |ctx: Context| {
            let runs = r.clone();
            async move {
                if runs.record(&ctx) < 2 {
                    Err(atombot::Retry::after(Duration::from_secs(1)).because("CI not done"))?;
                }
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    deliver(&bot, "issues", "steer-1", &issue_opened()).await;
    let later = runs.wait_for("later", 2, 10).await;
    assert_eq!(later.len(), 2);
    assert!(later[1].at - later[0].at >= Duration::from_millis(900));
    assert_eq!(later[1].attempt, 2, "Retry::after uses an attempt");
    let failed = failed_units(&bot, 1, 5).await;
    assert_eq!(runs.of("abort").len(), 1);
    assert_eq!(failed[0].kind, "handler:abort");
    assert_eq!(failed[0].last_error.as_deref(), Some("nothing to do here"));
    bot.shutdown().await;
}

/// Issue 12: when the installations cannot be listed (a 5xx), a delivery without
/// `installation.id` is retried, never run with an app client as if it had no installation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_installation_lookup_retries_the_delivery() {
    let sim = Simulator::start().await.unwrap();
    sim.fail_next(Route::get("/app/installations"), 2, Fault::Status(502));
    let log = Log::default();
    let seen = log.clone();
    let bot = bot_with_client_tries(&sim, 5, 1)
        .on("issues.opened", move |ctx: Context| {
            let log = seen.clone();
            async move {
                log.push(format!("{:?}", ctx.installation_id().map(|i| i.0)));
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    let mut body = issue_opened();
    body.as_object_mut().unwrap().remove("installation");
    deliver(&bot, "issues", "lookup-1", &body).await;
    let entries = log.wait_for(10, |e| !e.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(entries, ["Some(14)"], "ran once, with the installation");
    assert_eq!(sim.requests_to("/app/installations").len(), 3);
    bot.shutdown().await;
}

/// A handler that keeps ticking until it is stopped; returns the tick counter.
fn ticking(
    ticks: &Arc<std::sync::atomic::AtomicU32>,
) -> impl Fn(Context) -> futures::future::BoxFuture<'static, atombot::Result<()>> + Send + Sync + 'static
{
    let ticks = ticks.clone();
    move |_ctx: Context| {
        let ticks = ticks.clone();
        Box::pin(async move {
            loop {
                ticks.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    }
}

/// Issue 12: every run has an overall timeout, after which the handler is cancelled (it
/// stops) and the attempt counts as failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_never_ends_is_cancelled_at_the_job_timeout() {
    let sim = Simulator::start().await.unwrap();
    let ticks = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut settings = settings(2);
    settings.queue = settings.queue.job_timeout(Duration::from_secs(1));
    let bot = Bot::new(common::config(&sim))
        .settings(settings)
        .on_named("forever", "issues.opened", ticking(&ticks))
        .start()
        .await
        .unwrap();
    deliver(&bot, "issues", "forever-1", &issue_opened()).await;
    let failed = failed_units(&bot, 1, 15).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 2);
    let error = failed[0].last_error.as_deref().unwrap();
    assert!(error.contains("job timeout"), "{error}");
    let at_failure = ticks.load(std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        ticks.load(std::sync::atomic::Ordering::SeqCst),
        at_failure,
        "the cancelled handler stopped"
    );
    bot.shutdown().await;
}

/// Issue 12: a handler cancelled by shutdown really stops; nothing keeps running detached
/// after its unit was handed back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_cancelled_by_shutdown_stops() {
    let sim = Simulator::start().await.unwrap();
    let ticks = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut settings = settings(5);
    settings.shutdown_timeout = Duration::from_millis(500);
    let bot = Bot::new(common::config(&sim))
        .settings(settings)
        .on("issues.opened", ticking(&ticks))
        .start()
        .await
        .unwrap();
    deliver(&bot, "issues", "cancel-1", &issue_opened()).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while ticks.load(std::sync::atomic::Ordering::SeqCst) < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let queue = bot.queue().clone();
    bot.shutdown().await;
    let after = ticks.load(std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        ticks.load(std::sync::atomic::Ordering::SeqCst),
        after,
        "still running"
    );
    let stats = queue.stats().await.unwrap();
    assert_eq!(
        (stats.pending, stats.running),
        (1, 0),
        "handed back: {stats:?}"
    );
}
