//! Hardening of the webhook receiver against hostile clients, over real HTTP on loopback:
//! no credentials → refused before the body is read; a stalled body → 408 within the body
//! timeout; requests above the in-flight cap → 503; attacker-chosen event names do not grow
//! the metrics; the optional replay guard drops a signed body re-sent under a new id.

mod common;
mod slow_client;

use std::time::Duration;

use atombot::testing::Simulator;
use atombot::{Bot, Context};
use common::{Log, SECRET, deliver, signed};
use serde_json::json;
use slow_client::{Raw, head, settings};

fn push_body() -> serde_json::Value {
    json!({"ref": "refs/heads/main",
        "repository": {"full_name": "atomgit-demo/hello-world", "owner": {"login": "atomgit-demo"}},
        "installation": {"id": 14}})
}

fn recorder(
    log: &Log,
) -> impl Fn(Context) -> std::future::Ready<atombot::Result<()>> + Clone + use<> {
    let log = log.clone();
    move |ctx: Context| {
        log.push(ctx.delivery_id().to_owned());
        std::future::ready(Ok(()))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_without_credentials_is_refused_before_its_body_is_read() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let bot = Bot::new(common::config(&sim))
        .settings(settings(&[]))
        .on("push", recorder(&log))
        .start()
        .await
        .unwrap();
    let mut raw = Raw::connect(bot.addr()).await;
    // 10 MB announced, none sent: the answer must not wait for the body.
    let headers = [("x-atomgit-event", "push".to_owned())];
    raw.send(&head("/webhook", &headers, 10_000_000)).await;
    assert_eq!(raw.read_status(5).await, Some(400), "answered within 5 s");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_body_is_answered_408_after_the_body_timeout() {
    let sim = Simulator::start().await.unwrap();
    let bot = Bot::new(common::config(&sim))
        .settings(settings(&[("ATOMBOT_BODY_TIMEOUT", "1")]))
        .on("push", |_ctx: Context| async {
            Ok::<_, atombot::Error>(())
        })
        .start()
        .await
        .unwrap();
    let mut raw = Raw::connect(bot.addr()).await;
    let headers = signed("push", "stalled", SECRET, b"{}");
    raw.send(&head("/webhook", &headers, 1000)).await;
    raw.send(b"{\"ref\":").await;
    // Body timeout 1 s; 10 s is a generous bound.
    assert_eq!(raw.read_status(10).await, Some(408));
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_above_the_in_flight_cap_get_503() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let bot = Bot::new(common::config(&sim))
        .settings(settings(&[
            ("ATOMBOT_MAX_IN_FLIGHT", "1"),
            ("ATOMBOT_BODY_TIMEOUT", "60"),
        ]))
        .on("push", recorder(&log))
        .start()
        .await
        .unwrap();
    // One request whose body never arrives holds the only slot.
    let mut raw = Raw::connect(bot.addr()).await;
    let headers = signed("push", "holder", SECRET, b"{}");
    raw.send(&head("/webhook", &headers, 1000)).await;
    raw.send(b"{").await;

    let mut statuses = Vec::new();
    for i in 0..50 {
        let (status, _) = deliver(&bot, "push", &format!("over-{i}"), &push_body()).await;
        statuses.push(status);
        if status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(statuses.last(), Some(&503), "{statuses:?}");
    let ready = reqwest::get(bot.url("/readyz")).await.unwrap();
    assert_eq!(
        ready.status().as_u16(),
        503,
        "the cap is shared by every route"
    );
    let health = reqwest::get(bot.url("/healthz")).await.unwrap();
    assert_eq!(
        health.status().as_u16(),
        200,
        "liveness is exempt from the cap"
    );

    // The slot comes back when the holder goes away.
    drop(raw);
    let mut accepted = false;
    for i in 0..50 {
        let (status, _) = deliver(&bot, "push", &format!("after-{i}"), &push_body()).await;
        if status == 202 {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(accepted, "a delivery is accepted once the slot is free");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn attacker_chosen_event_names_do_not_grow_the_metrics() {
    let sim = Simulator::start().await.unwrap();
    let bot = Bot::new(common::config(&sim))
        .settings(settings(&[]))
        .on("push", |_ctx: Context| async {
            Ok::<_, atombot::Error>(())
        })
        .start()
        .await
        .unwrap();
    for i in 0..40 {
        let (status, body) = deliver(
            &bot,
            &format!("made-up-{i}"),
            &format!("m-{i}"),
            &push_body(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let metrics = common::metrics(&bot).await;
    let series: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("atombot_deliveries_total{"))
        .collect();
    assert!(!metrics.contains("made-up-"), "{series:#?}");
    assert!(series.len() <= 2, "{series:#?}");
    assert!(
        series
            .iter()
            .any(|l| l.contains("event=\"other\"") && l.ends_with(" 40")),
        "{series:#?}"
    );
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_replay_guard_drops_a_signed_body_resent_under_a_new_id() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let bot = Bot::new(common::config(&sim))
        .settings(settings(&[("ATOMBOT_REPLAY_GUARD", "true")]))
        .on("push", recorder(&log))
        .start()
        .await
        .unwrap();
    let (first, _) = deliver(&bot, "push", "original", &push_body()).await;
    assert_eq!(first, 202);
    let (replayed, body) = deliver(&bot, "push", "replayed-under-new-id", &push_body()).await;
    assert_eq!(replayed, 202);
    assert!(body.contains("duplicate"), "{body}");
    let entries = log.wait_for(5, |e| !e.is_empty()).await;
    assert_eq!(entries, ["original"]);
    // A different body is a different delivery.
    let mut other = push_body();
    other["after"] = json!("abc");
    let (status, body) = deliver(&bot, "push", "another", &other).await;
    assert!(body.contains("queued"), "{status} {body}");
    let entries = log.wait_for(5, |e| e.len() >= 2).await;
    assert_eq!(entries, ["original", "another"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(log.entries().len(), 2, "the replay never ran");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_replay_guard_a_body_resent_under_a_new_id_runs_again() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let bot = Bot::new(common::config(&sim))
        .settings(settings(&[]))
        .on("push", recorder(&log))
        .start()
        .await
        .unwrap();
    assert_eq!(deliver(&bot, "push", "one", &push_body()).await.0, 202);
    assert_eq!(deliver(&bot, "push", "two", &push_body()).await.0, 202);
    let mut entries = log.wait_for(5, |e| e.len() >= 2).await;
    entries.sort();
    assert_eq!(entries, ["one", "two"]);
    bot.shutdown().await;
}
