//! GitLab-dialect builders: GitCode stack shapes (`object_kind`, `object_attributes`,
//! `project`, `user`, `event_name`), sent with `Push Hook`, `Tag Push Hook`, `Issue Hook`,
//! `Merge Request Hook` or `Note Hook`.
//!
//! Shaped like the captures in `tests/fixtures/payloads/` (numeric ids as the GitCode stack
//! sends them, `visibility_level`, `uuid`, `changes`), with ids and SHAs derived from the
//! inputs so the same call gives the same body, and the same SHAs as the GitHub-dialect
//! builder for the same inputs. Actions are the GitLab verbs (`open`, `update`, `close`,
//! `reopen`, `merge`); the [module table](super#every-canonical-event) says which canonical
//! action each one becomes. Send a body with another spelling of its event (`merge_request`,
//! `note`, …) with [`Payload::with_event`].
//!
//! # Example
//! ```
//! use atombot::testing::events::gitlab;
//!
//! let mr = gitlab::merge_request("acme/app", 3, "Add CI", "merge");
//! assert_eq!(mr.event(), "Merge Request Hook");
//! assert_eq!(mr.as_value()["event_name"], "merge_request_merge");
//! assert_eq!(mr.as_value()["object_attributes"]["state"], "merged");
//! ```

mod objects;

use serde_json::{Value, json};

use super::{
    ACTOR, EARLIER, Payload, TIME, WEB, ZERO_SHA, branch_head, full_ref, id_of,
    pr_head_before_push, ref_seed, sha,
};
use objects::{commit, issue_object, merge_request_object, project, repository, user, uuid};

/// `Push Hook`: one commit pushed to `refs/heads/main` of `full_name` (`owner/name`).
///
/// The same as [`push_to`]`(full_name, "refs/heads/main")`.
pub fn push(full_name: &str) -> Payload {
    push_to(full_name, "refs/heads/main")
}

/// A push to `git_ref` of `full_name`: a full ref (`refs/heads/dev`, `refs/tags/v1`) or a
/// branch name (`dev`).
///
/// A branch push is a `Push Hook` (`object_kind: push`) with one commit; a tag push
/// (`refs/tags/…`) is a `Tag Push Hook` (`object_kind: tag_push`) creating the tag on the
/// head of `main` (`before` all zeros, no `commits`).
pub fn push_to(full_name: &str, git_ref: &str) -> Payload {
    let git_ref = full_ref(git_ref);
    let tag = git_ref.starts_with("refs/tags/");
    let (before, after) = if tag {
        (
            ZERO_SHA.to_owned(),
            branch_head(full_name, "refs/heads/main"),
        )
    } else {
        (
            sha(&format!("{}:before", ref_seed(full_name, &git_ref))),
            branch_head(full_name, &git_ref),
        )
    };
    let commits = if tag {
        json!([])
    } else {
        json!([commit(full_name, &after, "Update README.md\n")])
    };
    let (header, kind) = if tag {
        ("Tag Push Hook", "tag_push")
    } else {
        ("Push Hook", "push")
    };
    let short = git_ref
        .strip_prefix("refs/heads/")
        .or(git_ref.strip_prefix("refs/tags/"))
        .unwrap_or(&git_ref)
        .to_owned();
    let user_id = id_of(ACTOR);
    Payload::new(
        header,
        json!({
            "object_kind": kind,
            "event_name": kind,
            "before": before,
            "after": after,
            "ref": git_ref,
            "base_ref": null,
            "checkout_sha": after,
            "message": "",
            "user_id": user_id,
            "user_name": ACTOR,
            "user_username": ACTOR,
            "user_email": format!("{ACTOR}@example.com"),
            "user_avatar": null,
            "project_id": id_of(full_name),
            "project": project(full_name),
            "commits": commits,
            "total_commits_count": u8::from(!tag),
            "push_options": [],
            "repository": repository(full_name),
            "git_branch": short,
            "git_commit_no": after,
            "manual_build": false,
            "extend_attributes": null,
            "uuid": uuid(&format!("{full_name}:{git_ref}:push")),
        }),
    )
}

/// A `Tag Push Hook`: [`push_to`]`(full_name, "refs/tags/<tag>")`.
pub fn tag_push(full_name: &str, tag: &str) -> Payload {
    push_to(full_name, &format!("refs/tags/{tag}"))
}

/// `Issue Hook`: issue `number` titled `title` in `full_name`, with GitLab verb `action`
/// (`open`, `update`, `close`, `reopen`; others are sent as given).
///
/// `close` closes the issue (`state: closed`, `closed_at`); `update` lists a title change in
/// `changes`.
pub fn issue(full_name: &str, number: u64, title: &str, action: &str) -> Payload {
    let closed = action == "close";
    let mut attrs = issue_object(full_name, number, title, closed);
    attrs["action"] = action.into();
    let changes = match action {
        "open" => json!({ "title": { "previous": null, "current": title } }),
        "update" => json!({ "title": { "previous": EARLIER, "current": title } }),
        "close" => json!({ "state": { "previous": "opened", "current": "closed" } }),
        "reopen" => json!({ "state": { "previous": "closed", "current": "opened" } }),
        _ => json!({}),
    };
    Payload::new(
        "Issue Hook",
        json!({
            "object_kind": "issue",
            "event_type": "issue",
            "user": user(),
            "project": project(full_name),
            "object_attributes": attrs,
            "repository": repository(full_name),
            "labels": [],
            "assignees": [],
            "changes": changes,
            "manual_build": false,
            "extend_attributes": null,
            "uuid": uuid(&format!("{full_name}#{number}:issue:{action}")),
        }),
    )
}

/// `Merge Request Hook`: merge request `number` (`feature` into `main`) titled `title`,
/// with GitLab verb `action`, also sent as `event_name: merge_request_<action>`.
///
/// `open`, `reopen`, `close` and `merge` set the state to match (`opened`, `closed`,
/// `merged`, with `merge_commit_sha` for a merge); `update` is a push of a new commit to
/// the source branch (`oldrev` is the earlier head); for an update that changes only the
/// title see [`merge_request_edited`]. Other verbs are sent as given on an open request.
pub fn merge_request(full_name: &str, number: u64, title: &str, action: &str) -> Payload {
    let mut attrs = merge_request_object(full_name, number, title);
    attrs["action"] = action.into();
    let state = |from: &str, to: &str| json!({ "state": { "previous": from, "current": to } });
    let changes = match action {
        "open" => json!({
            "iid": { "previous": null, "current": number },
            "title": { "previous": null, "current": title },
            "state": { "previous": null, "current": "opened" },
        }),
        "update" => {
            let oldrev = pr_head_before_push(full_name, number);
            attrs["oldrev"] = oldrev.clone().into();
            json!({ "updated_at": { "previous": EARLIER_TIME, "current": TIME } })
        }
        "close" => {
            attrs["state"] = "closed".into();
            state("opened", "closed")
        }
        "merge" => {
            attrs["state"] = "merged".into();
            attrs["merge_commit_sha"] = sha(&format!("{full_name}!{number}:merge")).into();
            attrs["merge_user_id"] = id_of(ACTOR).into();
            state("opened", "merged")
        }
        "reopen" => state("closed", "opened"),
        _ => json!({}),
    };
    merge_request_payload(full_name, number, action, attrs, changes)
}

/// `Merge Request Hook` with verb `update` and no new commit: the title of merge request
/// `number` changed to `title` (`changes.title`, empty `oldrev`).
pub fn merge_request_edited(full_name: &str, number: u64, title: &str) -> Payload {
    let mut attrs = merge_request_object(full_name, number, title);
    attrs["action"] = "update".into();
    let changes = json!({
        "title": { "previous": EARLIER, "current": title },
        "updated_at": { "previous": EARLIER_TIME, "current": TIME },
    });
    merge_request_payload(full_name, number, "update", attrs, changes)
}

/// `Note Hook`: a comment saying `body` on issue `number` (`noteable_type: Issue`).
pub fn note_on_issue(full_name: &str, number: u64, body: &str) -> Payload {
    let url = format!("{WEB}/{full_name}/issues/{number}");
    let target = issue_object(full_name, number, &format!("Issue #{number}"), false);
    let seed = format!("{full_name}#{number}:note:{body}");
    note(full_name, body, "Issue", &url, &seed, ("issue", target))
}

/// `Note Hook`: a comment saying `body` on merge request `number`
/// (`noteable_type: MergeRequest`).
pub fn note_on_merge_request(full_name: &str, number: u64, body: &str) -> Payload {
    let url = format!("{WEB}/{full_name}/merge_requests/{number}");
    let target = merge_request_object(full_name, number, &format!("Merge request !{number}"));
    let seed = format!("{full_name}!{number}:note:{body}");
    note(
        full_name,
        body,
        "MergeRequest",
        &url,
        &seed,
        ("merge_request", target),
    )
}

/// `Note Hook`: a comment saying `body` on commit `commit_id` (`noteable_type: Commit`), e.g.
/// `push(full_name)`'s `after`.
pub fn note_on_commit(full_name: &str, commit_id: &str, body: &str) -> Payload {
    let url = format!("{WEB}/{full_name}/commits/detail/{commit_id}");
    let target = commit(full_name, commit_id, "Update README.md\n");
    let seed = format!("{full_name}@{commit_id}:note:{body}");
    let mut payload = note(full_name, body, "Commit", &url, &seed, ("commit", target));
    payload = payload.set("/object_attributes/commit_id", commit_id);
    payload
}

/// The `updated_at` before a change.
const EARLIER_TIME: &str = "2025-01-01T03:04:05+08:00";

fn merge_request_payload(
    full_name: &str,
    number: u64,
    action: &str,
    attrs: Value,
    changes: Value,
) -> Payload {
    Payload::new(
        "Merge Request Hook",
        json!({
            "object_kind": "merge_request",
            "event_type": "merge_request",
            "event_name": format!("merge_request_{action}"),
            "user": user(),
            "project": project(full_name),
            "object_attributes": attrs,
            "repository": repository(full_name),
            "labels": [],
            "issues": [],
            "changes": changes,
            "git_branch": "",
            "git_commit_no": "",
            "git_target_branch_commit_no": branch_head(full_name, "refs/heads/main"),
            "virtual_merge_build": false,
            "manual_build": false,
            "extend_attributes": null,
            "uuid": format!("{number}_{}", uuid(&format!("{full_name}!{number}:{action}"))),
        }),
    )
}

fn note(
    full_name: &str,
    body: &str,
    noteable_type: &str,
    target_url: &str,
    seed: &str,
    (target_key, target): (&str, Value),
) -> Payload {
    let discussion = sha(&format!("{seed}:discussion"));
    let user_id = id_of(ACTOR);
    let project_id = id_of(full_name);
    let mut value = json!({
        "object_kind": "note",
        "event_type": "note",
        "user": user(),
        "project_id": project_id,
        "project": project(full_name),
        "object_attributes": {
            "id": id_of(seed),
            "note": body,
            "description": body,
            "noteable_type": noteable_type,
            "noteable_id": target.get("id").cloned().unwrap_or(Value::Null),
            "author_id": user_id,
            "commit_id": null,
            "discussion_id": discussion,
            "project_id": project_id,
            "type": "DiscussionNote",
            "system": false,
            "attachment": null,
            "line_code": null,
            "position": {},
            "original_position": {},
            "change_position": {},
            "st_diff": null,
            "resolved_at": null,
            "resolved_by_id": null,
            "resolved_by_push": null,
            "created_at": TIME,
            "updated_at": TIME,
            "updated_by_id": null,
            "url": format!("{target_url}#note_{discussion}"),
        },
        "repository": repository(full_name),
        "manual_build": false,
        "extend_attributes": null,
        "produce_random_id": uuid(&format!("{seed}:random")),
        "uuid": uuid(seed),
    });
    value[target_key] = target;
    Payload::new("Note Hook", value)
}
