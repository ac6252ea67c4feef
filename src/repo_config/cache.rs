//! [`RepoConfigCache`]: configuration files read once per repository, path and content
//! version, shared by every handler of the process.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use http::StatusCode;
use moka::future::Cache;
use serde_json::{Map, Value};

use super::RepoConfigSettings;
use super::error::ConfigFileError;
use super::parse::{Format, parse};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::webhook::Delivery;

/// One file as read from the default branch.
#[derive(Debug, Clone)]
pub(crate) enum File {
    /// The repository (or the file in it) does not exist.
    Missing,
    /// It parsed into a mapping.
    Parsed {
        /// `owner/repo:path`.
        label: Arc<str>,
        format: Format,
        text: Arc<str>,
        map: Arc<Map<String, Value>>,
        /// A hash of the contents: errors are reported once per version.
        version: u64,
    },
    /// It does not parse.
    Invalid {
        error: Arc<ConfigFileError>,
        version: u64,
    },
}

/// `(owner/repo, path)`.
type Key = (String, String);

/// The shared cache of configuration files (cheap to clone).
#[derive(Clone)]
pub(crate) struct RepoConfigCache {
    inner: Arc<Inner>,
}

struct Inner {
    settings: RepoConfigSettings,
    files: Cache<Key, File>,
    /// Errors already reported (file, version, target type).
    reported: Cache<String, ()>,
    /// Push deliveries whose invalidation this process already applied.
    applied: Cache<String, ()>,
    /// Whether any file was ever asked for: until then a push has nothing to invalidate,
    /// and its payload need not be read.
    used: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for RepoConfigCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepoConfigCache")
            .field("settings", &self.inner.settings)
            .field("files", &self.inner.files.entry_count())
            .finish_non_exhaustive()
    }
}

impl Default for RepoConfigCache {
    fn default() -> Self {
        Self::new(RepoConfigSettings::default())
    }
}

impl RepoConfigCache {
    pub(crate) fn new(settings: RepoConfigSettings) -> Self {
        let files = Cache::builder()
            .max_capacity(settings.max_entries)
            .time_to_live(settings.ttl)
            .support_invalidation_closures()
            .build();
        Self {
            inner: Arc::new(Inner {
                files,
                reported: Cache::new(settings.max_entries),
                applied: Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(std::time::Duration::from_secs(3600))
                    .build(),
                used: std::sync::atomic::AtomicBool::new(false),
                settings,
            }),
        }
    }

    pub(crate) fn settings(&self) -> &RepoConfigSettings {
        &self.inner.settings
    }

    /// `path` of `owner/repo` at its default branch, read once however many ask at once.
    ///
    /// A 404 is [`File::Missing`] (cached); other failures are not cached and reach every
    /// caller that was waiting for the same read.
    pub(crate) async fn file(
        &self,
        client: &Client,
        owner: &str,
        repo: &str,
        path: &str,
    ) -> Result<File> {
        // Before the read starts, so a push arriving while it runs invalidates it.
        self.inner
            .used
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let key = (format!("{owner}/{repo}"), path.to_owned());
        let label = format!("{owner}/{repo}:{path}");
        let format = Format::of(path).ok_or_else(|| {
            Error::InvalidRequest(format!("{label}: not a .yml, .yaml or .toml file"))
        })?;
        let read = async {
            match client.repos().raw(owner, repo, path, None).await {
                Ok(bytes) => Ok(decode(&label, format, &bytes)),
                Err(e) if e.status() == Some(StatusCode::NOT_FOUND) => Ok(File::Missing),
                Err(e) => Err(e),
            }
        };
        self.inner
            .files
            .try_get_with(key, read)
            .await
            .map_err(|source| Error::ConfigRead {
                file: label.clone(),
                source,
            })
    }

    /// Whether `what` is reported for the first time (then it is remembered).
    pub(crate) async fn first_report(&self, what: String) -> bool {
        self.inner
            .reported
            .entry(what)
            .or_insert(())
            .await
            .is_fresh()
    }

    /// Drops what a `push` to a default branch changed, once per delivery: the files it
    /// lists as added, modified or removed, or every file of the repository when the
    /// payload does not list them. Other deliveries change nothing.
    pub(crate) async fn apply_push(&self, delivery: &Delivery) {
        if delivery.event() != "push" || !self.inner.used.load(std::sync::atomic::Ordering::SeqCst)
        {
            return;
        }
        let json = delivery.normalized_json();
        let Some(repo) = delivery.repository_full_name() else {
            return;
        };
        let default = json
            .pointer("/repository/default_branch")
            .and_then(Value::as_str)
            .filter(|b| !b.is_empty());
        let git_ref = json.get("ref").and_then(Value::as_str).unwrap_or_default();
        let to_default = match default {
            Some(branch) => git_ref == format!("refs/heads/{branch}") || git_ref == branch,
            // Unknown default branch: any branch push might be to it.
            None => git_ref.starts_with("refs/heads/"),
        };
        if !to_default {
            return;
        }
        if !self
            .inner
            .applied
            .entry(delivery.id().to_owned())
            .or_insert(())
            .await
            .is_fresh()
        {
            return;
        }
        let repo = repo.to_owned();
        match touched(json) {
            Some(paths) => {
                for path in paths {
                    self.inner.files.invalidate(&(repo.clone(), path)).await;
                }
            }
            None => {
                let _ = self
                    .inner
                    .files
                    .invalidate_entries_if(move |(r, _), _| *r == repo);
            }
        }
    }
}

/// The paths a push's commits list as added, modified or removed; `None` when a commit
/// lists none of them (or the payload says it holds fewer commits than were pushed).
fn touched(json: &Value) -> Option<HashSet<String>> {
    let commits = json.get("commits").and_then(Value::as_array)?;
    let total = json
        .get("total_commits_count")
        .or_else(|| json.get("size"))
        .and_then(Value::as_u64);
    if total.is_some_and(|t| t > commits.len() as u64) {
        return None;
    }
    let mut paths = HashSet::new();
    for commit in commits.iter().chain(json.get("head_commit")) {
        if commit.is_null() {
            continue;
        }
        let mut listed = false;
        for field in ["added", "modified", "removed"] {
            if let Some(list) = commit.get(field).and_then(Value::as_array) {
                listed = true;
                paths.extend(
                    list.iter()
                        .filter_map(Value::as_str)
                        .map(|p| p.trim_start_matches('/').to_owned()),
                );
            }
        }
        if !listed {
            return None;
        }
    }
    Some(paths)
}

fn decode(label: &str, format: Format, bytes: &[u8]) -> File {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let version = hasher.finish();
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let error = ConfigFileError::new(label, format!("not UTF-8 text: {e}"));
            return File::Invalid {
                error: Arc::new(error),
                version,
            };
        }
    };
    match parse(format, label, text) {
        Ok(map) => File::Parsed {
            label: label.into(),
            format,
            text: text.into(),
            map: Arc::new(map),
            version,
        },
        Err(error) => File::Invalid {
            error: Arc::new(error),
            version,
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pushes_list_the_files_they_touch() {
        let push = json!({
            "commits": [
                { "added": ["a.txt"], "modified": [".atomgit/bot.yml"], "removed": [] },
            ],
            "head_commit": { "added": [], "modified": ["/b.txt"], "removed": [] },
        });
        let paths = touched(&push).unwrap();
        assert!(
            paths.contains(".atomgit/bot.yml")
                && paths.contains("b.txt")
                && paths.contains("a.txt")
        );
        assert!(touched(&json!({ "commits": [{ "id": "x" }] })).is_none());
        assert!(touched(&json!({})).is_none());
        let truncated = json!({ "total_commits_count": 30, "commits": [{ "added": [] }] });
        assert!(touched(&truncated).is_none());
    }
}
