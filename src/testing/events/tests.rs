//! Every builder, both dialects, through the real normaliser and the typed models.

use bytes::Bytes;

use super::*;
use crate::models::InstallationId;
use crate::models::webhook::EventPayload;
use crate::webhook::events::{Dialect, normalize};
use crate::webhook::{Delivery, events as canonical};

/// A builder's output and what it claims to be.
struct Case {
    name: &'static str,
    payload: Payload,
    event: &'static str,
    action: Option<&'static str>,
    dialect: Dialect,
    /// Checks the typed payload (and the delivery) beyond event and action.
    check: fn(&EventPayload, &Delivery),
}

fn case(
    name: &'static str,
    payload: Payload,
    (event, action): (&'static str, Option<&'static str>),
    dialect: Dialect,
    check: fn(&EventPayload, &Delivery),
) -> Case {
    Case {
        name,
        payload,
        event,
        action,
        dialect,
        check,
    }
}

const R: &str = "acme/app";

fn push_main(p: &EventPayload, d: &Delivery) {
    let EventPayload::Push(p) = p else {
        panic!("not a push: {p:?}")
    };
    assert_eq!(p.branch(), Some("main"));
    assert_eq!(p.commits.len(), 1);
    assert_eq!(
        p.head_commit.as_ref().map(|c| c.id.as_str()),
        Some(&*p.after)
    );
    assert_eq!(
        (
            p.repository.full_name.as_str(),
            p.repository.owner.login.as_str()
        ),
        (R, "acme")
    );
    assert_eq!(p.pusher.name, ACTOR);
    assert!(!d.is_tag_push());
    assert_eq!(d.repository_full_name(), Some(R));
}

fn push_dev(p: &EventPayload, _: &Delivery) {
    let EventPayload::Push(p) = p else {
        panic!("not a push: {p:?}")
    };
    assert_eq!(p.branch(), Some("dev"));
}

fn tag_v1(p: &EventPayload, d: &Delivery) {
    let EventPayload::Push(p) = p else {
        panic!("not a push: {p:?}")
    };
    assert_eq!((p.tag(), p.created, p.commits.len()), (Some("v1"), true, 0));
    assert_eq!(p.after, branch_head(R, "refs/heads/main"));
    assert!(d.is_tag_push());
    assert_eq!(d.repository_full_name(), Some(R));
}

fn issue_7(p: &EventPayload, d: &Delivery) {
    let EventPayload::Issues(i) = p else {
        panic!("not issues: {p:?}")
    };
    assert_eq!((i.issue.number, i.issue.title.as_str()), (7, "Bug"));
    let want = if d.action() == Some("closed") {
        "closed"
    } else {
        "open"
    };
    assert_eq!(i.issue.state, want);
    assert_eq!(i.repository.full_name, R);
    assert_eq!(i.sender.login, ACTOR);
    if d.action() == Some("labeled") {
        assert_eq!(i.label.as_ref().map(|l| l.name.as_str()), Some("bug"));
    }
}

fn comment_on_issue_5(p: &EventPayload, _: &Delivery) {
    let EventPayload::IssueComment(c) = p else {
        panic!("not an issue comment: {p:?}")
    };
    assert_eq!((c.issue.number, c.comment.body.as_str()), (5, "/label bug"));
    assert_eq!(
        (
            c.repository.full_name.as_str(),
            c.comment.user.login.as_str()
        ),
        (R, ACTOR)
    );
}

fn pr_3(p: &EventPayload, d: &Delivery) {
    let EventPayload::PullRequest(p) = p else {
        panic!("not a pull request: {p:?}")
    };
    assert_eq!((p.number(), p.pull_request.title.as_str()), (3, "Add CI"));
    assert_eq!(
        (
            p.pull_request.head.git_ref.as_str(),
            p.pull_request.base.git_ref.as_str()
        ),
        ("feature", "main")
    );
    assert_eq!(p.pull_request.head.sha.as_deref(), Some(&*pr_head(R, 3)));
    assert_eq!(p.repository.full_name, R);
    let closed = d.action() == Some("closed");
    let merged = d.json()["pull_request"]["merged"] == 1
        || d.json()["object_attributes"]["state"] == "merged";
    assert_eq!(p.pull_request.merged, merged);
    assert_eq!(p.pull_request.state, if closed { "closed" } else { "open" });
}

fn review_comment(p: &EventPayload, _: &Delivery) {
    let EventPayload::PullRequestReviewComment(c) = p else {
        panic!("not a review comment: {p:?}")
    };
    assert_eq!(
        (c.pull_request.number, c.comment.body.as_str()),
        (3, "LGTM")
    );
    assert_eq!(c.repository.full_name, R);
}

fn commit_note(p: &EventPayload, _: &Delivery) {
    // No typed model for commit comments: the normalised JSON.
    let EventPayload::Unknown(v) = p else {
        panic!("commit_comment got a type: {p:?}")
    };
    assert_eq!(v["comment"]["body"], "Nice");
    assert_eq!(v["comment"]["commit_id"], "abc123");
    assert_eq!(v["repository"]["full_name"], R);
}

fn installation_14(p: &EventPayload, d: &Delivery) {
    let EventPayload::Installation(i) = p else {
        panic!("not an installation: {p:?}")
    };
    assert_eq!(
        (i.installation.id, i.installation.account.path_or_login()),
        (InstallationId(14), "acme")
    );
    assert_eq!(d.installation_id(), Some(InstallationId(14)));
}

fn repositories_changed(p: &EventPayload, d: &Delivery) {
    let EventPayload::InstallationRepositories(i) = p else {
        panic!("not installation_repositories: {p:?}")
    };
    let (listed, empty) = if d.action() == Some("removed") {
        (&i.repositories_removed, &i.repositories_added)
    } else {
        (&i.repositories_added, &i.repositories_removed)
    };
    let names: Vec<&str> = listed.iter().map(|r| r.full_name.as_str()).collect();
    assert_eq!(names, ["acme/app", "other/lib"]);
    assert!(empty.is_empty());
    assert_eq!(i.installation.id, InstallationId(14));
}

fn cases() -> Vec<Case> {
    use Dialect::{GitHub as Hub, GitLab as Lab};
    let (push_, issues_, comment, pr) = (
        (canonical::PUSH, None),
        |a| (canonical::ISSUES, Some(a)),
        (canonical::ISSUE_COMMENT, Some("created")),
        |a| (canonical::PULL_REQUEST, Some(a)),
    );
    let review = (canonical::PULL_REQUEST_REVIEW_COMMENT, Some("created"));
    let on_commit = (canonical::COMMIT_COMMENT, Some("created"));
    let mut cases = vec![
        case("push", push(R), push_, Hub, push_main),
        case("push_to dev", push_to(R, "dev"), push_, Hub, push_dev),
        case(
            "push_to refs/heads/dev",
            push_to(R, "refs/heads/dev"),
            push_,
            Hub,
            push_dev,
        ),
        case("tag_push", tag_push(R, "v1"), push_, Hub, tag_v1),
        case(
            "push_to tag",
            push_to(R, "refs/tags/v1"),
            push_,
            Hub,
            tag_v1,
        ),
        case("gitlab::push", gitlab::push(R), push_, Lab, push_main),
        case(
            "gitlab::push_to",
            gitlab::push_to(R, "dev"),
            push_,
            Lab,
            push_dev,
        ),
        case(
            "gitlab::tag_push",
            gitlab::tag_push(R, "v1"),
            push_,
            Lab,
            tag_v1,
        ),
        case(
            "tag_push lowercase",
            gitlab::tag_push(R, "v1").with_event("tag_push"),
            push_,
            Lab,
            tag_v1,
        ),
        case(
            "issue_opened",
            issue_opened(R, 7, "Bug"),
            issues_("opened"),
            Hub,
            issue_7,
        ),
    ];
    for action in [
        "opened",
        "edited",
        "closed",
        "reopened",
        "labeled",
        "unlabeled",
        "assigned",
    ] {
        cases.push(case(
            "issues",
            issues(R, 7, "Bug", action),
            issues_(action),
            Hub,
            issue_7,
        ));
    }
    for (verb, action) in [
        ("open", "opened"),
        ("update", "edited"),
        ("close", "closed"),
        ("reopen", "reopened"),
    ] {
        cases.push(case(
            "gitlab::issue",
            gitlab::issue(R, 7, "Bug", verb),
            issues_(action),
            Lab,
            issue_7,
        ));
        cases.push(case(
            "gitlab::issue lowercase",
            gitlab::issue(R, 7, "Bug", verb).with_event("issue"),
            issues_(action),
            Lab,
            issue_7,
        ));
    }
    cases.push(case(
        "issue_comment_created",
        issue_comment_created(R, 5, "/label bug"),
        comment,
        Hub,
        comment_on_issue_5,
    ));
    for action in ["created", "edited", "deleted"] {
        cases.push(case(
            "issue_comment",
            issue_comment(R, 5, "/label bug", action),
            (canonical::ISSUE_COMMENT, Some(action)),
            Hub,
            comment_on_issue_5,
        ));
    }
    cases.push(case(
        "gitlab::note_on_issue",
        gitlab::note_on_issue(R, 5, "/label bug"),
        comment,
        Lab,
        comment_on_issue_5,
    ));
    cases.push(case(
        "note_on_issue lowercase",
        gitlab::note_on_issue(R, 5, "/label bug").with_event("note"),
        comment,
        Lab,
        comment_on_issue_5,
    ));
    cases.push(case(
        "pull_request_opened",
        pull_request_opened(R, 3, "Add CI"),
        pr("opened"),
        Hub,
        pr_3,
    ));
    for action in ["opened", "synchronize", "closed", "reopened", "edited"] {
        cases.push(case(
            "pull_request",
            pull_request(R, 3, "Add CI", action),
            pr(action),
            Hub,
            pr_3,
        ));
    }
    cases.push(case(
        "pull_request_merged",
        pull_request_merged(R, 3, "Add CI"),
        pr("closed"),
        Hub,
        pr_3,
    ));
    for (verb, action) in [
        ("open", "opened"),
        ("update", "synchronize"),
        ("close", "closed"),
        ("merge", "closed"),
        ("reopen", "reopened"),
    ] {
        cases.push(case(
            "gitlab::merge_request",
            gitlab::merge_request(R, 3, "Add CI", verb),
            pr(action),
            Lab,
            pr_3,
        ));
        cases.push(case(
            "merge_request lowercase",
            gitlab::merge_request(R, 3, "Add CI", verb).with_event("merge_request"),
            pr(action),
            Lab,
            pr_3,
        ));
    }
    cases.push(case(
        "gitlab::merge_request_edited",
        gitlab::merge_request_edited(R, 3, "Add CI"),
        pr("edited"),
        Lab,
        pr_3,
    ));
    cases.push(case(
        "pull_request_review_comment",
        pull_request_review_comment(R, 3, "LGTM", "created"),
        review,
        Hub,
        review_comment,
    ));
    cases.push(case(
        "gitlab::note_on_merge_request",
        gitlab::note_on_merge_request(R, 3, "LGTM"),
        review,
        Lab,
        review_comment,
    ));
    cases.push(case(
        "commit_comment",
        commit_comment(R, "abc123", "Nice", "created"),
        on_commit,
        Hub,
        commit_note,
    ));
    cases.push(case(
        "gitlab::note_on_commit",
        gitlab::note_on_commit(R, "abc123", "Nice"),
        on_commit,
        Lab,
        commit_note,
    ));
    cases.push(case(
        "installation_created",
        installation_created(14, "acme"),
        (canonical::INSTALLATION, Some("created")),
        Hub,
        installation_14,
    ));
    for action in ["created", "deleted", "suspend", "unsuspend"] {
        cases.push(case(
            "installation",
            installation(14, "acme", action),
            (canonical::INSTALLATION, Some(action)),
            Hub,
            installation_14,
        ));
    }
    for action in ["added", "removed"] {
        cases.push(case(
            "installation_repositories",
            installation_repositories(14, "acme", action, &["app", "other/lib"]),
            (canonical::INSTALLATION_REPOSITORIES, Some(action)),
            Hub,
            repositories_changed,
        ));
    }
    cases
}

#[test]
fn every_builder_normalises_to_what_it_claims_and_decodes() {
    for c in cases() {
        let name = format!("{} {:?}", c.name, c.action);
        let n = normalize(Some(c.payload.event()), c.payload.as_value())
            .unwrap_or_else(|| panic!("{name}: no event"));
        assert_eq!(
            (n.event.as_str(), n.action.as_deref()),
            (c.event, c.action),
            "{name}"
        );
        assert_eq!(n.dialect, c.dialect, "{name}");

        let body = Bytes::from(serde_json::to_vec(c.payload.as_value()).unwrap());
        let d = Delivery::restore("test", Some(c.payload.event()), body)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((d.event(), d.action()), (c.event, c.action), "{name}");
        let typed = d.typed_payload().unwrap_or_else(|e| panic!("{name}: {e}"));
        (c.check)(&typed, &d);
    }
}

#[test]
fn every_canonical_event_has_a_builder_in_both_dialects() {
    let cases = cases();
    assert!(cases.len() > 50, "{} cases", cases.len());
    let covered = |event: &str, dialect: Dialect| {
        cases
            .iter()
            .any(|c| c.event == event && c.dialect == dialect)
    };
    for event in [
        canonical::PUSH,
        canonical::ISSUES,
        canonical::ISSUE_COMMENT,
        canonical::PULL_REQUEST,
        canonical::PULL_REQUEST_REVIEW_COMMENT,
        canonical::COMMIT_COMMENT,
    ] {
        assert!(
            covered(event, Dialect::GitHub) && covered(event, Dialect::GitLab),
            "{event}"
        );
    }
    // The installation events exist only in the GitHub dialect.
    assert!(covered(canonical::INSTALLATION, Dialect::GitHub));
    assert!(covered(
        canonical::INSTALLATION_REPOSITORIES,
        Dialect::GitHub
    ));
}

#[test]
fn builders_are_deterministic_and_distinct() {
    let a: Vec<Value> = cases()
        .into_iter()
        .map(|c| c.payload.into_value())
        .collect();
    let b: Vec<Value> = cases()
        .into_iter()
        .map(|c| c.payload.into_value())
        .collect();
    assert_eq!(a, b);
    assert_ne!(push_to(R, "dev"), push(R));
    assert_ne!(
        gitlab::push(R).as_value()["after"],
        gitlab::push_to(R, "dev").as_value()["after"]
    );
    // Both dialects agree on SHAs for the same inputs.
    assert_eq!(
        push(R).as_value()["after"],
        gitlab::push(R).as_value()["after"]
    );
    assert_eq!(
        pull_request(R, 3, "t", "synchronize").as_value()["before"],
        gitlab::merge_request(R, 3, "t", "update").as_value()["object_attributes"]["oldrev"]
    );
}

#[test]
fn the_original_builders_keep_their_bodies() {
    // `push(r)` is `push_to(r, "refs/heads/main")` and keeps the SHAs it always had.
    assert_eq!(push(R).as_value()["before"], sha(&format!("{R}:before")));
    assert_eq!(push(R).as_value()["after"], sha(&format!("{R}:after")));
    assert_eq!(issue_opened(R, 7, "Bug"), issues(R, 7, "Bug", "opened"));
    assert_eq!(
        pull_request_opened(R, 3, "t"),
        pull_request(R, 3, "t", "opened")
    );
    assert_eq!(
        installation_created(14, "acme"),
        installation(14, "acme", "created")
    );
    let comment = issue_comment_created(R, 5, "hi");
    assert_eq!(comment, issue_comment(R, 5, "hi", "created"));
    assert_eq!(
        comment.as_value()["comment"]["id"],
        id_of(&format!("{R}#5:comment:hi"))
    );
}

#[test]
fn odd_inputs_do_not_panic() {
    for name in ["", "no-slash", "a/b/c", "/", "ü/ñ", "a b/c\"d"] {
        for payload in [
            push(name),
            push_to(name, ""),
            push_to(name, "refs/tags/"),
            tag_push(name, ""),
            issues(name, 0, "", ""),
            issue_comment(name, u64::MAX, "", "x"),
            pull_request(name, 0, "", "synchronize"),
            pull_request_merged(name, u64::MAX, ""),
            pull_request_review_comment(name, 0, "", ""),
            commit_comment(name, "", "", ""),
            installation(0, name, "suspend"),
            installation_repositories(0, name, "removed", &[name, "", "/"]),
            gitlab::push(name),
            gitlab::push_to(name, "refs/tags/x"),
            gitlab::tag_push(name, ""),
            gitlab::issue(name, 0, "", "odd"),
            gitlab::merge_request(name, u64::MAX, "", ""),
            gitlab::merge_request_edited(name, 0, ""),
            gitlab::note_on_issue(name, 0, ""),
            gitlab::note_on_merge_request(name, 0, ""),
            gitlab::note_on_commit(name, "", ""),
        ] {
            // Whatever the names, the body stays a JSON object the normaliser accepts.
            assert!(payload.as_value().is_object(), "{name}");
            assert!(
                normalize(Some(payload.event()), payload.as_value()).is_some(),
                "{name}"
            );
        }
    }
    let p = issue_opened("no-slash", 0, "");
    assert_eq!(p.as_value()["repository"]["name"], "no-slash");
}

#[test]
fn captures_still_normalise() {
    for (payload, event, action) in [
        (gitlab_push(), "push", None),
        (gitlab_merge_request_open(), "pull_request", Some("opened")),
        (gitlab_note_on_issue(), "issue_comment", Some("created")),
    ] {
        let n = normalize(Some(payload.event()), payload.as_value()).unwrap();
        assert_eq!((n.event.as_str(), n.action.as_deref()), (event, action));
    }
}
