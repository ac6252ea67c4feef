//! Runtime acceptance 3 and 5: a handler's `ctx.client()` reaches the API with a valid
//! `ats_` token of the delivery's installation; a payload without `installation` resolves
//! through the account path; 200 concurrent deliveries for one cold installation mint one
//! token; the response never waits for a slow handler.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use atombot::Context;
use atombot::testing::{Simulator, TokenKind};
use common::{Log, deliver};
use serde_json::json;

fn push(installation: Option<u64>) -> serde_json::Value {
    let mut body = json!({
        "ref": "refs/heads/main",
        "repository": {"full_name": "atomgit-demo/hello-world", "owner": {"login": "atomgit-demo"}},
    });
    if let Some(id) = installation {
        body["installation"] = json!({"id": id});
    }
    body
}

async fn list_repos(ctx: Context) -> atombot::Result<()> {
    let repo = ctx.repo().expect("the push names its repository");
    ctx.client().repos().list_org(&repo.owner).all().await?;
    Ok(())
}

#[tokio::test]
async fn the_handler_client_acts_as_the_delivery_installation() {
    let sim = Simulator::start().await.unwrap();
    let bot = common::bot(&sim)
        .on("push", list_repos)
        .start()
        .await
        .unwrap();
    let (status, _) = deliver(&bot, "push", "c-1", &push(Some(14))).await;
    assert_eq!(status, 202);
    let deadline = Instant::now() + Duration::from_secs(5);
    while sim.requests_to("/orgs/atomgit-demo/repos").is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let calls = sim.requests_to("/orgs/atomgit-demo/repos");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].token_kind, Some(TokenKind::Installation));
    assert_eq!(
        calls[0].status,
        Some(200),
        "the simulator accepted the ats_ token"
    );
    assert_eq!(sim.mint_count(14), 1);
    assert!(
        sim.requests_to("/app/installations")
            .iter()
            .all(|r| r.path.contains("access_tokens")),
        "installation.id in the payload needs no lookup"
    );

    let metrics = common::metrics(&bot).await;
    for expected in [
        r#"atombot_deliveries_total{event="push",outcome="accepted"} 1"#,
        "atombot_token_mints_total 1",
        r#"atombot_api_requests_total{method="GET",status="200"} 1"#,
        r#"atombot_api_requests_total{method="POST",status="201"} 1"#,
        "atombot_queue_depth 0",
        "atombot_handler_duration_seconds_count{handler=",
    ] {
        assert!(
            metrics.contains(expected),
            "missing {expected:?} in\n{metrics}"
        );
    }
    for probe in ["/healthz", "/readyz"] {
        assert!(
            reqwest::get(bot.url(probe))
                .await
                .unwrap()
                .status()
                .is_success(),
            "{probe}"
        );
    }
    bot.shutdown().await;
}

#[tokio::test]
async fn a_payload_without_installation_resolves_through_the_account_path() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let seen = log.clone();
    let bot = common::bot(&sim)
        .on("push", move |ctx: Context| {
            let seen = seen.clone();
            async move {
                seen.push(format!("{:?}", ctx.installation_id().map(|i| i.0)));
                list_repos(ctx).await
            }
        })
        .start()
        .await
        .unwrap();
    deliver(&bot, "push", "c-2", &push(None)).await;
    assert_eq!(log.wait_for(5, |e| !e.is_empty()).await, ["Some(14)"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while sim.requests_to("/orgs/atomgit-demo/repos").is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        sim.requests_to("/orgs/atomgit-demo/repos")[0].status,
        Some(200)
    );

    // An owner the app is not installed on still reaches the handler, without installation.
    let mut other = push(None);
    other["repository"] = json!({"full_name": "stranger/repo", "owner": {"login": "stranger"}});
    deliver(&bot, "push", "c-3", &other).await;
    let entries = log.wait_for(5, |e| e.len() >= 2).await;
    assert_eq!(entries[1], "None");
    bot.shutdown().await;
}

#[tokio::test]
async fn concurrent_deliveries_for_a_cold_installation_mint_one_token() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let done = log.clone();
    let bot = common::bot(&sim)
        // Pacing is tested elsewhere; here all calls go out at once.
        .client(
            atombot::Client::builder()
                .rate_limit(atombot::client::layers::RateLimitConfig::default().per_second(0)),
        )
        .on("push", move |ctx: Context| {
            let done = done.clone();
            async move {
                ctx.client()
                    .repos()
                    .get("atomgit-demo", "hello-world")
                    .await?;
                done.push(ctx.delivery_id().to_owned());
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    let sends = (0..200).map(|i| {
        let url = bot.url("/webhook");
        let body = serde_json::to_vec(&push(None)).unwrap();
        async move {
            let mut req = reqwest::Client::new().post(url).body(body.clone());
            for (k, v) in common::signed("push", &format!("m-{i}"), common::SECRET, &body) {
                req = req.header(k, v);
            }
            req.send().await.unwrap().status().as_u16()
        }
    });
    let statuses = futures::future::join_all(sends).await;
    assert!(statuses.iter().all(|s| *s == 202), "{statuses:?}");
    let entries = log.wait_for(20, |e| e.len() >= 200).await;
    assert_eq!(entries.len(), 200);
    assert_eq!(sim.mint_count(14), 1);
    assert_eq!(
        sim.requests_to("/app/installations")
            .iter()
            .filter(|r| !r.path.contains("access_tokens"))
            .count(),
        1,
        "one installation lookup for all 200 deliveries"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn the_response_does_not_wait_for_a_slow_handler() {
    let sim = Simulator::start().await.unwrap();
    let started = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let (start_flag, flag) = (started.clone(), finished.clone());
    let bot = common::bot(&sim)
        .on("push", move |_ctx: Context| {
            let (start_flag, flag) = (start_flag.clone(), flag.clone());
            async move {
                start_flag.store(true, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(5)).await;
                flag.store(true, Ordering::SeqCst);
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    let start = Instant::now();
    let (status, _) = deliver(&bot, "push", "slow-1", &push(Some(14))).await;
    let took = start.elapsed();
    assert_eq!(status, 202);
    assert!(
        !finished.load(Ordering::SeqCst),
        "the response waited for the handler"
    );
    assert!(took < Duration::from_secs(1), "acknowledged after {took:?}");
    // Shutdown while the handler runs lets it finish.
    while !started.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(bot.shutdown().await);
    assert!(finished.load(Ordering::SeqCst));
}
