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
    /// From a header value (`Merge Request Hook`) or an `object_kind` (`merge_request`).
    pub(crate) fn parse(kind: &str, body: &Value) -> Self {
        match kind {
            "Push Hook" | "push" => Self::Push,
            "Tag Push Hook" | "tag_push" => Self::TagPush,
            "Merge Request Hook" | "merge_request" => Self::MergeRequest,
            "Issue Hook" | "Confidential Issue Hook" | "issue" | "confidential_issue" => {
                Self::Issue
            }
            "Note Hook" | "Confidential Note Hook" | "note" | "confidential_note" => {
                let target = str_at(body, &["object_attributes", "noteable_type"]).unwrap_or("");
                Self::Note(target.to_owned())
            }
            other => {
                let name = other.strip_suffix(" Hook").unwrap_or(other).trim();
                Self::Other(name.to_lowercase().replace([' ', '-'], "_"))
            }
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
        match self {
            Self::Push | Self::TagPush => None,
            Self::MergeRequest => raw.map(|a| pull_request_action(a).to_owned()),
            Self::Issue => raw.map(|a| issue_action(a).to_owned()),
            Self::Note(_) => Some("created".to_owned()),
            Self::Other(_) => raw.map(str::to_owned),
        }
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
            let merged = str_at(attrs, &["action"]) == Some("merge");
            let pr = pull_request(attrs, merged);
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

/// A GitLab `project` as a GitHub `repository`.
fn repository(project: &Value) -> Value {
    let full_name = str_at(project, &["path_with_namespace"]);
    let owner = full_name.and_then(|f| f.split('/').next());
    let private = project
        .get("visibility_level")
        .and_then(Value::as_i64)
        .map(|v| v != 20);
    json!({
        "id": project.get("id"),
        "name": project.get("name"),
        "full_name": full_name,
        "html_url": project.get("web_url"),
        "clone_url": project.get("git_http_url"),
        "ssh_url": project.get("git_ssh_url"),
        "default_branch": project.get("default_branch"),
        "description": project.get("description"),
        "private": private,
        "owner": { "login": owner, "path": owner },
    })
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
    let draft = attrs
        .get("work_in_progress")
        .or(attrs.get("draft"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
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
