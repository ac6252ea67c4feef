//! Captured GitLab-shaped payloads and GitHub-shaped bodies, parsed and decoded.

use serde_json::{Value, json};

use super::*;
use crate::models::InstallationId;
use crate::models::webhook::{
    EventPayload, InstallationEvent, IssueCommentEvent, IssuesEvent, PullRequestEvent, PushEvent,
};

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
    assert_eq!(push.repository.owner.login, "ibforuorg");
    assert!(!push.repository.private);
    assert_eq!(push.pusher.name, "ibforu");
    assert_eq!(push.sender.login, "ibforu");
    assert_eq!(
        push.sender.id.as_str(),
        "-9999",
        "masked ids are kept as sent"
    );
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
    assert_eq!(pr.sender.id.as_str(), "858059");
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
    assert_eq!(c.comment.id.as_str(), "1530793");
    assert_eq!(c.comment.user.id.as_str(), "1710427");
    assert_eq!(c.issue.number, 4);
    assert_eq!(c.issue.title, "141fsdfs");
    assert_eq!(c.issue.state, "open");
    assert_eq!(c.issue.user.id.as_str(), "858059");
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
    assert_eq!(d.installation_id(), Some(InstallationId(14)));
    assert_eq!(d.owner_path(), Some("acme"));
    let pr: PullRequestEvent = d.payload().unwrap();
    assert_eq!((pr.number, pr.repository.id.as_str()), (7, "42"));
    assert_eq!(pr.installation.unwrap().id, InstallationId(14));
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
    assert_eq!(d.installation_id(), Some(InstallationId(14)));
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

#[test]
fn typed_payload_by_event() {
    let d = gitcode("Note Hook", NOTE_ISSUE);
    match d.typed_payload().unwrap() {
        EventPayload::IssueComment(c) => assert_eq!(c.issue.number, 4),
        other => panic!("unexpected {other:?}"),
    }
    let d = parse(Some("star"), r#"{"action":"created"}"#).unwrap();
    assert!(matches!(
        d.typed_payload().unwrap(),
        EventPayload::Unknown(_)
    ));
}

/// A delivery rebuilt from its queued route (the body not read) answers every accessor as
/// the received one did, and so does one rebuilt from its body alone (an older queue entry).
#[test]
fn a_restored_delivery_answers_as_the_received_one() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/payloads");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let body = std::fs::read_to_string(&path).unwrap();
        let value: Value = serde_json::from_str(&body).unwrap();
        // Each fixture with the header its platform sends, and without one.
        let header = value
            .get("object_kind")
            .and_then(Value::as_str)
            .unwrap_or("push");
        for event in [Some(header), None] {
            let Ok(received) = parse(event, &body) else {
                continue;
            };
            let routed = Delivery::restore_routed(
                received.id(),
                received.header_event(),
                received.body().clone(),
                received.route(),
            );
            let reread = Delivery::restore(
                received.id(),
                received.header_event(),
                received.body().clone(),
            )
            .unwrap();
            for restored in [&routed, &reread] {
                let name = path.display();
                assert_eq!(restored.event(), received.event(), "{name}");
                assert_eq!(restored.action(), received.action(), "{name}");
                assert_eq!(
                    restored.original_event(),
                    received.original_event(),
                    "{name}"
                );
                assert_eq!(restored.dialect(), received.dialect(), "{name}");
                assert_eq!(restored.installation_id(), received.installation_id());
                assert_eq!(
                    restored.repository_full_name(),
                    received.repository_full_name()
                );
                assert_eq!(restored.owner_path(), received.owner_path(), "{name}");
                assert_eq!(restored.is_tag_push(), received.is_tag_push(), "{name}");
                assert_eq!(restored.json(), received.json(), "{name}");
                assert_eq!(
                    restored.normalized_json(),
                    received.normalized_json(),
                    "{name}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} fixtures parsed");
}
