//! Server limits against slow clients, with a slow-loris client written here (raw TCP on
//! 127.0.0.1): unfinished headers are cut off, idle keep-alive connections are closed, the
//! connection cap holds, and shutdown ends even with a body stuck in flight.

mod common;
mod slow_client;

use std::time::Duration;

use atombot::testing::Simulator;
use atombot::{Bot, Context};
use common::{SECRET, signed};
use slow_client::{Raw, head, settings};

async fn bot(sim: &Simulator, extra: &[(&str, &str)]) -> atombot::runtime::RunningBot {
    Bot::new(common::config(sim))
        .settings(settings(extra))
        .on("push", |_ctx: Context| async {
            Ok::<_, atombot::Error>(())
        })
        .start()
        .await
        .unwrap()
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_that_never_finishes_its_headers_is_closed() {
    let sim = Simulator::start().await.unwrap();
    let bot = bot(&sim, &[("ATOMBOT_HEADER_TIMEOUT", "1")]).await;
    let mut raw = Raw::connect(bot.addr()).await;
    raw.send(b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-AtomGit-Event: pu")
        .await;
    // Header timeout 1 s; 15 s is a generous bound.
    let (_, closed) = raw.read_until_closed(15).await;
    assert!(closed, "the server still holds the connection after 15 s");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_keep_alive_connection_is_closed() {
    let sim = Simulator::start().await.unwrap();
    let bot = bot(
        &sim,
        &[
            ("ATOMBOT_IDLE_TIMEOUT", "1"),
            ("ATOMBOT_HEADER_TIMEOUT", "60"),
        ],
    )
    .await;
    let mut raw = Raw::connect(bot.addr()).await;
    raw.send(HEALTHZ).await;
    assert_eq!(raw.read_status(5).await, Some(200));
    let (_, closed) = raw.read_until_closed(15).await;
    assert!(closed, "the idle connection is still open after 15 s");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_above_the_cap_wait_for_a_free_slot() {
    let sim = Simulator::start().await.unwrap();
    let bot = bot(
        &sim,
        &[
            ("ATOMBOT_MAX_CONNECTIONS", "1"),
            ("ATOMBOT_HEADER_TIMEOUT", "60"),
        ],
    )
    .await;
    let holder = Raw::connect(bot.addr()).await;
    // Let the server accept the holder first.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut second = Raw::connect(bot.addr()).await;
    second.send(HEALTHZ).await;
    assert_eq!(
        second.read_status(3).await,
        None,
        "a second connection was served while the only slot was taken"
    );
    drop(holder);
    assert_eq!(second.read_status(10).await, Some(200));
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_ends_even_with_a_request_body_stuck_in_flight() {
    let sim = Simulator::start().await.unwrap();
    let bot = bot(
        &sim,
        &[
            ("ATOMBOT_SHUTDOWN_TIMEOUT", "1"),
            ("ATOMBOT_BODY_TIMEOUT", "600"),
            ("ATOMBOT_HEADER_TIMEOUT", "600"),
            ("ATOMBOT_IDLE_TIMEOUT", "600"),
        ],
    )
    .await;
    let mut raw = Raw::connect(bot.addr()).await;
    let headers = signed("push", "slow-body", SECRET, b"{}");
    raw.send(&head("/webhook", &headers, 1000)).await;
    raw.send(b"{\"ref\":").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Shutdown timeout 1 s; 20 s is a generous bound.
    let finished = tokio::time::timeout(Duration::from_secs(20), bot.shutdown()).await;
    assert!(
        finished.is_ok(),
        "shutdown still waiting for the slow client after 20 s"
    );
    let (_, closed) = raw.read_until_closed(5).await;
    assert!(closed, "the slow client's connection was closed");
}
