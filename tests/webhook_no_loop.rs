//! Issue 10 acceptance 3b: `ctx.is_bot()` recognises the app's own comments, so a handler
//! on `issue_comment.created` that comments back does not answer itself.

mod common;

use atombot::Context;
use atombot::testing::{Simulator, events};
use common::{Log, SECRET, post};

fn signed(event: &str, id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("x-atomgit-event", event.to_owned()),
        ("x-atomgit-delivery", id.to_owned()),
        (
            "x-hub-signature-256",
            atombot::webhook::sign(SECRET.as_bytes(), body),
        ),
    ]
}

#[tokio::test]
async fn a_bot_that_comments_back_does_not_answer_itself() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let seen = log.clone();
    let bot = common::bot(&sim)
        .on("issue_comment.created", move |ctx: Context| {
            let seen = seen.clone();
            async move {
                let sender = ctx.sender().map(|u| u.login).unwrap_or_default();
                seen.push(format!("{sender} is_bot={}", ctx.is_bot()));
                if !ctx.is_bot() {
                    ctx.issues()?.create_comment(1, "Thanks!").await?;
                }
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();

    // A person comments: the bot answers once.
    let human = events::issue_comment_created("atomgit-demo/hello-world", 1, "/help")
        .installation(14)
        .into_value()
        .to_string();
    let (status, text) = post(
        &bot,
        &signed("issue_comment", "h-1", human.as_bytes()),
        human.as_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{text}");
    log.wait_for(5, |e| !e.is_empty()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while sim.comments("atomgit-demo", "hello-world", 1).is_empty()
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let answers = sim.comments("atomgit-demo", "hello-world", 1);
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0]["user"]["login"], sim.bot_login());

    // The platform delivers the bot's own comment back: the bot must not answer it.
    let own = events::issue_comment_created("atomgit-demo/hello-world", 1, "Thanks!")
        .installation(14)
        .set("/comment", answers[0].clone())
        .set("/sender", answers[0]["user"].clone())
        .into_value()
        .to_string();
    let (status, text) = post(
        &bot,
        &signed("issue_comment", "b-1", own.as_bytes()),
        own.as_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{text}");
    let entries = log.wait_for(5, |e| e.len() >= 2).await;
    assert_eq!(
        entries,
        ["atomgit-dev is_bot=false", "atombot-sim[bot] is_bot=true"]
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        sim.comments("atomgit-demo", "hello-world", 1).len(),
        1,
        "no loop"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn the_configured_bot_login_counts_as_the_app() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let seen = log.clone();
    let config = atombot::AppConfig::builder()
        .app_id(sim.app_id())
        .private_key_pem(Simulator::dev_private_key_pem())
        .api_url(sim.url())
        .webhook_secret(SECRET)
        .bot_login("helper-account")
        .build()
        .unwrap();
    let bot = atombot::Bot::new(config)
        .settings(common::settings())
        .on("issue_comment.created", move |ctx: Context| {
            let seen = seen.clone();
            async move {
                seen.push(format!("is_bot={}", ctx.is_bot()));
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    let body = events::issue_comment_created("atomgit-demo/hello-world", 1, "hi")
        .installation(14)
        .set(
            "/sender",
            serde_json::json!({"login": "Helper-Account", "type": "User"}),
        )
        .set(
            "/comment/user",
            serde_json::json!({"login": "helper-account"}),
        )
        .into_value()
        .to_string();
    let (status, _) = post(
        &bot,
        &signed("issue_comment", "c-1", body.as_bytes()),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(log.wait_for(5, |e| !e.is_empty()).await, ["is_bot=true"]);
    bot.shutdown().await;
}

#[tokio::test]
async fn repository_scoped_handlers_act_on_the_delivery_repository() {
    let sim = Simulator::start().await.unwrap();
    let log = Log::default();
    let seen = log.clone();
    let bot = common::bot(&sim)
        .on("pull_request.opened", move |ctx: Context| {
            let seen = seen.clone();
            async move {
                let number = ctx.issue_number().unwrap_or_default();
                let files = ctx.pulls()?.files(number).await?;
                ctx.pulls()?
                    .comment(number, format!("{} file(s) changed", files.len()))
                    .await?;
                seen.push(format!("#{number} {}", files[0].filename));
                Ok::<_, atombot::Error>(())
            }
        })
        .start()
        .await
        .unwrap();
    let body = events::pull_request_opened("atomgit-demo/hello-world", 2, "Feature")
        .installation(14)
        .into_value()
        .to_string();
    let (status, _) = post(
        &bot,
        &signed("pull_request", "p-1", body.as_bytes()),
        body.as_bytes(),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(log.wait_for(5, |e| !e.is_empty()).await, ["#2 README.md"]);
    let files = sim.requests_to("/api/v5/repos/atomgit-demo/hello-world/pulls/2/files");
    assert_eq!(files.len(), 1);
    let comments = sim.requests_to("/repos/atomgit-demo/hello-world/pulls/2/comments");
    assert_eq!(comments[0].json().unwrap()["body"], "1 file(s) changed");
    bot.shutdown().await;
}
