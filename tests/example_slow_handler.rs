//! The slow-handler example's bot on `TestBot`: the delivery is acknowledged at once and
//! `receive` returns only when the slow handler has finished.

#[path = "../examples/slow-handler.rs"]
#[allow(dead_code)]
mod slow_handler;

use atombot::testing::{Outcome, TestBot, events};

#[tokio::test]
async fn the_slow_handler_finishes_once() {
    let bot = TestBot::start(slow_handler::bot(atombot::Bot::new(TestBot::config())))
        .await
        .unwrap();
    let received = bot
        .receive(events::push("atomgit-demo/hello-world"))
        .await
        .unwrap();
    assert_eq!(received.status, 202, "acknowledged before the handler ran");
    let run = received.handler("push#1").unwrap();
    assert_eq!((run.attempts, &run.outcome), (1, &Outcome::Succeeded));
    bot.shutdown().await;
}
