//! Deep merge of mappings, and the `_extends` key.

use serde_json::{Map, Value};

/// The key naming the file a configuration file builds on.
pub(crate) const EXTENDS: &str = "_extends";

/// Merges `over` into `base`: mappings merge key by key, recursively; anything else in
/// `over` (scalars, lists, `null`) replaces what `base` has.
pub(crate) fn deep_merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => merge_maps(base, over),
        (base, over) => *base = over,
    }
}

/// [`deep_merge`] for two mappings.
pub(crate) fn merge_maps(base: &mut Map<String, Value>, over: Map<String, Value>) {
    for (key, value) in over {
        match base.get_mut(&key) {
            Some(existing) => deep_merge(existing, value),
            None => {
                base.insert(key, value);
            }
        }
    }
}

/// Where `_extends` points: a repository and the path of the file in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Extends {
    pub(crate) owner: String,
    pub(crate) repo: String,
    pub(crate) path: String,
}

/// Parses `_extends: other-repo` (same owner, same path), `owner/repo` (same path) or
/// `owner/repo:path` / `other-repo:path`. `owner` and `path` are the extending file's.
pub(crate) fn parse_extends(value: &str, owner: &str, path: &str) -> Result<Extends, String> {
    let value = value.trim();
    let (repo_part, file) = match value.split_once(':') {
        Some((r, p)) => (r.trim(), p.trim().trim_start_matches('/')),
        None => (value, path),
    };
    let (owner, repo) = match repo_part.rsplit_once('/') {
        Some((o, r)) => (o.trim(), r.trim()),
        None => (owner, repo_part),
    };
    let bad = |s: &str| s.is_empty() || s.split('/').any(|p| p.is_empty() || p == "." || p == "..");
    if bad(owner) || bad(repo) || repo.contains('/') || bad(file) {
        return Err(format!(
            "`{EXTENDS}: {value}` must be `repo`, `owner/repo` or `owner/repo:path`"
        ));
    }
    Ok(Extends {
        owner: owner.to_owned(),
        repo: repo.to_owned(),
        path: file.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn mappings_merge_deeply_and_the_rest_is_replaced() {
        let mut base = json!({
            "greeting": "hi",
            "labels": ["bug", "docs"],
            "limits": { "per_day": 3, "per_user": 1, "nested": { "a": 1, "b": 2 } },
            "kept": true,
        });
        deep_merge(
            &mut base,
            json!({
                "greeting": "hello",
                "labels": ["triage"],
                "limits": { "per_user": 5, "nested": { "b": 3 } },
                "new": null,
            }),
        );
        assert_eq!(
            base,
            json!({
                "greeting": "hello",
                "labels": ["triage"],
                "limits": { "per_day": 3, "per_user": 5, "nested": { "a": 1, "b": 3 } },
                "kept": true,
                "new": null,
            })
        );
        let mut scalar = json!({ "a": { "b": 1 } });
        deep_merge(&mut scalar, json!({ "a": 2 }));
        assert_eq!(scalar, json!({ "a": 2 }));
    }

    #[test]
    fn extends_forms() {
        let own = |v: &str| parse_extends(v, "acme", ".atomgit/bot.yml");
        let e = own("base").unwrap();
        assert_eq!(
            (e.owner.as_str(), e.repo.as_str(), e.path.as_str()),
            ("acme", "base", ".atomgit/bot.yml")
        );
        let e = own("other/shared").unwrap();
        assert_eq!((e.owner.as_str(), e.repo.as_str()), ("other", "shared"));
        let e = own("other/shared:configs/bot.yml").unwrap();
        assert_eq!(
            (e.repo.as_str(), e.path.as_str()),
            ("shared", "configs/bot.yml")
        );
        let e = own("group/sub/shared:bot.yml").unwrap();
        assert_eq!((e.owner.as_str(), e.repo.as_str()), ("group/sub", "shared"));
        for bad in ["", "/", "a/", ":x", "a:", "a:../x", "a/../b"] {
            assert!(own(bad).is_err(), "{bad:?} accepted");
        }
    }
}
