//! Issue 10 acceptance 1 and 2: real AtomGit shapes — 24-hex string ids, `0`/`1` booleans,
//! lowercase event headers, `event_name`, `project`-only pushes — decode as the typed
//! payloads and fire their canonical handlers (fixtures: `tests/fixtures/payloads/synthetic-*`).

mod common;

use atombot::Context;
use atombot::models::webhook::{IssueCommentEvent, PullRequestEvent, PushEvent};
use atombot::testing::{SimInstallation, Simulator};
use atombot::webhook::{WebhookSettings, parse_delivery, sign};
use common::{Log, SECRET, post};

const HEX_PUSH: &[u8] = include_bytes!("fixtures/payloads/synthetic-github-push-hex-ids.json");
const MR_EVENT_NAME: &[u8] = include_bytes!("fixtures/payloads/synthetic-mr-event-name.json");
const PROJECT_ONLY: &[u8] = include_bytes!("fixtures/payloads/synthetic-push-project-only.json");
const NOTE: &[u8] = include_bytes!("fixtures/payloads/synthetic-note-lowercase.json");
const TAG_PUSH: &[u8] = include_bytes!("fixtures/payloads/synthetic-tag-push-lowercase.json");

fn atomgit(event: &str, id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("x-atomgit-event", event.to_owned()),
        ("x-atomgit-delivery", id.to_owned()),
        ("x-hub-signature-256", sign(SECRET.as_bytes(), body)),
    ]
}

fn delivery(event: &str, body: &[u8]) -> atombot::webhook::Delivery {
    let mut headers = http::HeaderMap::new();
    for (name, value) in atomgit(event, "d-1", body) {
        headers.insert(name, value.parse().unwrap());
    }
    let settings = WebhookSettings::default().with_secret(SECRET);
    parse_delivery(&headers, body.to_vec().into(), &settings).unwrap()
}

#[test]
fn a_github_push_with_hex_ids_and_numeric_booleans_decodes() {
    let d = delivery("push", HEX_PUSH);
    let push: PushEvent = d.payload().unwrap();
    assert_eq!(push.repository.id.as_str(), "6638af02bbeee41d0fe74c35");
    assert_eq!(
        push.repository.owner.id.as_str(),
        "62c3ea551b506da49a835225"
    );
    assert_eq!(push.sender.id.as_str(), "63db126c0566d2f7d2c9498c");
    assert!(!push.repository.private && !push.repository.archived && !push.created);
    assert_eq!(push.branch(), Some("main"));
    let ts = push.commits[0].timestamp.unwrap();
    assert_eq!(ts.to_utc().to_rfc3339(), "2026-12-01T02:20:30+00:00");
}

#[test]
fn an_undecodable_field_names_its_json_path() {
    let mut body: serde_json::Value = serde_json::from_slice(HEX_PUSH).unwrap();
    body["repository"]["private"] = "maybe".into();
    let d = delivery("push", body.to_string().as_bytes());
    let err = d.payload::<PushEvent>().unwrap_err();
    assert_eq!(err.json_path, "repository.private");
}

#[test]
fn a_project_only_push_has_a_repository() {
    let d = delivery("push", PROJECT_ONLY);
    assert_eq!(d.repository_full_name(), Some("acme/app"));
    assert_eq!(d.owner_path(), Some("acme"));
    let push: PushEvent = d.payload().unwrap();
    assert_eq!(push.repository.full_name, "acme/app");
    assert_eq!(push.repository.id.as_str(), "6638af02bbeee41d0fe74c35");
    assert!(!push.repository.private);
}

#[test]
fn lowercase_spellings_name_their_canonical_events() {
    let mr = delivery("merge_request", MR_EVENT_NAME);
    assert_eq!((mr.event(), mr.action()), ("pull_request", Some("opened")));
    let pr: PullRequestEvent = mr.payload().unwrap();
    assert_eq!((pr.number(), pr.pull_request.number), (12, 12));
    assert_eq!(pr.pull_request.id.as_str(), "6750b3c2a1f4e90012ab34cd");
    assert!(!pr.pull_request.draft && !pr.repository.private);

    assert!(delivery("TAG PUSH HOOK", TAG_PUSH).is_tag_push());
    let tag = delivery("tag_push", TAG_PUSH);
    assert_eq!((tag.event(), tag.action()), ("push", None));
    assert!(tag.is_tag_push());
    assert_eq!(tag.payload::<PushEvent>().unwrap().tag(), Some("v1.0.0"));

    let note = delivery("note", NOTE);
    assert_eq!(
        (note.event(), note.action()),
        ("issue_comment", Some("created"))
    );
    let c: IssueCommentEvent = note.payload().unwrap();
    assert_eq!((c.issue.number, c.comment.body.as_str()), (3, "/label bug"));
    assert_eq!(c.comment.user.login, "ann");
}

async fn sim() -> Simulator {
    Simulator::builder()
        .installation(SimInstallation::org(31, "acme"))
        .start()
        .await
        .unwrap()
}

fn recorder(
    log: &Log,
) -> impl Fn(Context) -> std::future::Ready<atombot::Result<()>> + Clone + use<> {
    let log = log.clone();
    move |ctx: Context| {
        let typed = match ctx.event() {
            "pull_request" => ctx
                .payload::<PullRequestEvent>()
                .map(|p| format!("#{} merged={}", p.number(), p.pull_request.merged)),
            "push" => ctx
                .payload::<PushEvent>()
                .map(|p| format!("{} repo_id={}", p.git_ref, p.repository.id)),
            "issue_comment" => ctx
                .payload::<IssueCommentEvent>()
                .map(|c| format!("#{} {}", c.issue.number, c.comment.body)),
            _ => Ok(String::new()),
        };
        log.push(format!(
            "{}.{} repo={} installation={:?} {}",
            ctx.event(),
            ctx.action().unwrap_or("-"),
            ctx.repo().map(|r| r.to_string()).unwrap_or_default(),
            ctx.installation_id().map(|i| i.0),
            typed.unwrap_or_else(|e| format!("DECODE ERROR {e}")),
        ));
        std::future::ready(Ok(()))
    }
}

#[tokio::test]
async fn lowercase_events_fire_their_canonical_handlers() {
    let sim = sim().await;
    let log = Log::default();
    let bot = common::bot(&sim)
        .on("pull_request.opened", recorder(&log))
        .on("pull_request.closed", recorder(&log))
        .on("push", recorder(&log))
        .on("issue_comment.created", recorder(&log))
        .start()
        .await
        .unwrap();

    let mut merged: serde_json::Value = serde_json::from_slice(MR_EVENT_NAME).unwrap();
    merged["event_name"] = "merge_request_merge".into();
    merged["object_attributes"]["action"] = "update".into();
    merged["object_attributes"]["state"] = "merged".into();
    let merged = merged.to_string().into_bytes();

    let sends: [(&str, &[u8]); 5] = [
        ("merge_request", MR_EVENT_NAME),
        ("merge_request", &merged),
        ("tag_push", TAG_PUSH),
        ("note", NOTE),
        ("push", PROJECT_ONLY),
    ];
    for (i, (event, body)) in sends.iter().enumerate() {
        let (status, text) = post(&bot, &atomgit(event, &format!("rs-{i}"), body), body).await;
        assert_eq!(status, 202, "{event}: {text}");
    }
    let mut entries = log.wait_for(10, |e| e.len() >= 5).await;
    entries.sort();
    assert_eq!(
        entries,
        [
            "issue_comment.created repo=acme/app installation=Some(31) #3 /label bug",
            "pull_request.closed repo=acme/app installation=Some(31) #12 merged=true",
            "pull_request.opened repo=acme/app installation=Some(31) #12 merged=false",
            "push.- repo=acme/app installation=Some(31) refs/heads/main repo_id=6638af02bbeee41d0fe74c35",
            "push.- repo=acme/app installation=Some(31) refs/tags/v1.0.0 repo_id=6638af02bbeee41d0fe74c35",
        ]
    );
    bot.shutdown().await;
}
