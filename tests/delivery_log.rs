//! Issue 15, acceptance 2 (library half; `cli/tests/deliveries.rs` drives the commands): a
//! bot that received deliveries in both header dialects keeps them in its delivery log, in the
//! queue's store (SQLite; Redis and Postgres when `ATOMBOT_TEST_REDIS_URL` /
//! `ATOMBOT_TEST_POSTGRES_URL` and the features are there): listed with filters, shown with
//! body and handler outcomes, exported, replayed under a new delivery id (new idempotency
//! keys), and pruned by size.

mod common;

use std::time::{Duration, Instant};

use atombot::deliveries::{DeliveryLog, Export, Filter, LogSettings, Status};
use atombot::testing::{DeliveryOptions, Simulator, events};
use atombot::{Abort, Bot, Context};
use common::Log;

async fn eventually(secs: u64, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check().await
}

/// Whether `log` holds delivery `id` with `n` handler outcomes within 20 s.
async fn outcomes_in(log: &DeliveryLog, id: &str, n: usize) -> bool {
    eventually(20, async || {
        log.get(id)
            .await
            .unwrap()
            .is_some_and(|r| r.outcomes.len() == n)
    })
    .await
}

async fn round_trip(queue_url: &str) {
    let sim = Simulator::start().await.unwrap();
    let ran = Log::default();
    let keys = ran.clone();
    let mut settings = common::settings_with_queue(queue_url);
    settings.queue = settings
        .queue
        .queue_name(format!("dlog{}", fastrand::u32(..)));
    settings.delivery_log.enabled = true;
    let queue = settings.queue.clone();
    let bot = Bot::new(sim.app_config())
        .settings(settings)
        .on_named("count", "push", move |ctx: Context| {
            let keys = keys.clone();
            async move {
                keys.push(ctx.idempotency_key());
                Ok::<_, atombot::Error>(())
            }
        })
        .on_named("broken", "push", |_: Context| async {
            Err::<(), _>(Abort::new("broken on purpose"))
        })
        .start()
        .await
        .unwrap();
    sim.set_webhook_url(bot.url("/webhook"));

    let tag = fastrand::u32(..);
    let (a, b) = (format!("dlog-a-{tag}"), format!("dlog-b-{tag}"));
    let hub = events::push("atomgit-demo/hello-world").installation(14);
    let hub_bytes = atombot::testing::WebhookBody::from(&hub).into_bytes();
    let answer = sim
        .deliver_with("push", hub.clone(), &DeliveryOptions::new().delivery_id(&a))
        .await
        .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    let gitcode = DeliveryOptions::gitcode().delivery_id(&b);
    let answer = sim
        .deliver_with("Push Hook", events::gitlab_push(), &gitcode)
        .await
        .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);

    // The bot's own log; one opened on the same store (as `atombot deliveries` does) is the
    // same, except in memory, where a log belongs to its bot.
    let log = bot.delivery_log().unwrap().clone();
    // Both listed once both handlers' outcomes are in.
    let settled = eventually(20, async || {
        let listed = log.list(&Filter::default()).await.unwrap();
        listed.len() == 2 && listed.iter().all(|s| s.outcomes.len() == 2)
    })
    .await;
    let listed = log.list(&Filter::default()).await.unwrap();
    assert!(settled, "{listed:#?}");
    assert_eq!(listed[0].id, b, "newest first");
    for summary in &listed {
        let by = |h: &str| summary.outcomes.iter().find(|o| o.handler == h).unwrap();
        assert_eq!(by("count").status, Status::Succeeded);
        assert_eq!(by("broken").status, Status::Failed);
        assert_eq!(by("broken").error.as_deref(), Some("broken on purpose"));
        assert!(summary.has_failure());
    }
    assert_eq!(
        log.list(&Filter::default().event("push"))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        log.list(&Filter::default().event("issues"))
            .await
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        log.list(&Filter::default().failed()).await.unwrap().len(),
        2
    );
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    assert!(
        log.list(&Filter::default().since(future))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        log.list(&Filter::default().limit(1)).await.unwrap().len(),
        1
    );

    // Shown with the body byte for byte and the headers that matter, never the signature.
    let shown = log.get(&a).await.unwrap().unwrap();
    assert_eq!(&shown.body[..], &hub_bytes[..]);
    assert_eq!(
        shown.repository.as_deref(),
        Some("atomgit-demo/hello-world")
    );
    assert_eq!(shown.installation, Some(14));
    let names: Vec<&str> = shown.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"x-atomgit-event"), "{names:?}");
    assert!(
        !names
            .iter()
            .any(|n| n.contains("signature") || n.contains("token")),
        "{names:?}"
    );
    assert!(log.get("no-such-delivery").await.unwrap().is_none());

    // Exported with its GitCode headers; the export reads back to the same body.
    let gitcode_record = log.get(&b).await.unwrap().unwrap();
    let export = Export::of(&gitcode_record);
    assert!(export.is_gitcode());
    assert_eq!(export.event, "Push Hook");
    let text = serde_json::to_vec(&export).unwrap();
    let back = Export::parse(&text).unwrap().unwrap();
    assert_eq!(back.body_bytes().unwrap(), gitcode_record.body);
    assert!(
        Export::parse(&hub_bytes[..]).unwrap().is_none(),
        "a payload is no export"
    );

    // Replayed: every handler runs again under a new delivery id, so new idempotency keys.
    // The bot's queue (what `atombot deliveries replay` connects to is the same store; an
    // in-memory queue is only reachable from its own process).
    let jobs = bot.queue().clone();
    let replay = log.replay(&jobs, &a).await.unwrap();
    assert_ne!(replay, a);
    let mut counted = ran.wait_for(20, |runs| runs.len() >= 3).await;
    counted.sort();
    let mut expected = vec![
        format!("{a}:count"),
        format!("{b}:count"),
        format!("{replay}:count"),
    ];
    expected.sort();
    assert_eq!(counted, expected, "the replay ran with its own key");
    let replayed = outcomes_in(&log, &replay, 2).await;
    let record = log.get(&replay).await.unwrap().unwrap();
    assert!(replayed, "{record:?}");
    assert_eq!(record.replay_of.as_deref(), Some(a.as_str()));
    assert_eq!(record.body, shown.body);
    assert!(log.replay(&jobs, "no-such-delivery").await.is_err());

    if queue.url() != "memory" {
        // Another handle on the store sees what the bot's log holds.
        let other = DeliveryLog::connect(&queue, LogSettings::default())
            .await
            .unwrap();
        assert_eq!(other.list(&Filter::default()).await.unwrap().len(), 3);
        assert_eq!(other.get(&a).await.unwrap().unwrap().body, shown.body);
    }
    bot.shutdown().await;

    // Retention. By age: nothing is older than the default 7 days.
    assert_eq!(log.prune().await.unwrap(), 0);
    // By size: the newest one stays.
    let mut one = log.settings().clone();
    one.max_records = 1;
    assert_eq!(log.with_settings(one).prune().await.unwrap(), 2);
    let left = log.list(&Filter::default()).await.unwrap();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].id, replay);
    // By age again, with a retention shorter than its age.
    let mut short = log.settings().clone();
    short.retention = Duration::from_millis(1);
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(log.with_settings(short).prune().await.unwrap(), 1);
    assert!(log.list(&Filter::default()).await.unwrap().is_empty());
    assert!(
        log.get(&replay).await.unwrap().is_none(),
        "its body and outcomes went too"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_delivery_log_on_sqlite() {
    let dir = common::temp_dir("delivery-log");
    round_trip(&format!("sqlite://{}", dir.join("queue.db").display())).await;
}

/// On a SQLite queue file the body is stored once: the queue keeps it where its jobs
/// stored it, past their end, and the log's own row holds none.
#[tokio::test(flavor = "multi_thread")]
async fn on_sqlite_a_logged_body_is_stored_once_in_the_queues_file() {
    use atombot_jobs::sqlite_file::rusqlite::Connection;
    let dir = common::temp_dir("delivery-log-once");
    let file = dir.join("queue.db");
    let sim = Simulator::start().await.unwrap();
    let mut settings = common::settings_with_queue(&format!("sqlite://{}", file.display()));
    settings.delivery_log.enabled = true;
    let bot = Bot::new(sim.app_config())
        .settings(settings)
        .on("push", |_: Context| async { Ok::<_, atombot::Error>(()) })
        .on_named("second", "push", |_: Context| async {
            Ok::<_, atombot::Error>(())
        })
        .start()
        .await
        .unwrap();
    sim.set_webhook_url(bot.url("/webhook"));
    let hub = events::push("atomgit-demo/hello-world").installation(14);
    let bytes = atombot::testing::WebhookBody::from(&hub).into_bytes();
    let id = format!("once-{}", fastrand::u32(..));
    let answer = sim
        .deliver_with("push", hub, &DeliveryOptions::new().delivery_id(&id))
        .await
        .unwrap();
    assert_eq!(answer.status, 202, "{}", answer.body);
    let log = bot.delivery_log().unwrap().clone();
    let done = outcomes_in(&log, &id, 2).await;
    assert!(done, "{:?}", log.get(&id).await);
    bot.shutdown().await;

    let count = |file: &std::path::Path, sql: &str| -> i64 {
        Connection::open(file)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    };
    // Both handlers' jobs are done and gone; the body stays, once.
    assert_eq!(count(&file, "SELECT COUNT(*) FROM atombot_jobs"), 0);
    assert_eq!(count(&file, "SELECT COUNT(*) FROM atombot_kept_bodies"), 1);
    let log_file = dir.join("queue-deliveries.db");
    assert_eq!(
        count(
            &log_file,
            "SELECT SUM(length(body)) FROM atombot_delivery_log"
        ),
        0
    );
    // Read back byte for byte, by this log and by another handle on the store.
    assert_eq!(log.get(&id).await.unwrap().unwrap().body, bytes);
    let queue = atombot::jobs::QueueConfig::new(format!("sqlite://{}", file.display()));
    let other = DeliveryLog::connect(&queue, LogSettings::default())
        .await
        .unwrap();
    assert_eq!(other.get(&id).await.unwrap().unwrap().body, bytes);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_delivery_log_in_memory() {
    round_trip("memory").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_delivery_log_on_redis() {
    if let Some(url) =
        common::server_url("ATOMBOT_TEST_REDIS_URL", cfg!(feature = "redis"), "redis")
    {
        round_trip(&url).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_delivery_log_on_postgres() {
    if let Some(url) = common::server_url(
        "ATOMBOT_TEST_POSTGRES_URL",
        cfg!(feature = "postgres"),
        "postgres",
    ) {
        round_trip(&url).await;
    }
}

#[tokio::test]
async fn a_bot_with_the_log_off_keeps_nothing() {
    assert!(
        !atombot::runtime::RuntimeSettings::default()
            .delivery_log
            .enabled,
        "off by default"
    );
    let sim = Simulator::start().await.unwrap();
    let dir = common::temp_dir("delivery-log-off");
    let mut settings =
        common::settings_with_queue(&format!("sqlite://{}", dir.join("queue.db").display()));
    settings.delivery_log.enabled = false;
    let queue = settings.queue.clone();
    let ran = Log::default();
    let seen = ran.clone();
    let bot = Bot::new(sim.app_config())
        .settings(settings)
        .on("push", move |ctx: Context| {
            let seen = seen.clone();
            async move {
                seen.push(ctx.delivery_id());
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    sim.set_webhook_url(bot.url("/webhook"));
    sim.deliver(
        "push",
        events::push("atomgit-demo/hello-world").installation(14),
    )
    .await
    .unwrap();
    assert_eq!(ran.wait_for(20, |runs| !runs.is_empty()).await.len(), 1);
    assert!(bot.delivery_log().is_none());
    let log = DeliveryLog::connect(&queue, LogSettings::default())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(log.list(&Filter::default()).await.unwrap().is_empty());
    bot.shutdown().await;
}
