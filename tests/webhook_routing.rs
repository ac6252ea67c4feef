//! Runtime acceptance 1 and 4: signed deliveries reach the right handlers; every rejection
//! has its status; a second (rotated) secret is accepted; a panicking handler harms
//! nothing and is counted.

mod common;

use atombot::Context;
use atombot::testing::Simulator;
use common::{Log, SECRET, deliver, post, signed};
use serde_json::json;

fn issue_opened() -> serde_json::Value {
    json!({
        "action": "opened",
        "issue": {"number": 1, "title": "Bug"},
        "repository": {"full_name": "atomgit-demo/hello-world", "owner": {"login": "atomgit-demo"}},
        "installation": {"id": 14}
    })
}

fn recorder(
    log: &Log,
    name: &'static str,
) -> impl Fn(Context) -> std::future::Ready<atombot::Result<()>> + Clone + use<> {
    let log = log.clone();
    move |ctx: Context| {
        log.push(format!(
            "{name}:{}:{}",
            ctx.event(),
            ctx.action().unwrap_or("-")
        ));
        std::future::ready(Ok(()))
    }
}

#[tokio::test]
async fn deliveries_reach_handlers_by_event_action_and_wildcard() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let bot = common::bot(&sim)
        .on("issues", recorder(&log, "issues"))
        .on("issues.opened", recorder(&log, "opened"))
        .on("issues.closed", recorder(&log, "closed"))
        .on("push", recorder(&log, "push"))
        .on_any(recorder(&log, "any"))
        .start()
        .await
        .unwrap();

    let (status, body) = deliver(&bot, "issues", "d-1", &issue_opened()).await;
    assert_eq!(status, 202, "{body}");
    assert!(body.contains("d-1"), "{body}");
    let entries = log.wait_for(5, |e| e.len() >= 3).await;
    let mut sorted = entries.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "any:issues:opened",
            "issues:issues:opened",
            "opened:issues:opened"
        ]
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn every_rejection_has_its_status_and_runs_no_handler() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let mut settings = common::settings();
    settings.max_body_bytes = 1024;
    let bot = common::bot(&sim)
        .settings(settings)
        .on_any(recorder(&log, "any"))
        .start()
        .await
        .unwrap();
    let body = serde_json::to_vec(&issue_opened()).unwrap();

    // Missing signature → 400.
    let headers = vec![
        ("x-atomgit-event", "issues".to_owned()),
        ("x-atomgit-delivery", "r1".to_owned()),
    ];
    let (status, text) = post(&bot, &headers, &body).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("signature"), "{text}");
    // Bad signature → 401.
    let (status, text) = post(&bot, &signed("issues", "r2", "wrong-secret", &body), &body).await;
    assert_eq!(status, 401, "{text}");
    assert!(!text.contains(SECRET));
    // Too large → 413.
    let big = vec![b' '; 4096];
    let (status, _) = post(&bot, &signed("issues", "r3", SECRET, &big), &big).await;
    assert_eq!(status, 413);
    // Not JSON → 400.
    let junk = b"{not json";
    let (status, text) = post(&bot, &signed("issues", "r4", SECRET, junk), junk).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("JSON"), "{text}");
    // No event header and no object_kind → 400.
    let headers: Vec<_> = signed("issues", "r5", SECRET, &body)
        .into_iter()
        .filter(|(k, _)| *k != "x-atomgit-event")
        .collect();
    let (status, text) = post(&bot, &headers, &body).await;
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("event"), "{text}");

    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        log.entries().is_empty(),
        "a rejected delivery ran a handler"
    );
    let metrics = common::metrics(&bot).await;
    for reason in [
        "missing_signature",
        "bad_signature",
        "too_large",
        "invalid_json",
        "missing_event",
    ] {
        assert!(
            metrics.contains(&format!("outcome=\"rejected_{reason}\"")),
            "{reason} not counted:\n{metrics}"
        );
    }
    bot.shutdown().await;
}

#[tokio::test]
async fn an_event_no_handler_wants_is_acknowledged_and_counted() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let bot = common::bot(&sim)
        .on("push", recorder(&log, "push"))
        .start()
        .await
        .unwrap();
    let (status, body) = deliver(&bot, "issues", "i-1", &issue_opened()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("ignored"));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(log.entries().is_empty());
    let metrics = common::metrics(&bot).await;
    assert!(
        metrics.contains(r#"atombot_deliveries_total{event="issues",outcome="ignored"} 1"#),
        "{metrics}"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn the_second_of_two_secrets_is_accepted() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let mut webhook = atombot::webhook::WebhookSettings::default()
        .with_secret("new-secret")
        .with_secret("old-secret");
    webhook.max_body_bytes = 1 << 20;
    let bot = common::bot(&sim)
        .webhook_settings(webhook)
        .on_any(recorder(&log, "any"))
        .start()
        .await
        .unwrap();
    let body = serde_json::to_vec(&issue_opened()).unwrap();
    let (status, _) = post(&bot, &signed("issues", "s-1", "old-secret", &body), &body).await;
    assert_eq!(status, 202);
    let (status, _) = post(&bot, &signed("issues", "s-2", SECRET, &body), &body).await;
    assert_eq!(status, 401, "a secret that is not configured");
    assert_eq!(log.wait_for(5, |e| !e.is_empty()).await.len(), 1);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_panicking_handler_harms_neither_its_siblings_nor_the_server() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    async fn explode(_: Context) -> atombot::Result<()> {
        panic!("boom");
    }
    async fn fail(_: Context) -> Result<(), std::io::Error> {
        Err(std::io::Error::other("handler error"))
    }
    let bot = common::bot(&sim)
        .on("issues.opened", explode)
        .on("issues.opened", fail)
        .on("issues.opened", recorder(&log, "sibling"))
        .start()
        .await
        .unwrap();
    for id in ["p-1", "p-2"] {
        let (status, _) = deliver(&bot, "issues", id, &issue_opened()).await;
        assert_eq!(status, 202, "the server still answers");
    }
    assert_eq!(log.wait_for(5, |e| e.len() >= 2).await.len(), 2);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let metrics = common::metrics(&bot).await;
    let line = |kind: &str| {
        metrics
            .lines()
            .find(|l| {
                l.starts_with("atombot_handler_errors_total")
                    && l.contains(&format!("kind=\"{kind}\""))
            })
            .map(str::to_owned)
    };
    let panics = line("panic").expect("panics are counted");
    assert!(
        panics.contains("issues.opened#1") && panics.ends_with(" 2"),
        "{panics}"
    );
    assert!(
        line("error").is_some_and(|l| l.contains("issues.opened#2") && l.ends_with(" 2")),
        "{metrics}"
    );
    assert!(
        reqwest::get(bot.url("/healthz"))
            .await
            .unwrap()
            .status()
            .is_success()
    );
    bot.shutdown().await;
}
