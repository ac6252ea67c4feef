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

/// Every canonical event a handler can be registered for, with the actions it comes with
/// (empty: the event has no action). [`Router`](super::Router) checks registrations against
/// it at start-up; register names outside it with `on_raw`.
pub const CANONICAL: &[(&str, &[&str])] = &[
    (PUSH, &[]),
    (
        ISSUES,
        &[
            "opened",
            "edited",
            "closed",
            "reopened",
            "deleted",
            "labeled",
            "unlabeled",
            "assigned",
            "unassigned",
            "milestoned",
            "demilestoned",
            "pinned",
            "unpinned",
            "locked",
            "unlocked",
            "transferred",
        ],
    ),
    (ISSUE_COMMENT, &["created", "edited", "deleted"]),
    (
        PULL_REQUEST,
        &[
            "opened",
            "edited",
            "closed",
            "reopened",
            "synchronize",
            "labeled",
            "unlabeled",
            "assigned",
            "unassigned",
            "review_requested",
            "review_request_removed",
            "ready_for_review",
            "converted_to_draft",
            "locked",
            "unlocked",
            "approved",
            "unapproved",
            "approval",
            "unapproval",
        ],
    ),
    (
        PULL_REQUEST_REVIEW_COMMENT,
        &["created", "edited", "deleted"],
    ),
    (COMMIT_COMMENT, &["created"]),
    (
        INSTALLATION,
        &[
            "created",
            "deleted",
            "suspend",
            "unsuspend",
            "new_permissions_accepted",
        ],
    ),
    (INSTALLATION_REPOSITORIES, &["added", "removed"]),
];

/// Checks that `event` (and `action`, if given) is in [`CANONICAL`].
///
/// Fails with a message naming the closest known `event` or `event.action`.
///
/// ```
/// use atombot::webhook::events::check_known;
///
/// assert!(check_known("issues", Some("opened")).is_ok());
/// let error = check_known("issue", Some("opened")).unwrap_err();
/// assert!(error.contains("`issues.opened`"), "{error}");
/// ```
pub fn check_known(event: &str, action: Option<&str>) -> Result<(), String> {
    let given = match action {
        Some(action) => format!("{event}.{action}"),
        None => event.to_owned(),
    };
    let known = CANONICAL.iter().find(|(name, _)| *name == event);
    match (known, action) {
        (Some(_), None) => return Ok(()),
        (Some((_, actions)), Some(action)) if actions.contains(&action) => return Ok(()),
        _ => {}
    }
    let candidates = CANONICAL.iter().flat_map(|(name, actions)| {
        std::iter::once((*name).to_owned())
            .chain(actions.iter().map(move |a| format!("{name}.{a}")))
    });
    let closest = candidates
        .map(|c| (strsim::damerau_levenshtein(&given, &c), c))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
        .unwrap_or_else(|| PUSH.to_owned());
    let why = match known {
        Some((_, [])) => format!("`{event}` has no actions"),
        Some(_) => format!("`{event}` has no action `{}`", action.unwrap_or_default()),
        None => format!("`{event}` is not a known event"),
    };
    Err(format!(
        "`{given}`: {why}; did you mean `{closest}`? (known events are listed in atombot::webhook::events; use on_raw for others)"
    ))
}

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
    /// The GitHub-shaped view of the body (a GitLab-shaped body converted, or a
    /// `project`-only body given a `repository`); `None` when the body already is one.
    pub body: Option<Value>,
}

/// Which body shape a delivery has, from its event header (if any) and its parsed body.
///
/// GitLab-shaped when the header is spelled the GitLab way (`Push Hook`, `tag_push`,
/// `merge_request`, `note`, `issue`, …) or the body has a string `object_kind`, an
/// `object_attributes` object or a string `event_name`; GitHub-shaped otherwise.
pub fn dialect(event_header: Option<&str>, body: &Value) -> Dialect {
    let gitlab_header = event_header.is_some_and(gitlab::is_gitlab_spelling);
    let gitlab_body = body.get("object_kind").is_some_and(Value::is_string)
        || body.get("object_attributes").is_some_and(Value::is_object)
        || body.get("event_name").is_some_and(Value::is_string);
    if gitlab_header || gitlab_body {
        Dialect::GitLab
    } else {
        Dialect::GitHub
    }
}

/// Normalises an event to canonical names following the table in this module's docs.
///
/// `event_header` is the value of the first event header present, if any; without one the
/// body's `object_kind` (else its `event_name`) names the event. Returns `None` when
/// nothing names an event.
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
///
/// // The lowercase spelling and `event_name` name the same thing.
/// let body = serde_json::json!({"event_name": "merge_request_reopen",
///                               "object_attributes": {"action": "update", "iid": 3}});
/// let n = normalize(Some("merge_request"), &body).unwrap();
/// assert_eq!((n.event.as_str(), n.action.as_deref()), ("pull_request", Some("reopened")));
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
            body: repository_from_project(body),
        }),
        Dialect::GitLab => {
            let named = |key: &str| {
                body.get(key)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
            };
            let kind = match header {
                Some(h) if gitlab::is_gitlab_spelling(h) => h,
                _ => named("object_kind").or(header).or(named("event_name"))?,
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

/// For a GitHub-shaped body with a `project` but no complete `repository`: the body with
/// the repository's missing fields taken from `project`.
pub(crate) fn repository_from_project(body: &Value) -> Option<Value> {
    let project = body.get("project").filter(|p| p.is_object())?;
    let complete =
        gitlab::str_at(body, &["repository", "full_name"]).is_some_and(|f| f.contains('/'));
    if complete {
        return None;
    }
    let mut out = body.as_object()?.clone();
    let view = gitlab::repository(project);
    match out.get_mut("repository") {
        Some(Value::Object(existing)) => gitlab::fill_missing(existing, view),
        _ => {
            out.insert("repository".to_owned(), view);
        }
    }
    Some(Value::Object(out))
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
        let mr = |action: &str| {
            json!({"object_kind": "merge_request",
            "object_attributes": {"action": action, "last_commit": {"id": "abc"}}})
        };
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
    fn every_spelling_of_every_event() {
        let body = json!({"object_attributes": {"noteable_type": "Issue"}});
        for (header, event) in [
            ("Push Hook", "push"),
            ("push", "push"),
            ("Tag Push Hook", "push"),
            ("tag_push", "push"),
            ("TAG PUSH HOOK", "push"),
            ("Merge Request Hook", "pull_request"),
            ("merge_request", "pull_request"),
            ("Issue Hook", "issues"),
            ("issue", "issues"),
            ("Confidential Issue Hook", "issues"),
            ("Note Hook", "issue_comment"),
            ("note", "issue_comment"),
        ] {
            assert_eq!(norm(Some(header), body.clone()).0, event, "{header}");
        }
        // object_kind and event_name alone.
        for kind in ["tag_push", "push"] {
            assert_eq!(norm(None, json!({"object_kind": kind})).0, "push");
            assert_eq!(norm(None, json!({"event_name": kind})).0, "push");
        }
        assert_eq!(
            norm(None, json!({"event_name": "merge_request_open"})).0,
            "pull_request"
        );
    }

    #[test]
    fn event_name_is_more_precise_than_the_action() {
        let mr = |event_name: &str, action: &str| {
            json!({"object_kind": "merge_request", "event_name": event_name,
                   "object_attributes": {"action": action, "oldrev": "abc"}})
        };
        for (event_name, action, want) in [
            ("merge_request_open", "open", "opened"),
            ("merge_request_update", "update", "synchronize"),
            ("merge_request_reopen", "update", "reopened"),
            ("merge_request_close", "close", "closed"),
            ("merge_request_merge", "update", "closed"),
        ] {
            for header in [Some("merge_request"), Some("Merge Request Hook"), None] {
                let n = normalize(header, &mr(event_name, action)).unwrap();
                assert_eq!(
                    (n.event.as_str(), n.action.as_deref()),
                    ("pull_request", Some(want)),
                    "{event_name} {header:?}"
                );
                let merged = &n.body.unwrap()["pull_request"]["merged"];
                assert_eq!(merged, event_name.ends_with("_merge"), "{event_name}");
            }
        }
        // No action at all: event_name still names it.
        let n = normalize(
            Some("merge_request"),
            &json!({"event_name": "merge_request_open"}),
        );
        assert_eq!(n.unwrap().action.as_deref(), Some("opened"));
    }

    #[test]
    fn an_update_without_a_new_commit_is_edited() {
        let update = |extra: Value| {
            let mut body = json!({"object_kind": "merge_request", "event_name": "merge_request_update",
                                  "object_attributes": {"action": "update", "last_commit": {"id": "abc"}}});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            normalize(Some("merge_request"), &body)
                .unwrap()
                .action
                .unwrap()
        };
        assert_eq!(update(json!({})), "synchronize");
        assert_eq!(
            update(json!({"changes": {"title": {"previous": "a", "current": "b"}}})),
            "edited"
        );
        assert_eq!(
            update(
                json!({"changes": {"latest_merge_request_diff_id": {"previous": 1, "current": 2}}})
            ),
            "synchronize"
        );
        let bare =
            json!({"object_kind": "merge_request", "object_attributes": {"action": "update"}});
        assert_eq!(
            normalize(None, &bare).unwrap().action.as_deref(),
            Some("edited")
        );
    }

    #[test]
    fn a_project_only_body_gets_a_repository() {
        let body = json!({"ref": "refs/heads/main",
                          "project": {"id": "6638af02bbeee41d0fe74c35", "name": "app",
                                      "path_with_namespace": "acme/app", "private": 0}});
        let n = normalize(Some("push"), &body).unwrap();
        assert_eq!(n.dialect, Dialect::GitHub);
        let repo = &n.body.unwrap()["repository"];
        assert_eq!(repo["full_name"], "acme/app");
        assert_eq!(repo["owner"]["login"], "acme");
        assert_eq!(repo["id"], "6638af02bbeee41d0fe74c35");
        // A repository without full_name keeps its fields and gains the project's.
        let body = json!({"repository": {"name": "app", "url": "x"},
                          "project": {"path_with_namespace": "acme/app"}});
        let repo = normalize(Some("push"), &body).unwrap().body.unwrap()["repository"].clone();
        assert_eq!(
            (repo["full_name"].as_str(), repo["url"].as_str()),
            (Some("acme/app"), Some("x"))
        );
        // A complete repository is left alone.
        let body = json!({"repository": {"full_name": "acme/app"}, "project": {}});
        assert!(normalize(Some("push"), &body).unwrap().body.is_none());
    }

    #[test]
    fn nothing_names_the_event() {
        assert!(normalize(None, &json!({"action": "opened"})).is_none());
        assert!(normalize(Some("  "), &json!({})).is_none());
        assert!(normalize(None, &json!({"object_kind": ""})).is_none());
    }
}
