//! Webhook bodies for tests: GitHub-shaped builders and real GitLab-shaped captures.
//!
//! The builders ([`push`], [`issue_opened`], [`issue_comment_created`],
//! [`pull_request_opened`], [`installation_created`]) return a [`Payload`] shaped like an
//! AtomGit-Hookshot delivery in the platform's real shapes (24-hex string ids, `0`/`1`
//! booleans; comment ids numeric), with ids and SHAs derived from the inputs so the same
//! call gives the same body. They carry no `installation` object unless you add one with
//! [`Payload::installation`] (platform deliveries often have none).
//!
//! [`gitlab_push`], [`gitlab_merge_request_open`] and [`gitlab_note_on_issue`] are
//! deliveries captured from the GitCode stack (`tests/fixtures/payloads/`), to send with
//! [`DeliveryOptions::gitcode`](crate::testing::DeliveryOptions::gitcode).
//!
//! # Example
//! ```
//! use atombot::testing::events;
//!
//! let push = events::push("acme/app").installation(14);
//! assert_eq!(push.event(), "push");
//! assert_eq!(push.as_value()["repository"]["owner"]["login"], "acme");
//!
//! let mr = events::gitlab_merge_request_open();
//! assert_eq!(mr.event(), "Merge Request Hook");
//! ```

mod gitlab;
mod payload;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[doc(inline)]
pub use gitlab::{gitlab_merge_request_open, gitlab_note_on_issue, gitlab_push};
#[doc(inline)]
pub use payload::Payload;

/// Web host used in `html_url` fields.
const WEB: &str = "https://atomgit.com";
/// Login of the user who acts in built payloads.
const ACTOR: &str = "atomgit-dev";
/// A fixed time for `created_at`/`timestamp` fields.
const TIME: &str = "2025-01-02T03:04:05+08:00";

/// A `push` of one commit to `refs/heads/main` of `full_name` (`owner/name`).
pub fn push(full_name: &str) -> Payload {
    let before = sha(&format!("{full_name}:before"));
    let after = sha(&format!("{full_name}:after"));
    let commit = json!({
        "id": after,
        "tree_id": sha(&format!("{full_name}:tree")),
        "message": "Update README.md",
        "timestamp": TIME,
        "url": format!("{WEB}/{full_name}/commit/{after}"),
        "author": author(),
        "committer": author(),
        "added": [],
        "removed": [],
        "modified": ["README.md"],
    });
    Payload::new(
        "push",
        json!({
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "created": 0,
            "deleted": 0,
            "forced": false,
            "base_ref": null,
            "compare": format!("{WEB}/{full_name}/compare/{}...{}", &before[..12], &after[..12]),
            "commits": [commit.clone()],
            "head_commit": commit,
            "repository": repository(full_name),
            "pusher": { "name": ACTOR, "email": format!("{ACTOR}@example.com") },
            "sender": user(ACTOR),
        }),
    )
}

/// `issues` with action `opened`: issue `number` titled `title` in `full_name`.
pub fn issue_opened(full_name: &str, number: u64, title: &str) -> Payload {
    Payload::new(
        "issues",
        json!({
            "action": "opened",
            "issue": issue(full_name, number, title),
            "repository": repository(full_name),
            "sender": user(ACTOR),
        }),
    )
}

/// `issue_comment` with action `created`: a comment saying `body` on issue `number`.
pub fn issue_comment_created(full_name: &str, number: u64, body: &str) -> Payload {
    let comment_id = id_of(&format!("{full_name}#{number}:comment:{body}"));
    Payload::new(
        "issue_comment",
        json!({
            "action": "created",
            "issue": issue(full_name, number, &format!("Issue #{number}")),
            "comment": {
                "id": comment_id,
                "body": body,
                "html_url": format!("{WEB}/{full_name}/issues/{number}#note_{comment_id}"),
                "user": user(ACTOR),
                "created_at": TIME,
                "updated_at": TIME,
            },
            "repository": repository(full_name),
            "sender": user(ACTOR),
        }),
    )
}

/// `pull_request` with action `opened`: `feature` into `main`, number `number`.
pub fn pull_request_opened(full_name: &str, number: u64, title: &str) -> Payload {
    let repo = repository(full_name);
    Payload::new(
        "pull_request",
        json!({
            "action": "opened",
            "number": number,
            "pull_request": {
                "id": hex_of(&format!("{full_name}!{number}")),
                "number": number,
                "title": title,
                "body": "",
                "state": "open",
                "merged": 0,
                "draft": 0,
                "html_url": format!("{WEB}/{full_name}/pull/{number}"),
                "head": {
                    "ref": "feature",
                    "sha": sha(&format!("{full_name}!{number}:head")),
                    "repo": repo.clone(),
                },
                "base": {
                    "ref": "main",
                    "sha": sha(&format!("{full_name}:after")),
                    "repo": repo.clone(),
                },
                "user": user(ACTOR),
                "labels": [],
                "created_at": TIME,
                "updated_at": TIME,
                "merged_at": null,
                "merge_commit_sha": null,
            },
            "repository": repo,
            "sender": user(ACTOR),
        }),
    )
}

/// `installation` with action `created`: the app installed on `account_path`, all
/// repositories. Carries its `installation` object by nature.
pub fn installation_created(installation_id: u64, account_path: &str) -> Payload {
    Payload::new(
        "installation",
        json!({
            "action": "created",
            "installation": {
                "id": installation_id,
                "app_id": 75,
                "app_slug": "atombot-sim",
                "account": {
                    "id": hex_of(account_path),
                    "login": account_path,
                    "path": account_path,
                    "type": "Organization",
                },
                "repository_selection": "all",
                "events": ["push", "issues", "issue_comment", "pull_request"],
                "permissions": { "issues": "write", "pull_requests": "write", "contents": "read" },
                "created_at": TIME,
                "updated_at": TIME,
            },
            "repositories": [],
            "sender": user(ACTOR),
        }),
    )
}

/// A GitHub-shaped repository for `owner/name` (no `/`: owner and name are both the input).
fn repository(full_name: &str) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, full_name));
    json!({
        "id": hex_of(full_name),
        "name": name,
        "full_name": full_name,
        "owner": {
            "id": hex_of(owner),
            "login": owner,
            "path": owner,
            "type": "Organization",
        },
        "private": 0,
        "html_url": format!("{WEB}/{full_name}"),
        "clone_url": format!("{WEB}/{full_name}.git"),
        "default_branch": "main",
        "description": null,
    })
}

fn issue(full_name: &str, number: u64, title: &str) -> Value {
    json!({
        "id": hex_of(&format!("{full_name}#{number}")),
        "number": number,
        "title": title,
        "body": "",
        "state": "open",
        "html_url": format!("{WEB}/{full_name}/issues/{number}"),
        "user": user(ACTOR),
        "labels": [],
        "assignees": [],
        "created_at": TIME,
        "updated_at": TIME,
        "closed_at": null,
    })
}

fn user(login: &str) -> Value {
    json!({
        "id": hex_of(login),
        "login": login,
        "name": login,
        "html_url": format!("{WEB}/{login}"),
        "type": "User",
    })
}

fn author() -> Value {
    json!({ "name": ACTOR, "email": format!("{ACTOR}@example.com"), "username": ACTOR })
}

/// A 40-hex SHA-like string derived from `seed`.
fn sha(seed: &str) -> String {
    let mut hex = hex::encode(Sha256::digest(seed.as_bytes()));
    hex.truncate(40);
    hex
}

/// A stable 24-hex id (the platform's form for users, repositories, issues and pull
/// requests) derived from `seed`.
fn hex_of(seed: &str) -> String {
    let mut hex = hex::encode(Sha256::digest(format!("id:{seed}").as_bytes()));
    hex.truncate(24);
    hex
}

/// A stable id in 1_000..1_000_000_000 derived from `seed`.
fn id_of(seed: &str) -> u64 {
    let digest = Sha256::digest(seed.as_bytes());
    let n = u64::from_be_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ]);
    1_000 + n % 999_999_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::InstallationId;
    use crate::models::webhook::EventPayload;

    #[test]
    fn builders_decode_into_the_typed_payloads() {
        let push = push("acme/app");
        let EventPayload::Push(p) = EventPayload::from_value("push", push.as_value()).unwrap()
        else {
            panic!("not a push")
        };
        assert_eq!(p.branch(), Some("main"));
        assert_eq!(p.commits.len(), 1);
        assert_eq!(p.repository.owner.login, "acme");
        assert!(p.installation.is_none());

        let pr = pull_request_opened("acme/app", 3, "Add CI").installation(14);
        let EventPayload::PullRequest(p) =
            EventPayload::from_value(pr.event(), pr.as_value()).unwrap()
        else {
            panic!("not a pull request")
        };
        assert_eq!(
            (p.action.as_str(), p.number(), p.pull_request.title.as_str()),
            ("opened", 3, "Add CI")
        );
        assert_eq!(p.installation.map(|i| i.id), Some(InstallationId(14)));

        let c = issue_comment_created("acme/app", 5, "/label bug");
        let EventPayload::IssueComment(c) =
            EventPayload::from_value(c.event(), c.as_value()).unwrap()
        else {
            panic!("not a comment")
        };
        assert_eq!((c.issue.number, c.comment.body.as_str()), (5, "/label bug"));

        let i = installation_created(14, "acme");
        let EventPayload::Installation(i) =
            EventPayload::from_value(i.event(), i.as_value()).unwrap()
        else {
            panic!("not an installation")
        };
        assert_eq!(
            (i.installation.id, i.installation.account.path_or_login()),
            (InstallationId(14), "acme")
        );

        let o = issue_opened("acme/app", 7, "Bug");
        assert!(matches!(
            EventPayload::from_value(o.event(), o.as_value()).unwrap(),
            EventPayload::Issues(_)
        ));
    }

    #[test]
    fn odd_names_do_not_panic() {
        let p = push("");
        assert_eq!(p.as_value()["repository"]["full_name"], "");
        let p = issue_opened("no-slash", 0, "");
        assert_eq!(p.as_value()["repository"]["name"], "no-slash");
        assert_eq!(push("a/b"), push("a/b"));
    }
}
