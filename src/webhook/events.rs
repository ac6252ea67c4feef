#![doc = include_str!("events.md")]

use serde_json::Value;

use super::gitlab;

/// `push`: commits or tags pushed.
pub const PUSH: &str = "push";
/// `issues`: an issue opened, edited, closed, reopened, …
pub const ISSUES: &str = "issues";
/// `issue_comment`: a comment on an issue.
pub const ISSUE_COMMENT: &str = "issue_comment";
/// `pull_request`: a pull (merge) request opened, synchronized, closed, …
pub const PULL_REQUEST: &str = "pull_request";
/// `pull_request_review_comment`: a comment on a pull (merge) request.
pub const PULL_REQUEST_REVIEW_COMMENT: &str = "pull_request_review_comment";
/// `commit_comment`: a comment on a commit.
pub const COMMIT_COMMENT: &str = "commit_comment";
/// `installation`: the app was installed, uninstalled, suspended, …
pub const INSTALLATION: &str = "installation";
/// `installation_repositories`: repositories added to or removed from an installation.
pub const INSTALLATION_REPOSITORIES: &str = "installation_repositories";

/// The shape of a delivery's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// `action`, `repository`, `sender` (AtomGit-Hookshot).
    GitHub,
    /// `object_kind`, `object_attributes`, `project`, `user` (GitCode stack, older AtomGit).
    GitLab,
}

/// A delivery's event and action in canonical form.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Normalized {
    /// Canonical event name (`pull_request`).
    pub event: String,
    /// Canonical action (`opened`), if the event has one.
    pub action: Option<String>,
    /// The body's shape.
    pub dialect: Dialect,
    /// The GitHub-shaped view of a GitLab-shaped body; `None` when the body already is one.
    pub body: Option<Value>,
}

/// Which body shape a delivery has, from its event header (if any) and its parsed body.
pub fn dialect(event_header: Option<&str>, body: &Value) -> Dialect {
    let hook_header = event_header.is_some_and(|e| e.trim().ends_with(" Hook"));
    if hook_header || body.get("object_kind").is_some_and(Value::is_string) {
        Dialect::GitLab
    } else {
        Dialect::GitHub
    }
}

/// Normalises an event to canonical names following the table in this module's docs.
///
/// `event_header` is the value of the first event header present, if any; without one the
/// body's `object_kind` names the event. Returns `None` when neither names an event.
///
/// # Example
/// ```
/// use atombot::webhook::events::{normalize, Dialect};
///
/// let body = serde_json::json!({"object_kind": "merge_request",
///                               "object_attributes": {"action": "merge", "iid": 3}});
/// let n = normalize(Some("Merge Request Hook"), &body).unwrap();
/// assert_eq!((n.event.as_str(), n.action.as_deref()), ("pull_request", Some("closed")));
/// assert_eq!(n.dialect, Dialect::GitLab);
/// assert_eq!(n.body.unwrap()["pull_request"]["merged"], true);
/// ```
pub fn normalize(event_header: Option<&str>, body: &Value) -> Option<Normalized> {
    let header = event_header.map(str::trim).filter(|h| !h.is_empty());
    match dialect(header, body) {
        Dialect::GitHub => Some(Normalized {
            event: header?.to_owned(),
            action: body
                .get("action")
                .and_then(Value::as_str)
                .map(str::to_owned),
            dialect: Dialect::GitHub,
            body: None,
        }),
        Dialect::GitLab => {
            let object_kind = body
                .get("object_kind")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|k| !k.is_empty());
            let kind = match header {
                Some(h) if h.ends_with(" Hook") => h,
                _ => object_kind.or(header)?,
            };
            let kind = gitlab::Kind::parse(kind, body);
            let action = kind.action(body);
            let body = gitlab::to_github_shape(&kind, action.as_deref(), body);
            Some(Normalized {
                event: kind.canonical_event(),
                action,
                dialect: Dialect::GitLab,
                body: Some(body),
            })
        }
    }
}

/// Maps a GitLab merge request action to its GitHub name (`open` → `opened`).
pub fn pull_request_action(gitlab_action: &str) -> &str {
    match gitlab_action {
        "open" => "opened",
        "reopen" => "reopened",
        "update" => "synchronize",
        "close" | "merge" => "closed",
        other => other,
    }
}

/// Maps a GitLab issue action to its GitHub name (`update` → `edited`).
pub fn issue_action(gitlab_action: &str) -> &str {
    match gitlab_action {
        "open" => "opened",
        "reopen" => "reopened",
        "update" => "edited",
        "close" => "closed",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn norm(header: Option<&str>, body: Value) -> (String, Option<String>, Dialect) {
        let n = normalize(header, &body).unwrap();
        (n.event, n.action, n.dialect)
    }

    #[test]
    fn github_passes_through() {
        let (e, a, d) = norm(Some("issues"), json!({"action": "labeled"}));
        assert_eq!(
            (e.as_str(), a.as_deref(), d),
            ("issues", Some("labeled"), Dialect::GitHub)
        );
        let (e, a, _) = norm(Some("push"), json!({"ref": "refs/heads/main"}));
        assert_eq!((e.as_str(), a), ("push", None));
    }

    #[test]
    fn gitlab_table() {
        let mr = |action: &str| json!({"object_kind": "merge_request", "object_attributes": {"action": action}});
        for (gl, gh) in [
            ("open", "opened"),
            ("reopen", "reopened"),
            ("update", "synchronize"),
            ("close", "closed"),
            ("merge", "closed"),
        ] {
            let (e, a, _) = norm(Some("Merge Request Hook"), mr(gl));
            assert_eq!((e.as_str(), a.as_deref()), ("pull_request", Some(gh)));
            let (e, _, _) = norm(None, mr(gl));
            assert_eq!(e, "pull_request");
        }
        let issue =
            |action: &str| json!({"object_kind": "issue", "object_attributes": {"action": action}});
        for (gl, gh) in [
            ("open", "opened"),
            ("update", "edited"),
            ("close", "closed"),
            ("reopen", "reopened"),
        ] {
            let (e, a, _) = norm(Some("Issue Hook"), issue(gl));
            assert_eq!((e.as_str(), a.as_deref()), ("issues", Some(gh)));
        }
        let note =
            |t: &str| json!({"object_kind": "note", "object_attributes": {"noteable_type": t}});
        for (t, e) in [
            ("Issue", "issue_comment"),
            ("MergeRequest", "pull_request_review_comment"),
            ("Commit", "commit_comment"),
            ("Snippet", "note"),
        ] {
            let (ev, a, _) = norm(Some("Note Hook"), note(t));
            assert_eq!((ev.as_str(), a.as_deref()), (e, Some("created")));
        }
        let (e, a, _) = norm(Some("Tag Push Hook"), json!({"object_kind": "tag_push"}));
        assert_eq!((e.as_str(), a), ("push", None));
        let (e, a, _) = norm(
            Some("Pipeline Hook"),
            json!({"object_attributes": {"action": "x"}}),
        );
        assert_eq!((e.as_str(), a.as_deref()), ("pipeline", Some("x")));
    }

    #[test]
    fn gitlab_header_values_on_atomgit_header_and_github_names_with_gitlab_body() {
        // `X-AtomGit-Event: push` with a GitLab body: object_kind decides.
        let (e, _, d) = norm(Some("push"), json!({"object_kind": "tag_push"}));
        assert_eq!((e.as_str(), d), ("push", Dialect::GitLab));
        let (e, _, _) = norm(
            Some("pull_request"),
            json!({"object_kind": "merge_request"}),
        );
        assert_eq!(e, "pull_request");
    }

    #[test]
    fn nothing_names_the_event() {
        assert!(normalize(None, &json!({"action": "opened"})).is_none());
        assert!(normalize(Some("  "), &json!({})).is_none());
        assert!(normalize(None, &json!({"object_kind": ""})).is_none());
    }
}
