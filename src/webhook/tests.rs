//! Whole-pipeline tests: outcomes, captured GitLab-shaped fixtures, and a property test.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::{Value, json};

use super::*;
use crate::models::webhook::{
    InstallationEvent, IssueCommentEvent, IssuesEvent, PullRequestEvent, PushEvent,
};

const PUSH: &str = include_str!("../../tests/fixtures/payloads/gogitcode-push.json");
const MR_OPEN: &str = include_str!("../../tests/fixtures/payloads/gogitcode-mr-open.json");
const NOTE_ISSUE: &str = include_str!("../../tests/fixtures/payloads/gogitcode-note-issue.json");

const SECRET: &str = "correct-horse-battery";

fn settings() -> WebhookSettings {
    WebhookSettings::default()
        .with_secret("retired-secret")
        .with_secret(SECRET)
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

/// A request signed with the current secret.
fn signed(event: Option<&str>, body: &str) -> (HeaderMap, Bytes) {
    let sig = sign(SECRET.as_bytes(), body.as_bytes());
    let mut pairs = vec![("X-Hub-Signature-256", sig.as_str())];
    if let Some(event) = event {
        pairs.push(("X-AtomGit-Event", event));
    }
    (headers(&pairs), Bytes::copy_from_slice(body.as_bytes()))
}

fn parse(event: Option<&str>, body: &str) -> Result<Delivery, Rejection> {
    let (h, b) = signed(event, body);
    parse_delivery(&h, b, &settings())
}

fn gitcode(event: &str, body: &str) -> Delivery {
    let sig = sign(SECRET.as_bytes(), body.as_bytes());
    let h = headers(&[
        ("X-GitCode-Event", event),
        ("X-GitCode-Delivery", "gc-delivery-1"),
        ("X-GitCode-Signature-256", &sig),
        ("User-Agent", "git-gitcode-hook"),
    ]);
    parse_delivery(&h, Bytes::copy_from_slice(body.as_bytes()), &settings()).unwrap()
}

fn assert_clean(r: &Rejection, body: &str) {
    let text = r.body_text();
    assert!(
        !text.contains(SECRET) && !text.contains("retired-secret"),
        "{text}"
    );
    if body.len() > 8 {
        assert!(!text.contains(body), "{text}");
    }
}

// ---- outcomes, one per status ----

#[test]
fn accepted() {
    let d = parse(Some("issues"), r#"{"action":"opened"}"#).unwrap();
    assert_eq!((d.event(), d.action()), ("issues", Some("opened")));
    assert_eq!(d.dialect(), Dialect::GitHub);
    assert!(matches!(
        d.authenticity(),
        Authenticity::Signature {
            secret_index: 1,
            ..
        }
    ));
}

#[test]
fn too_large_is_413_and_checked_first() {
    let body = format!(r#"{{"pad":"{}"}}"#, "x".repeat(100));
    let h = headers(&[("X-Hub-Signature-256", "sha256=00")]);
    let s = settings().with_max_body_bytes(64);
    let r = parse_delivery(&h, body.clone().into(), &s).unwrap_err();
    assert!(matches!(r, Rejection::PayloadTooLarge(_)));
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_clean(&r, &body);
}

#[test]
fn missing_signature_is_400_and_names_the_header() {
    let r = parse_delivery(
        &headers(&[("X-AtomGit-Event", "push")]),
        "{}".into(),
        &settings(),
    )
    .unwrap_err();
    assert!(matches!(r, Rejection::MissingSignature(_)));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.body_text().contains("X-Hub-Signature-256"));
    assert!(r.body_text().contains("X-GitCode-Token"));
}

#[test]
fn bad_signature_is_401_before_json_is_looked_at() {
    let body = "not json at all";
    let h = headers(&[("X-Hub-Signature-256", &sign(b"wrong", body.as_bytes()))]);
    let r = parse_delivery(&h, body.into(), &settings()).unwrap_err();
    assert!(matches!(r, Rejection::InvalidSignature(_)));
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_clean(&r, body);
}

#[test]
fn invalid_json_is_400() {
    let body = r#"{"action": "opened", "secret": "#;
    let r = parse(Some("issues"), body).unwrap_err();
    assert!(matches!(r, Rejection::InvalidJson(_)));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(!r.body_text().contains("secret"));
}

#[test]
fn non_object_is_400() {
    for (body, found) in [("[1,2]", "array"), ("\"push\"", "string"), ("null", "null")] {
        let r = parse(Some("push"), body).unwrap_err();
        assert_eq!(r, Rejection::NotAnObject(NotAnObject { found }));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }
}

#[test]
fn missing_event_is_400() {
    let r = parse(None, r#"{"action":"opened"}"#).unwrap_err();
    assert!(matches!(r, Rejection::MissingEvent(_)));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.body_text().contains("X-AtomGit-Event"));
    // An empty header counts as absent.
    let r = parse(Some(""), "{}").unwrap_err();
    assert!(matches!(r, Rejection::MissingEvent(_)));
}

// ---- authenticity modes ----

#[test]
fn signature_prefix_is_optional() {
    let body = r#"{"zen":"hi"}"#;
    let full = sign(SECRET.as_bytes(), body.as_bytes());
    for sig in [full.as_str(), &full["sha256=".len()..]] {
        let h = headers(&[("X-GitCode-Signature-256", sig), ("X-GitHub-Event", "ping")]);
        let d = parse_delivery(&h, body.into(), &settings()).unwrap();
        assert_eq!(d.event(), "ping");
    }
}

#[test]
fn rotation_first_and_second_secret() {
    let body = r#"{"zen":"hi"}"#;
    for (secret, index) in [("retired-secret", 0), (SECRET, 1)] {
        let sig = sign(secret.as_bytes(), body.as_bytes());
        let h = headers(&[("X-Hub-Signature-256", &sig), ("X-AtomGit-Event", "ping")]);
        let d = parse_delivery(&h, body.into(), &settings()).unwrap();
        assert!(
            matches!(d.authenticity(), Authenticity::Signature { secret_index, .. } if *secret_index == index)
        );
    }
}

#[test]
fn password_mode() {
    let ok = headers(&[
        ("X-GitCode-Token", SECRET),
        ("X-GitCode-Event", "Push Hook"),
    ]);
    let d = parse_delivery(&ok, PUSH.into(), &settings()).unwrap();
    assert!(matches!(d.authenticity(), Authenticity::Token { .. }));

    let bad = headers(&[
        ("X-GitCode-Token", "guess"),
        ("X-GitCode-Event", "Push Hook"),
    ]);
    let r = parse_delivery(&bad, PUSH.into(), &settings()).unwrap_err();
    assert!(matches!(r, Rejection::InvalidToken(_)));
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_clean(&r, PUSH);
}

#[test]
fn unsigned_when_allowed() {
    let s = settings().with_allow_unsigned(true);
    let d = parse_delivery(&headers(&[("X-AtomGit-Event", "push")]), "{}".into(), &s).unwrap();
    assert_eq!(d.authenticity(), &Authenticity::Unsigned);
}

// ---- delivery ids ----

#[test]
fn delivery_id_sources() {
    let body = r#"{"uuid":"from-body"}"#;
    let sig = sign(SECRET.as_bytes(), body.as_bytes());
    let h = headers(&[
        ("X-Hub-Signature-256", &sig),
        ("X-AtomGit-Event", "ping"),
        ("X-GitHub-Delivery", "from-header"),
    ]);
    assert_eq!(
        parse_delivery(&h, body.into(), &settings()).unwrap().id(),
        "from-header"
    );
    assert_eq!(parse(Some("ping"), body).unwrap().id(), "from-body");
    let d = parse(Some("ping"), "{}").unwrap();
    assert_eq!(
        d.id(),
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
}

// ---- captured GitLab-shaped fixtures ----

#[test]
fn gitlab_push_hook() {
    let d = gitcode("Push Hook", PUSH);
    assert_eq!((d.event(), d.action()), ("push", None));
    assert_eq!(d.original_event(), "Push Hook");
    assert_eq!(d.dialect(), Dialect::GitLab);
    assert_eq!(d.id(), "gc-delivery-1");
    assert_eq!(
        d.repository_full_name(),
        Some("ibforuorg/org-repo-role-member-manage")
    );
    assert_eq!(d.owner_path(), Some("ibforuorg"));
    assert!(!d.is_tag_push());

    let push: PushEvent = d.payload().unwrap();
    assert_eq!(push.git_ref, "refs/heads/dev");
    assert_eq!(push.branch(), Some("dev"));
    assert_eq!(push.before, "0".repeat(40));
    assert_eq!(push.after, "2f03691536b8ef5ee2710b8605b9d16ccc96b52f");
    assert!(push.created && !push.deleted);
    assert_eq!(push.commits.len(), 1);
    assert_eq!(push.commits[0].author.name, "fengchao");
    assert_eq!(push.head_commit.as_ref().unwrap().message, "push event\n");
    assert_eq!(
        push.repository.full_name,
        "ibforuorg/org-repo-role-member-manage"
    );
    assert_eq!(push.repository.owner.path_or_login(), "ibforuorg");
    assert!(!push.repository.private);
    assert_eq!(push.pusher.name, "ibforu");
    assert_eq!(push.sender.login, "ibforu");
    assert_eq!(push.sender.id, 0, "negative masked ids read as 0");
}

#[test]
fn gitlab_push_by_object_kind_and_uuid() {
    let d = parse(None, PUSH).unwrap();
    assert_eq!((d.event(), d.original_event()), ("push", "push"));
    assert_eq!(d.id(), "88e1681c-bed2-4ff3-a7d5-1208b9b41a4e");
}

#[test]
fn gitlab_tag_push() {
    let mut body: Value = serde_json::from_str(PUSH).unwrap();
    body["object_kind"] = "tag_push".into();
    body["ref"] = "refs/tags/v1.0".into();
    let d = gitcode("Tag Push Hook", &body.to_string());
    assert_eq!(d.event(), "push");
    assert_eq!(d.original_event(), "Tag Push Hook");
    assert!(d.is_tag_push());
    assert_eq!(d.payload::<PushEvent>().unwrap().tag(), Some("v1.0"));
}

#[test]
fn gitlab_merge_request_open() {
    let d = gitcode("Merge Request Hook", MR_OPEN);
    assert_eq!((d.event(), d.action()), ("pull_request", Some("opened")));
    assert_eq!(d.owner_path(), Some("ibforuorg"));
    assert_eq!(d.repository_full_name(), Some("ibforuorg/test1"));

    let pr: PullRequestEvent = d.payload().unwrap();
    assert_eq!(pr.action, "opened");
    assert_eq!(pr.number(), 4);
    assert_eq!(pr.pull_request.number, 4);
    assert_eq!(pr.pull_request.title, "[WIP]42141241");
    assert_eq!(pr.pull_request.state, "open");
    assert!(!pr.pull_request.merged);
    assert!(pr.pull_request.draft);
    assert_eq!(pr.pull_request.head.git_ref, "24124124124");
    assert_eq!(pr.pull_request.head.sha.as_deref(), Some("12314124"));
    assert_eq!(pr.pull_request.base.git_ref, "main");
    assert_eq!(
        pr.pull_request.base.repo.as_ref().unwrap().full_name,
        "ibforuorg/test1"
    );
    assert_eq!(
        pr.pull_request.html_url.as_deref(),
        Some("https://gitcode.com/ibforuorg/test1/merge_requests/4")
    );
    assert_eq!(pr.repository.full_name, "ibforuorg/test1");
    assert_eq!(pr.sender.login, "****");
    assert_eq!(pr.sender.id, 858059);
    // The original body is untouched.
    assert!(d.json().get("pull_request").is_none());
    assert_eq!(d.json()["object_attributes"]["action"], "open");
}

#[test]
fn gitlab_merge_request_merge_is_closed_and_merged() {
    let mut body: Value = serde_json::from_str(MR_OPEN).unwrap();
    body["object_attributes"]["action"] = "merge".into();
    body["object_attributes"]["state"] = "merged".into();
    let d = gitcode("Merge Request Hook", &body.to_string());
    assert_eq!(d.action(), Some("closed"));
    let pr: PullRequestEvent = d.payload().unwrap();
    assert!(pr.pull_request.merged);
    assert_eq!(pr.pull_request.state, "closed");

    body["object_attributes"]["action"] = "update".into();
    body["object_attributes"]["state"] = "opened".into();
    assert_eq!(
        gitcode("Merge Request Hook", &body.to_string()).action(),
        Some("synchronize")
    );
}

#[test]
fn gitlab_note_on_issue() {
    let d = gitcode("Note Hook", NOTE_ISSUE);
    assert_eq!((d.event(), d.action()), ("issue_comment", Some("created")));
    assert_eq!(d.owner_path(), Some("ibforuorg"));
    let c: IssueCommentEvent = d.payload().unwrap();
    assert_eq!(c.action, "created");
    assert_eq!(c.comment.body, "oiugbfaijub");
    assert_eq!(c.comment.id, 1530793);
    assert_eq!(c.comment.user.id, 1710427);
    assert_eq!(c.issue.number, 4);
    assert_eq!(c.issue.title, "141fsdfs");
    assert_eq!(c.issue.state, "open");
    assert_eq!(c.issue.user.id, 858059);
    assert_eq!(c.repository.full_name, "ibforuorg/test1");
    assert_eq!(d.id(), "gc-delivery-1");
}

#[test]
fn gitlab_issue_hook() {
    let body = json!({
        "object_kind": "issue",
        "user": {"id": 5, "username": "alice"},
        "project": {"id": 9, "path_with_namespace": "acme/app", "visibility_level": 0},
        "object_attributes": {"id": 77, "iid": 12, "title": "Bug", "state": "closed",
                              "action": "close", "description": null, "url": "https://x/acme/app/issues/12"}
    });
    let d = gitcode("Issue Hook", &body.to_string());
    assert_eq!((d.event(), d.action()), ("issues", Some("closed")));
    let i: IssuesEvent = d.payload().unwrap();
    assert_eq!((i.issue.number, i.issue.state.as_str()), (12, "closed"));
    assert_eq!(i.issue.body, None);
    assert!(i.repository.private);
    assert_eq!(i.sender.login, "alice");
}

// ---- GitHub-shaped ----

#[test]
fn github_pull_request_and_installation_id_as_string() {
    let body = json!({
        "action": "synchronize", "number": "7",
        "pull_request": {"id": 1, "number": 7, "title": "t", "state": "open", "merged": null,
                         "head": {"ref": "feat", "sha": "abc"}, "base": {"ref": "main"}},
        "repository": {"id": "42", "full_name": "acme/app", "owner": {"login": "acme"}},
        "installation": {"id": "14"},
        "sender": {"login": "bob", "id": 3}
    });
    let d = parse(Some("pull_request"), &body.to_string()).unwrap();
    assert_eq!(d.installation_id(), Some(14));
    assert_eq!(d.owner_path(), Some("acme"));
    let pr: PullRequestEvent = d.payload().unwrap();
    assert_eq!((pr.number, pr.repository.id), (7, 42));
    assert_eq!(pr.installation.unwrap().id, 14);
    assert!(!pr.pull_request.merged);
}

#[test]
fn github_installation_event() {
    let body = json!({
        "action": "created",
        "installation": {"id": 14, "app_id": 75, "account": {"id": 10912, "path": "yanqianyu"},
                         "events": ["{\"code\":\"push\"", "\"desc\":\"push event\"}"]},
        "repositories": [{"id": 1, "name": "a", "full_name": "yanqianyu/a"}]
    });
    let d = parse(Some("installation"), &body.to_string()).unwrap();
    assert_eq!(d.installation_id(), Some(14));
    assert_eq!(d.owner_path(), Some("yanqianyu"));
    let i: InstallationEvent = d.payload().unwrap();
    assert_eq!(i.installation.account.path_or_login(), "yanqianyu");
    assert_eq!(i.repositories[0].full_name, "yanqianyu/a");
}

#[test]
fn payload_error_names_the_path() {
    let d = parse(Some("push"), r#"{"commits":[{"id":"a","added":"x"}]}"#).unwrap();
    let err = d.payload::<PushEvent>().unwrap_err();
    assert_eq!(err.json_path, "commits[0].added");
}

#[test]
fn debug_hides_the_body() {
    let d = parse(Some("push"), r#"{"token":"ats_abcdef"}"#).unwrap();
    assert!(!format!("{d:?}").contains("ats_abcdef"));
}

// ---- property test ----

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    const LIMIT: usize = 512;

    fn header_name() -> impl Strategy<Value = String> {
        let real = prop::sample::select(vec![
            "X-AtomGit-Event",
            "X-GitCode-Event",
            "X-GitHub-Event",
            "X-AtomGit-Delivery",
            "X-GitCode-Delivery",
            "X-GitHub-Delivery",
            "X-Hub-Signature-256",
            "X-GitCode-Signature-256",
            "X-AtomGit-Signature-256",
            "X-GitCode-Token",
            "X-AtomGit-Token",
        ])
        .prop_map(str::to_owned);
        prop_oneof![4 => real, 1 => "[a-zA-Z0-9-]{1,20}"]
    }

    fn header_value() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::sample::select(vec![
                "push",
                "Push Hook",
                "Note Hook",
                "Merge Request Hook",
                "issues",
                "",
                " ",
                "sha256=",
                "sha256=zz",
                SECRET,
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            "sha256=[0-9a-f]{0,70}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..40),
        ]
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        let fixture = prop::sample::select(vec![PUSH, MR_OPEN, NOTE_ISSUE]);
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..(LIMIT * 2)),
            // Fixtures, whole and truncated; most are over the limit.
            (fixture.clone(), any::<prop::sample::Index>())
                .prop_map(|(f, i)| f.as_bytes()[..i.index(f.len() + 1)].to_vec()),
            // Small JSON documents that fit the limit.
            prop::sample::select(vec![
                "{}",
                "[]",
                "null",
                "1",
                "\"s\"",
                r#"{"object_kind":"note"}"#,
                r#"{"object_kind":"merge_request","object_attributes":{"action":"merge"}}"#,
                r#"{"object_kind":"push","installation":{"id":"x"},"uuid":""}"#,
                r#"{"object_kind":7,"action":[]}"#,
                r#"{"object_kind":""}"#,
                r#"{"object_kind":"issue","object_attributes":null,"project":[]}"#,
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            "\\{\"[a-z_]{1,12}\":\"[ -~]{0,30}\"\\}".prop_map(String::into_bytes),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn parse_delivery_never_panics(
            pairs in prop::collection::vec((header_name(), header_value()), 0..8),
            body in body(),
            sign_it in any::<bool>(),
            allow_unsigned in any::<bool>(),
        ) {
            let mut headers = HeaderMap::new();
            for (name, value) in &pairs {
                let (Ok(name), Ok(value)) =
                    (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value))
                else {
                    continue;
                };
                headers.append(name, value);
            }
            if sign_it {
                let sig = sign(SECRET.as_bytes(), &body);
                headers.insert("x-gitcode-signature-256", sig.parse().unwrap());
            }
            let settings = settings()
                .with_max_body_bytes(LIMIT)
                .with_allow_unsigned(allow_unsigned);
            match parse_delivery(&headers, Bytes::from(body.clone()), &settings) {
                Ok(d) => {
                    prop_assert!(body.len() <= LIMIT);
                    prop_assert!(!d.event().is_empty());
                    prop_assert!(!d.id().is_empty());
                    prop_assert!(d.json().is_object());
                    let _ = d.installation_id();
                    let _ = d.owner_path();
                    let _ = d.payload::<PushEvent>();
                    let _ = d.payload::<PullRequestEvent>();
                    let _ = d.payload::<IssueCommentEvent>();
                }
                Err(r) => {
                    let status = r.status().as_u16();
                    prop_assert!([400, 401, 413].contains(&status), "status {}", status);
                    prop_assert_eq!(r.clone().into_response().status(), r.status());
                    let text = r.body_text();
                    prop_assert!(!text.contains(SECRET));
                    prop_assert!(!text.contains("retired-secret"));
                    if body.len() > LIMIT {
                        prop_assert_eq!(status, 413);
                    }
                }
            }
        }
    }

    use axum::response::IntoResponse;
}
