//! GitLab-shaped bodies: event kinds and the GitHub-shaped view (see `events.md`).

use serde_json::{Map, Value, json};

use super::events::{self, issue_action, pull_request_action};

const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// What a GitLab-shaped delivery is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Push,
    TagPush,
    MergeRequest,
    Issue,
    /// A note; the string is `noteable_type`.
    Note(String),
    /// Anything else, already in snake case.
    Other(String),
}

impl Kind {
    /// From a header value (`Merge Request Hook`, `merge_request`), an `object_kind`
    /// (`merge_request`) or an `event_name` (`merge_request_open`), in any case.
    pub(crate) fn parse(kind: &str, body: &Value) -> Self {
        match snake(kind).as_str() {
            "push" => Self::Push,
            "tag_push" => Self::TagPush,
            "merge_request" | "pull_request" => Self::MergeRequest,
            name if name.starts_with("merge_request_") => Self::MergeRequest,
            "issue" | "issues" | "confidential_issue" => Self::Issue,
            "note" | "confidential_note" => {
                let target = str_at(body, &["object_attributes", "noteable_type"]).unwrap_or("");
                Self::Note(target.to_owned())
            }
            other => Self::Other(other.to_owned()),
        }
    }

    pub(crate) fn canonical_event(&self) -> String {
        match self {
            Self::Push | Self::TagPush => events::PUSH.to_owned(),
            Self::MergeRequest => events::PULL_REQUEST.to_owned(),
            Self::Issue => events::ISSUES.to_owned(),
            Self::Note(target) => match target.as_str() {
                "Issue" => events::ISSUE_COMMENT,
                "MergeRequest" => events::PULL_REQUEST_REVIEW_COMMENT,
                "Commit" => events::COMMIT_COMMENT,
                _ => "note",
            }
            .to_owned(),
            Self::Other(name) => name.clone(),
        }
    }

    pub(crate) fn action(&self, body: &Value) -> Option<String> {
        let raw = str_at(body, &["object_attributes", "action"]);
        let action = match self {
            Self::Push | Self::TagPush => return None,
            Self::MergeRequest => merge_request_verb(body)
                .or(raw)
                .map(|a| merge_request_action(a, body).to_owned()),
            Self::Issue => raw.map(|a| issue_action(a).to_owned()),
            Self::Note(_) => Some("created".to_owned()),
            Self::Other(_) => raw.map(str::to_owned),
        };
        // A GitHub-shaped body sent with a GitLab spelling keeps its own `action`.
        action.or_else(|| str_at(body, &["action"]).map(str::to_owned))
    }

    /// Whether this merge request event merged it (`merge_request_merge` or `action: merge`).
    fn merged(&self, body: &Value) -> bool {
        *self == Self::MergeRequest
            && merge_request_verb(body)
                .or(str_at(body, &["object_attributes", "action"]))
                .is_some_and(|a| a == "merge")
    }
}

/// The snake-case form of an event spelling: `Merge Request Hook` → `merge_request`.
pub(crate) fn snake(kind: &str) -> String {
    let kind = kind.trim();
    let kind = match kind.len().checked_sub(5) {
        Some(cut) if kind.is_char_boundary(cut) && kind[cut..].eq_ignore_ascii_case(" hook") => {
            &kind[..cut]
        }
        _ => kind,
    };
    kind.trim().to_lowercase().replace([' ', '-'], "_")
}

/// Whether `kind` is spelled the way only GitLab-shaped deliveries spell events
/// (`Push Hook`, `tag_push`, `merge_request`, `note`, `issue`, …).
pub(crate) fn is_gitlab_spelling(kind: &str) -> bool {
    let kind = kind.trim();
    kind.to_ascii_lowercase().ends_with(" hook")
        || matches!(
            kind,
            "tag_push"
                | "merge_request"
                | "note"
                | "issue"
                | "confidential_issue"
                | "confidential_note"
        )
}

/// The verb of a merge request's `event_name` (`merge_request_reopen` → `reopen`).
fn merge_request_verb(body: &Value) -> Option<&str> {
    str_at(body, &["event_name"])?
        .trim()
        .strip_prefix("merge_request_")
        .filter(|v| !v.is_empty())
}

/// Keys of `changes` whose change means new commits.
const COMMIT_CHANGES: [&str; 4] = [
    "oldrev",
    "last_commit",
    "latest_merge_request_diff_id",
    "current_patchset_id",
];

/// A GitLab merge request verb as a GitHub action; `update` is `synchronize` when the body
/// names a new commit, else `edited` (see `events.md`).
fn merge_request_action<'a>(verb: &'a str, body: &Value) -> &'a str {
    if verb != "update" {
        return pull_request_action(verb);
    }
    let attrs = body.get("object_attributes").unwrap_or(&Value::Null);
    let oldrev = str_at(attrs, &["oldrev"]).is_some_and(|r| !r.trim().is_empty());
    let new_commit = match body.get("changes").and_then(Value::as_object) {
        // Without a `changes` list nothing says what changed: a head commit counts.
        None => attrs.get("last_commit").is_some_and(Value::is_object),
        Some(changes) => COMMIT_CHANGES.iter().any(|key| {
            changes
                .get(*key)
                .is_some_and(|c| c.get("previous") != c.get("current"))
        }),
    };
    if oldrev || new_commit {
        "synchronize"
    } else {
        "edited"
    }
}

/// The original body with GitHub-style fields added.
pub(crate) fn to_github_shape(kind: &Kind, action: Option<&str>, body: &Value) -> Value {
    let mut out = match body {
        Value::Object(map) => map.clone(),
        _ => return body.clone(),
    };
    if let Some(project) = body.get("project") {
        merge(&mut out, "repository", repository(project));
    }
    let sender = body
        .get("user")
        .map(user)
        .unwrap_or_else(|| push_user(body));
    if sender.as_object().is_some_and(|s| !s.is_empty()) {
        merge(&mut out, "sender", sender.clone());
    }
    if let Some(action) = action {
        out.insert("action".into(), action.into());
    }
    let attrs = body.get("object_attributes").unwrap_or(&Value::Null);
    match kind {
        Kind::Push | Kind::TagPush => push_fields(&mut out, body),
        Kind::MergeRequest => {
            let pr = pull_request(attrs, kind.merged(body));
            if let Some(number) = pr.get("number") {
                out.insert("number".into(), number.clone());
            }
            merge(&mut out, "pull_request", pr);
        }
        Kind::Issue => merge(&mut out, "issue", issue(attrs)),
        Kind::Note(target) => {
            let comment = json!({
                "id": attrs.get("id"),
                "body": attrs.get("note"),
                "html_url": attrs.get("url"),
                "user": sender,
                "commit_id": attrs.get("commit_id"),
                "created_at": attrs.get("created_at"),
                "updated_at": attrs.get("updated_at"),
            });
            merge(&mut out, "comment", comment);
            match target.as_str() {
                "Issue" => {
                    if let Some(i) = body.get("issue") {
                        merge(&mut out, "issue", issue(i));
                    }
                }
                "MergeRequest" => {
                    if let Some(mr) = body.get("merge_request") {
                        merge(&mut out, "pull_request", pull_request(mr, false));
                    }
                }
                _ => {}
            }
        }
        Kind::Other(_) => {}
    }
    Value::Object(out)
}

fn push_fields(out: &mut Map<String, Value>, body: &Value) {
    let name = str_at(body, &["user_username"]).or(str_at(body, &["user_name"]));
    out.insert(
        "pusher".into(),
        json!({ "name": name, "email": body.get("user_email") }),
    );
    let before = str_at(body, &["before"]).unwrap_or("");
    let after = str_at(body, &["after"]).unwrap_or("");
    out.insert("created".into(), (before == ZERO_SHA).into());
    out.insert("deleted".into(), (after == ZERO_SHA).into());
    let head = body
        .get("commits")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| str_at(c, &["id"]) == Some(after)));
    if let Some(head) = head {
        out.insert("head_commit".into(), head.clone());
    }
}

/// A GitLab `project` as a GitHub `repository` (`owner/name` from `path_with_namespace`,
/// else `namespace` and `path`).
pub(crate) fn repository(project: &Value) -> Value {
    let full_name = str_at(project, &["path_with_namespace"])
        .filter(|f| f.contains('/'))
        .map(str::to_owned)
        .or_else(|| {
            let namespace = str_at(project, &["namespace"]).filter(|n| !n.is_empty())?;
            let path = str_at(project, &["path"])
                .or(str_at(project, &["name"]))
                .filter(|p| !p.is_empty())?;
            Some(format!("{namespace}/{path}"))
        });
    let owner = full_name
        .as_deref()
        .and_then(|f| f.split('/').next())
        .map(str::to_owned);
    let name = project
        .get("name")
        .filter(|n| !n.is_null())
        .cloned()
        .or_else(|| {
            full_name
                .as_deref()
                .and_then(|f| f.rsplit('/').next())
                .map(Value::from)
        });
    let private = match (project.get("private"), project.get("public")) {
        (Some(p), _) if !p.is_null() => p.clone(),
        (_, Some(Value::Bool(public))) => Value::Bool(!public),
        (_, Some(Value::Number(public))) => Value::Bool(public.as_u64() == Some(0)),
        _ => project
            .get("visibility_level")
            .and_then(Value::as_i64)
            .map(|v| Value::Bool(v != 20))
            .unwrap_or(Value::Null),
    };
    json!({
        "id": project.get("id"),
        "name": name,
        "full_name": full_name,
        "path_with_namespace": full_name,
        "html_url": project.get("web_url"),
        "clone_url": project.get("git_http_url"),
        "ssh_url": project.get("git_ssh_url"),
        "default_branch": project.get("default_branch"),
        "description": project.get("description"),
        "private": private,
        "archived": project.get("archived"),
        "owner": { "login": owner, "path": owner },
    })
}

/// Adds the keys of `view` that `existing` lacks (or has as `null`); nested objects likewise.
pub(crate) fn fill_missing(existing: &mut Map<String, Value>, view: Value) {
    let Value::Object(view) = view else { return };
    for (key, value) in view {
        match (existing.get_mut(&key), value) {
            (Some(Value::Object(inner)), Value::Object(new)) => {
                fill_missing(inner, Value::Object(new));
            }
            (Some(v), _) if !v.is_null() && v.as_str() != Some("") => {}
            (_, value) if value.is_null() => {}
            (_, value) => {
                existing.insert(key, value);
            }
        }
    }
}

/// A GitLab `user`/`author` as a GitHub user.
fn user(u: &Value) -> Value {
    json!({
        "id": u.get("id"),
        "login": u.get("username"),
        "name": u.get("name"),
        "email": u.get("email"),
        "avatar_url": u.get("avatar_url"),
    })
}

/// The pusher of a GitLab push (`user_*` fields) as a GitHub user.
fn push_user(body: &Value) -> Value {
    match str_at(body, &["user_username"]).or(str_at(body, &["user_name"])) {
        Some(login) => json!({
            "id": body.get("user_id"),
            "login": login,
            "name": body.get("user_name"),
            "email": body.get("user_email"),
            "avatar_url": body.get("user_avatar"),
        }),
        None => json!({}),
    }
}

fn state(s: Option<&str>) -> Option<&'static str> {
    s.map(|s| if s == "opened" { "open" } else { "closed" })
}

fn pull_request(attrs: &Value, merged_by_action: bool) -> Value {
    let merged = merged_by_action || str_at(attrs, &["state"]) == Some("merged");
    let state = if merged {
        Some("closed")
    } else {
        state(str_at(attrs, &["state"]))
    };
    // Passed on as sent (`true`, `1`, …): the model reads booleans leniently.
    let draft = attrs
        .get("work_in_progress")
        .or(attrs.get("draft"))
        .filter(|d| !d.is_null())
        .cloned()
        .unwrap_or(Value::Bool(false));
    json!({
        "id": attrs.get("id"),
        "number": attrs.get("iid"),
        "title": attrs.get("title"),
        "body": attrs.get("description"),
        "state": state,
        "merged": merged,
        "draft": draft,
        "html_url": attrs.get("url"),
        "head": {
            "ref": attrs.get("source_branch"),
            "sha": attrs.get("last_commit").and_then(|c| c.get("id")),
            "repo": attrs.get("source").map(repository),
        },
        "base": {
            "ref": attrs.get("target_branch"),
            "repo": attrs.get("target").map(repository),
        },
        "user": attrs.get("author").map(user),
        "created_at": attrs.get("created_at"),
        "updated_at": attrs.get("updated_at"),
        "merge_commit_sha": attrs.get("merge_commit_sha"),
    })
}

fn issue(attrs: &Value) -> Value {
    json!({
        "id": attrs.get("id"),
        "number": attrs.get("iid"),
        "title": attrs.get("title"),
        "body": attrs.get("description"),
        "state": state(str_at(attrs, &["state"])),
        "html_url": attrs.get("url"),
        "user": attrs.get("author").map(user),
        "created_at": attrs.get("created_at"),
        "updated_at": attrs.get("updated_at"),
    })
}

/// Sets `key` to `value`, merging one level deep into an existing object (where nulls do not
/// overwrite).
fn merge(out: &mut Map<String, Value>, key: &str, value: Value) {
    match (out.get_mut(key), value) {
        (Some(Value::Object(existing)), Value::Object(new)) => {
            existing.extend(new.into_iter().filter(|(_, v)| !v.is_null()));
        }
        (_, value) => {
            out.insert(key.to_owned(), value);
        }
    }
}

/// The string at a path of object keys.
pub(crate) fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_str()
}
