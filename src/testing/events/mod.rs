//! Webhook bodies for tests: every canonical event in both dialects, and real captures.
//!
//! A builder returns a [`Payload`]: a body plus the event header value to send it with.
//! GitHub-dialect builders live at the top of this module and are named after the event
//! (`events::issues`); GitLab-dialect builders live in [`gitlab`] and are named after the
//! GitLab hook (`events::gitlab::issue`). Every builder takes the repository's full name
//! (`owner/name`) first and, where the event has one, the action last: the GitHub action
//! (`opened`, `closed`, …) for GitHub builders, the GitLab verb (`open`, `close`, …) for
//! GitLab ones. The body follows the action (a closed issue has `state: closed`, a
//! synchronized pull request a new head), and ids and SHAs are derived from the inputs, so
//! the same call always gives the same body.
//!
//! GitHub-dialect bodies have the platform's real shapes (AtomGit-Hookshot, 24-hex string
//! ids, `0`/`1` booleans; comment ids numeric); GitLab-dialect ones the GitCode stack's
//! (`object_kind`, `object_attributes`, `project`, `user`, `event_name`; numeric ids).
//! Neither carries an `installation` object (platform deliveries often have none) unless
//! you add one with [`Payload::installation`]; the `installation*` events carry theirs.
//!
//! [`gitlab_push`], [`gitlab_merge_request_open`] and [`gitlab_note_on_issue`] are
//! deliveries captured from the GitCode stack (`tests/fixtures/payloads/`). Send GitLab
//! bodies with [`DeliveryOptions::gitcode`](crate::testing::DeliveryOptions::gitcode).
//!
//! # Every canonical event
//!
//! What a bot registers (see [`webhook::events`](crate::webhook::events)) and the builders
//! that produce it; `r` is `"owner/name"`, `n` a number, `t` a title, `b` a comment body.
//!
//! | canonical event.action | GitHub dialect | GitLab dialect ([`gitlab`]) |
//! |---|---|---|
//! | `push` (branch) | [`push`]`(r)`, [`push_to`]`(r, "dev")` | [`gitlab::push`]`(r)`, [`gitlab::push_to`]`(r, "dev")`, [`gitlab_push`] |
//! | `push` (tag, [`is_tag_push`](crate::webhook::Delivery::is_tag_push)) | [`tag_push`]`(r, "v1")`, [`push_to`]`(r, "refs/tags/v1")` | [`gitlab::tag_push`]`(r, "v1")` (`Tag Push Hook`) |
//! | `issues.opened` | [`issues`]`(r, n, t, "opened")`, [`issue_opened`] | [`gitlab::issue`]`(r, n, t, "open")` |
//! | `issues.edited` | [`issues`]`(r, n, t, "edited")` | [`gitlab::issue`]`(r, n, t, "update")` |
//! | `issues.closed` | [`issues`]`(r, n, t, "closed")` | [`gitlab::issue`]`(r, n, t, "close")` |
//! | `issues.reopened` | [`issues`]`(r, n, t, "reopened")` | [`gitlab::issue`]`(r, n, t, "reopen")` |
//! | `issues.labeled`, `.unlabeled`, `.assigned`, `.unassigned`, … | [`issues`]`(r, n, t, "labeled")` … | none (GitLab sends these as `update`) |
//! | `issue_comment.created` | [`issue_comment`]`(r, n, b, "created")`, [`issue_comment_created`] | [`gitlab::note_on_issue`]`(r, n, b)`, [`gitlab_note_on_issue`] |
//! | `issue_comment.edited`, `.deleted` | [`issue_comment`]`(r, n, b, "edited")` … | none |
//! | `pull_request.opened` | [`pull_request`]`(r, n, t, "opened")`, [`pull_request_opened`] | [`gitlab::merge_request`]`(r, n, t, "open")`, [`gitlab_merge_request_open`] |
//! | `pull_request.synchronize` | [`pull_request`]`(r, n, t, "synchronize")` | [`gitlab::merge_request`]`(r, n, t, "update")` (new commit) |
//! | `pull_request.edited` | [`pull_request`]`(r, n, t, "edited")` | [`gitlab::merge_request_edited`]`(r, n, t)` (`update`, no new commit) |
//! | `pull_request.closed` | [`pull_request`]`(r, n, t, "closed")` | [`gitlab::merge_request`]`(r, n, t, "close")` |
//! | `pull_request.closed`, `merged` | [`pull_request_merged`]`(r, n, t)` | [`gitlab::merge_request`]`(r, n, t, "merge")` |
//! | `pull_request.reopened` | [`pull_request`]`(r, n, t, "reopened")` | [`gitlab::merge_request`]`(r, n, t, "reopen")` |
//! | `pull_request_review_comment.created` | [`pull_request_review_comment`]`(r, n, b, "created")` | [`gitlab::note_on_merge_request`]`(r, n, b)` |
//! | `commit_comment.created` | [`commit_comment`]`(r, sha, b, "created")` | [`gitlab::note_on_commit`]`(r, sha, b)` |
//! | `installation.created`, `.deleted`, `.suspend`, `.unsuspend` | [`installation`]`(id, owner, "created")` …, [`installation_created`] | none (no GitLab form) |
//! | `installation_repositories.added`, `.removed` | [`installation_repositories`]`(id, owner, "added", &["app"])` | none |
//!
//! # Example
//! ```
//! use atombot::testing::events::{self, gitlab};
//! use atombot::webhook::events::normalize;
//!
//! // One handler for `pull_request.closed`, fed by both dialects.
//! for payload in [
//!     events::pull_request_merged("acme/app", 3, "Add CI"),
//!     gitlab::merge_request("acme/app", 3, "Add CI", "merge"),
//! ] {
//!     let n = normalize(Some(payload.event()), payload.as_value()).unwrap();
//!     assert_eq!((n.event.as_str(), n.action.as_deref()), ("pull_request", Some("closed")));
//! }
//!
//! let push = events::push("acme/app").installation(14);
//! assert_eq!(push.event(), "push");
//! assert_eq!(push.as_value()["repository"]["owner"]["login"], "acme");
//! assert_eq!(gitlab::tag_push("acme/app", "v1").event(), "Tag Push Hook");
//!
//! let mr = events::gitlab_merge_request_open();
//! assert_eq!(mr.event(), "Merge Request Hook");
//! ```

mod captured;
mod github;
pub mod gitlab;
mod payload;
#[cfg(test)]
mod tests;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[doc(inline)]
pub use captured::{gitlab_merge_request_open, gitlab_note_on_issue, gitlab_push};
#[doc(inline)]
pub use github::{
    commit_comment, installation, installation_created, installation_repositories, issue_comment,
    issue_comment_created, issue_opened, issues, pull_request, pull_request_merged,
    pull_request_opened, pull_request_review_comment, push, push_to, tag_push,
};
#[doc(inline)]
pub use payload::Payload;

/// Web host used in `html_url` fields.
const WEB: &str = "https://atomgit.com";
/// Login of the user who acts in built payloads.
const ACTOR: &str = "atomgit-dev";
/// A fixed time for `created_at`/`timestamp` fields.
const TIME: &str = "2025-01-02T03:04:05+08:00";
/// The earlier title or body in `changes` of an edit.
const EARLIER: &str = "Earlier text";
/// The SHA of a ref that did not exist (before a create, after a delete).
const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// `git_ref` as a full ref: unchanged when it starts with `refs/`, else a branch.
fn full_ref(git_ref: &str) -> String {
    if git_ref.starts_with("refs/") {
        git_ref.to_owned()
    } else {
        format!("refs/heads/{git_ref}")
    }
}

/// The seed of a ref's SHAs: the repository for `main` (as before refs were a parameter),
/// else the repository and the ref.
fn ref_seed(full_name: &str, git_ref: &str) -> String {
    if git_ref == "refs/heads/main" {
        full_name.to_owned()
    } else {
        format!("{full_name}@{git_ref}")
    }
}

/// The head commit of `git_ref` after a built push (the base of built pull requests).
fn branch_head(full_name: &str, git_ref: &str) -> String {
    sha(&format!("{}:after", ref_seed(full_name, git_ref)))
}

/// The head commit of pull (merge) request `number`.
fn pr_head(full_name: &str, number: u64) -> String {
    sha(&format!("{full_name}!{number}:head"))
}

/// The head of pull (merge) request `number` before the push a `synchronize` reports.
fn pr_head_before_push(full_name: &str, number: u64) -> String {
    sha(&format!("{full_name}!{number}:head:before"))
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
