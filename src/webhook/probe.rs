//! Routing without the DOM: the few fields a GitHub-shaped delivery is routed by, read from
//! its raw body as maps of [`RawValue`]s (each value validated and skipped, never built),
//! so that accepting a delivery costs one pass over its bytes and no tree of allocations.
//! The full [`Value`](serde_json::Value) is built later, only if a handler asks for it.
//!
//! [`probe`] answers `None` whenever the body needs the full treatment (not a UTF-8 JSON
//! object, GitLab-shaped, or a `project` that fills in the repository): the caller then
//! parses and normalises the DOM as before, so both paths give the same answers.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::models::InstallationId;

/// A JSON object's members, values left raw. Keys are borrowed: an object with an escaped
/// key does not parse, and the probe gives up (the DOM handles it).
type Members<'a> = BTreeMap<&'a str, &'a RawValue>;

/// What routing needs from a body (stored with a queued delivery, so the worker does not
/// read the body again).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Facts {
    /// `action`, when a string.
    pub(super) action: Option<String>,
    /// `uuid`, when a non-empty string.
    pub(super) uuid: Option<String>,
    /// `ref`, when a string.
    pub(super) git_ref: Option<String>,
    /// `installation.id`, a number or numeric string, not zero.
    pub(super) installation_id: Option<InstallationId>,
    /// `repository.full_name`, else `repository.path_with_namespace`, holding a `/`.
    pub(super) repository_full_name: Option<String>,
    /// See [`Delivery::owner_path`](super::Delivery::owner_path).
    pub(super) owner_path: Option<String>,
}

/// The members of `raw` when it is an object, `Ok(None)` when it is something else, `Err`
/// when it is an object the probe cannot read (an escaped key).
fn members<'a>(raw: Option<&&'a RawValue>) -> Result<Option<Members<'a>>, ()> {
    match raw {
        Some(raw) if raw.get().starts_with('{') => {
            serde_json::from_str(raw.get()).map(Some).map_err(|_| ())
        }
        _ => Ok(None),
    }
}

/// The string `raw` holds, if it is one.
fn string(raw: Option<&&RawValue>) -> Option<String> {
    serde_json::from_str(raw?.get()).ok()
}

/// Whether the value at `key` is a string / an object (a JSON-aware look at its first byte).
fn is_string(m: &Members<'_>, key: &str) -> bool {
    m.get(key).is_some_and(|v| v.get().starts_with('"'))
}
fn is_object(m: &Members<'_>, key: &str) -> bool {
    m.get(key).is_some_and(|v| v.get().starts_with('{'))
}

/// The routing facts of `body` when it is a GitHub-shaped JSON object announced as
/// `header_event`; `None` when it needs the full parse (see the module docs).
pub(super) fn probe(header_event: Option<&str>, body: &[u8]) -> Option<Facts> {
    let header = header_event.map(str::trim).filter(|h| !h.is_empty())?;
    if super::gitlab::is_gitlab_spelling(header) {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let top: Members<'_> = serde_json::from_str(text).ok()?;
    // The same test as `events::dialect`.
    if is_string(&top, "object_kind")
        || is_object(&top, "object_attributes")
        || is_string(&top, "event_name")
    {
        return None;
    }
    let repository = members(top.get("repository")).ok()?;
    let repo_str = |key: &str| repository.as_ref().and_then(|r| string(r.get(key)));
    let full_name = repo_str("full_name").filter(|f| f.contains('/'));
    // A `project` completes an incomplete repository: that takes the DOM.
    if is_object(&top, "project") && full_name.is_none() {
        return None;
    }
    let repository_full_name =
        full_name.or_else(|| repo_str("path_with_namespace").filter(|f| f.contains('/')));

    let installation = members(top.get("installation")).ok()?;
    let installation_id = installation
        .as_ref()
        .and_then(|i| i.get("id"))
        .and_then(
            |id| match serde_json::from_str::<serde_json::Value>(id.get()).ok()? {
                serde_json::Value::Number(n) => n.as_u64(),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            },
        )
        .filter(|id| *id != 0)
        .map(InstallationId);

    let owner = members(repository.as_ref().and_then(|r| r.get("owner"))).ok()?;
    let owner_str = |key: &str| owner.as_ref().and_then(|o| string(o.get(key)));
    let account = members(installation.as_ref().and_then(|i| i.get("account"))).ok()?;
    let account_str = |key: &str| account.as_ref().and_then(|a| string(a.get(key)));
    let owner_path = owner_str("login")
        .or_else(|| owner_str("path"))
        .filter(|s| !s.is_empty())
        .or_else(|| {
            repository_full_name
                .as_deref()
                .and_then(|f| f.split('/').next())
                .map(str::to_owned)
        })
        .or_else(|| account_str("login"))
        .or_else(|| account_str("path"))
        .filter(|s| !s.is_empty());

    Some(Facts {
        action: string(top.get("action")),
        uuid: string(top.get("uuid")).filter(|u| !u.is_empty()),
        git_ref: string(top.get("ref")),
        installation_id,
        repository_full_name,
        owner_path,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::webhook::delivery::facts_of;

    /// The facts the DOM gives for a GitHub-shaped `body` the probe accepted.
    fn from_dom(body: &Value) -> Facts {
        let str_at = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
        Facts {
            action: str_at("action"),
            uuid: str_at("uuid").filter(|u| !u.is_empty()),
            ..facts_of(body, body)
        }
    }

    fn leaf() -> BoxedStrategy<Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e3f64..1e3).prop_map(Value::from),
            "[a-z0-9/ \"\\\\é]{0,8}".prop_map(Value::from),
            "[ 0-9]{0,4}".prop_map(Value::from),
            Just(json!([1, {"login": "x"}])),
        ]
        .boxed()
    }

    fn object(keys: &'static [&'static str], value: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
        prop::collection::vec((prop::sample::select(keys), value), 0..5)
            .prop_map(|members| {
                Value::Object(
                    members
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            })
            .boxed()
    }

    fn body() -> BoxedStrategy<Value> {
        let small = object(&["login", "path", "id"], leaf());
        let installation = object(
            &["id", "account", "node_id"],
            prop_oneof![leaf(), small.clone()].boxed(),
        );
        let repository = object(
            &["full_name", "path_with_namespace", "owner", "name"],
            prop_oneof![leaf(), small.clone()].boxed(),
        );
        object(
            &[
                "action",
                "uuid",
                "ref",
                "installation",
                "repository",
                "project",
                "sender",
                "object_kind",
            ],
            prop_oneof![leaf(), installation, repository, small].boxed(),
        )
    }

    proptest! {
        /// Whenever the probe answers, it answers what the DOM does.
        #[test]
        fn the_probe_agrees_with_the_dom(body in body()) {
            let bytes = serde_json::to_vec(&body).unwrap();
            if let Some(facts) = probe(Some("push"), &bytes) {
                prop_assert_eq!(facts, from_dom(&body));
            }
        }
    }

    #[test]
    fn gives_up_where_the_dom_is_needed() {
        let gitlab = br#"{"object_kind":"push","ref":"refs/heads/main"}"#;
        assert_eq!(probe(Some("push"), gitlab), None);
        assert_eq!(probe(Some("Push Hook"), br#"{"ref":"x"}"#), None);
        assert_eq!(probe(None, br#"{"ref":"x"}"#), None);
        assert_eq!(probe(Some("push"), br#"[{"ref":"x"}]"#), None);
        assert_eq!(probe(Some("push"), b"{\"ref\":\"\xff\"}"), None);
        let project_only = br#"{"project":{"path_with_namespace":"a/b"},"repository":{}}"#;
        assert_eq!(probe(Some("push"), project_only), None);
        let escaped_key = br#"{"repository":{"full_\u006eame":"a/b"}}"#;
        assert_eq!(probe(Some("push"), escaped_key), None);
    }

    #[test]
    fn reads_a_real_sized_push() {
        let body = include_bytes!("../../bench/payloads/push.json");
        let facts = probe(Some("push"), body).expect("a GitHub-shaped push");
        let dom: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(facts, from_dom(&dom));
        assert_eq!(facts.repository_full_name.as_deref(), Some("acme/app"));
        assert_eq!(facts.git_ref.as_deref(), Some("refs/heads/main"));
    }
}
