//! Runtime acceptance 2: GitLab-shaped deliveries with `X-GitCode-*` headers (the captured
//! payloads) reach the canonical handlers and resolve their installation from
//! `project.path_with_namespace`; password mode accepts the right token only.

mod common;

use atombot::Context;
use atombot::testing::{SimInstallation, Simulator};
use common::{Log, SECRET, post};

const PUSH: &[u8] = include_bytes!("fixtures/payloads/gogitcode-push.json");
const MR_OPEN: &[u8] = include_bytes!("fixtures/payloads/gogitcode-mr-open.json");
const NOTE: &[u8] = include_bytes!("fixtures/payloads/gogitcode-note-issue.json");

fn gitcode_signed(event: &str, id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("x-gitcode-event", event.to_owned()),
        ("x-gitcode-delivery", id.to_owned()),
        (
            "x-gitcode-signature-256",
            atombot::webhook::sign(SECRET.as_bytes(), body),
        ),
        ("user-agent", "git-gitcode-hook".to_owned()),
    ]
}

fn gitcode_password(event: &str, id: &str, password: &str) -> Vec<(&'static str, String)> {
    vec![
        ("x-gitcode-event", event.to_owned()),
        ("x-gitcode-delivery", id.to_owned()),
        ("x-gitcode-token", password.to_owned()),
        ("user-agent", "git-gitcode-hook".to_owned()),
    ]
}

async fn sim() -> Simulator {
    Simulator::builder()
        .installation(SimInstallation::org(21, "ibforuorg"))
        .start()
        .await
        .unwrap()
}

fn recorder(
    log: &Log,
) -> impl Fn(Context) -> std::future::Ready<atombot::Result<()>> + Clone + use<> {
    let log = log.clone();
    move |ctx: Context| {
        log.push(format!(
            "{}.{} installation={:?} repo={:?} issue={:?}",
            ctx.event(),
            ctx.action().unwrap_or("-"),
            ctx.installation_id().map(|i| i.0),
            ctx.repo().map(|r| r.to_string()),
            ctx.issue_number(),
        ));
        std::future::ready(Ok(()))
    }
}

#[tokio::test]
async fn a_gitlab_push_hook_reaches_push_and_resolves_its_installation() {
    let sim = sim().await;
    let log = Log::default();
    let bot = common::bot(&sim)
        .on("push", recorder(&log))
        .start()
        .await
        .unwrap();
    let (status, body) = post(&bot, &gitcode_signed("Push Hook", "gl-1", PUSH), PUSH).await;
    assert_eq!(status, 202, "{body}");
    let entries = log.wait_for(5, |e| !e.is_empty()).await;
    assert_eq!(
        entries,
        [
            "push.- installation=Some(21) repo=Some(\"ibforuorg/org-repo-role-member-manage\") issue=None"
        ]
    );
    // Resolved through GET /app/installations with the app JWT.
    assert_eq!(sim.requests_to("/app/installations").len(), 1);
    bot.shutdown().await;
}

#[tokio::test]
async fn a_merge_request_open_reaches_pull_request_opened() {
    let sim = sim().await;
    let log = Log::default();
    let bot = common::bot(&sim)
        .on("pull_request.opened", recorder(&log))
        .on("pull_request.closed", recorder(&log))
        .start()
        .await
        .unwrap();
    let (status, body) = post(
        &bot,
        &gitcode_signed("Merge Request Hook", "gl-2", MR_OPEN),
        MR_OPEN,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let entries = log.wait_for(5, |e| !e.is_empty()).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(
        entries[0].starts_with(
            "pull_request.opened installation=Some(21) repo=Some(\"ibforuorg/test1\") issue=Some(4)"
        ),
        "{entries:?}"
    );
    bot.shutdown().await;
}

#[tokio::test]
async fn password_mode_accepts_the_right_token_only() {
    let sim = sim().await;
    let log = Log::default();
    let bot = common::bot(&sim)
        .on("issue_comment.created", recorder(&log))
        .start()
        .await
        .unwrap();
    let (status, _) = post(
        &bot,
        &gitcode_password("Note Hook", "gl-3", "not-the-password"),
        NOTE,
    )
    .await;
    assert_eq!(status, 401);
    let (status, body) = post(&bot, &gitcode_password("Note Hook", "gl-4", SECRET), NOTE).await;
    assert_eq!(status, 202, "{body}");
    let entries = log.wait_for(5, |e| !e.is_empty()).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(
        entries[0].starts_with(
            "issue_comment.created installation=Some(21) repo=Some(\"ibforuorg/test1\")"
        ),
        "{entries:?}"
    );
    bot.shutdown().await;
}
