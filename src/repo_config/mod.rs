//! Per-repository configuration: [`Context::config`] reads `.atomgit/<name>` (YAML or TOML)
//! from the delivery's repository, merged over the defaults the bot author gives.
//!
//! # How a file is found and merged
//! 1. `.atomgit/<name>` of the delivery's repository at its default branch (the raw-file
//!    API); if it is missing there, the same path in the owner's configuration repository
//!    ([`RepoConfigSettings::repo`], default `.atomgit`, as Probot's `.github`).
//! 2. `_extends: other-repo` (same owner, same path), `_extends: owner/repo` or
//!    `_extends: owner/repo:path/to/file.yml` reads that file first and merges this one over
//!    it; one level (the base's own `_extends` is ignored; a missing base counts as empty).
//! 3. The result is deep-merged over `T::default()` serialized (mappings merge key by key;
//!    lists, scalars and `null` replace), then decoded as `T`. No file at all gives
//!    `T::default()`.
//!
//! The format follows the extension: `.yml`/`.yaml` through `serde_norway`, `.toml` through
//! `toml`. Of the maintained forks of the deprecated `serde_yaml`, `serde_norway` keeps the
//! 0.9 API and ships its own maintained fork of the libyaml port
//! (`unsafe-libyaml-norway`); `serde_yaml_ng` still builds on dtolnay's `unsafe-libyaml`,
//! archived with `serde_yaml`, so parser fixes would not reach us.
//!
//! # Errors
//! A file that does not parse, is not a mapping, has a malformed `_extends` or a value of
//! the wrong type gives [`Error::ConfigFile`] with a [`ConfigFileError`] naming the file,
//! line, column and field. It is logged at `warn` once per file version (and per target
//! type), not on every delivery, and a handler that returns it fails without retries.
//! [`Context::config_or_report`] also comments on the delivery's issue or pull request, once.
//! A failed read (5xx, timeout) is [`Error::ConfigRead`] and retries as its cause does.
//!
//! # Caching
//! Each file read (repository, path) is cached in the process, bounded
//! ([`RepoConfigSettings::max_entries`]); concurrent deliveries for a cold repository make
//! one request per distinct file. A `push` to a repository's default branch drops the files
//! it lists as added, modified or removed (every file of that repository when the payload
//! lists none) before the push's handlers run. With several replicas a push reaches only
//! one of them: the others see the change when their entry expires
//! ([`RepoConfigSettings::ttl`], default 5 minutes).
//!
//! ```no_run
//! use atombot::{Bot, Context};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Default, Serialize, Deserialize)]
//! #[serde(default)]
//! struct Greeter {
//!     greeting: String,
//!     enabled: bool,
//! }
//!
//! async fn greet(ctx: Context) -> atombot::Result<()> {
//!     let config: Greeter = ctx.config("greeter.yml").await?;
//!     if config.enabled {
//!         ctx.comment(config.greeting).await?;
//!     }
//!     Ok(())
//! }
//!
//! # async fn run() -> atombot::Result<()> {
//! Bot::from_env()?.on("issues.opened", greet).serve().await
//! # }
//! ```

mod cache;
mod error;
mod locate;
mod merge;
mod parse;
mod settings;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub(crate) use cache::RepoConfigCache;
#[doc(inline)]
pub use error::ConfigFileError;
#[doc(inline)]
pub use settings::{RepoConfigSettings, env};

use cache::File;
use locate::{Segment, locate};
use merge::{EXTENDS, deep_merge, merge_maps, parse_extends};
use parse::decode;

use crate::context::Context;
use crate::error::{Error, Result};

/// The directory configuration files live in, in every repository.
pub const CONFIG_DIR: &str = ".atomgit";

/// A file error with what identifies its report (file versions and target type).
struct Failure {
    error: ConfigFileError,
    report_key: String,
}

enum Outcome<T> {
    Ok(T),
    File(Failure),
}

impl Context {
    /// The repository's configuration `name` (`"bot.yml"`, `"bot.toml"`) as `T`, merged
    /// over `T::default()`; see [`repo_config`](crate::repo_config) for where it is read
    /// from, `_extends` and caching.
    ///
    /// Fails with [`Error::ConfigFile`] for an invalid file (logged once per version; the
    /// handler is not retried), [`Error::ConfigRead`] when the file could not be read,
    /// and [`Error::InvalidRequest`] when the delivery names no repository or `name` is not
    /// a relative `.yml`, `.yaml` or `.toml` path.
    ///
    /// ```no_run
    /// # use atombot::Context;
    /// #[derive(Default, serde::Serialize, serde::Deserialize)]
    /// #[serde(default)]
    /// struct Labels { triage: Vec<String> }
    ///
    /// async fn on_issue(ctx: Context) -> atombot::Result<()> {
    ///     let labels: Labels = ctx.config("labels.yml").await?;
    ///     let names: Vec<&str> = labels.triage.iter().map(String::as_str).collect();
    ///     ctx.issues()?.add_labels(ctx.issue_number().unwrap_or(0), &names).await?;
    ///     Ok(())
    /// }
    /// ```
    pub async fn config<T>(&self, name: &str) -> Result<T>
    where
        T: Default + Serialize + DeserializeOwned,
    {
        match self.resolve_config::<T>(name).await? {
            Outcome::Ok(value) => Ok(value),
            Outcome::File(failure) => {
                self.report_config_error(&failure).await;
                Err(Error::ConfigFile(failure.error))
            }
        }
    }

    /// Like [`config`](Self::config), and the first time a file version is found invalid
    /// also comments the error on the delivery's issue or pull request (when it is about
    /// one), so the repository's maintainers see it.
    pub async fn config_or_report<T>(&self, name: &str) -> Result<T>
    where
        T: Default + Serialize + DeserializeOwned,
    {
        match self.resolve_config::<T>(name).await? {
            Outcome::Ok(value) => Ok(value),
            Outcome::File(failure) => {
                if self.report_config_error(&failure).await && self.issue_number().is_some() {
                    let body = format!(
                        "This repository's configuration could not be used:\n\n```\n{}\n```",
                        failure.error
                    );
                    if let Err(error) = self.comment(body).await {
                        tracing::warn!(%error, "could not comment the configuration error");
                    }
                }
                Err(Error::ConfigFile(failure.error))
            }
        }
    }

    /// Logs `failure` at warn the first time; returns whether it was the first time.
    async fn report_config_error(&self, failure: &Failure) -> bool {
        let first = self
            .repo_config()
            .first_report(failure.report_key.clone())
            .await;
        if first {
            tracing::warn!(error = %failure.error, "invalid repository configuration");
        }
        first
    }

    async fn resolve_config<T>(&self, name: &str) -> Result<Outcome<T>>
    where
        T: Default + Serialize + DeserializeOwned,
    {
        let repo = self.repo().ok_or_else(|| {
            Error::InvalidRequest(format!(
                "delivery {} ({}) names no repository to read {name} from",
                self.delivery_id(),
                self.event()
            ))
        })?;
        let name = name.trim_start_matches('/');
        if name.is_empty()
            || name
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(Error::InvalidRequest(format!(
                "{name:?} is not a relative configuration file name"
            )));
        }
        let path = format!("{CONFIG_DIR}/{name}");
        let cache = self.repo_config();
        let client = self.client();
        let mut file = cache.file(client, &repo.owner, &repo.name, &path).await?;
        if matches!(file, File::Missing) && repo.name != cache.settings().repo {
            let org_repo = cache.settings().repo.clone();
            file = cache.file(client, &repo.owner, &org_repo, &path).await?;
        }
        let type_name = std::any::type_name::<T>();
        let (label, format, text, map, version) = match file {
            File::Missing => return Ok(Outcome::Ok(T::default())),
            File::Invalid { error, version } => {
                let report_key = format!("{}@{version:x}", error.file);
                return Ok(Outcome::File(Failure {
                    error: (*error).clone(),
                    report_key,
                }));
            }
            File::Parsed {
                label,
                format,
                text,
                map,
                version,
            } => (label, format, text, map, version),
        };
        let mut own = (*map).clone();
        let mut report_key = format!("{label}@{version:x}");
        let fail = |error: ConfigFileError, key: &str| {
            Ok(Outcome::File(Failure {
                error,
                report_key: format!("{key}:{type_name}"),
            }))
        };
        // The base `_extends` names, as (label, format, text, mapping).
        let mut base = None;
        if let Some(extends) = own.remove(EXTENDS) {
            let at = locate(format, &text, &[Segment::Key(EXTENDS.to_owned())]);
            let target = match &extends {
                Value::String(s) => parse_extends(s, &repo.owner, &path),
                _ => Err(format!("`{EXTENDS}` must be a string")),
            };
            let target = match target {
                Ok(target) => target,
                Err(message) => {
                    return fail(ConfigFileError::new(&label, message).at(at), &report_key);
                }
            };
            match cache
                .file(client, &target.owner, &target.repo, &target.path)
                .await?
            {
                File::Missing => {
                    tracing::debug!(file = %label, "the file `_extends` names does not exist");
                }
                File::Invalid { error, version } => {
                    return fail((*error).clone(), &format!("{}@{version:x}", error.file));
                }
                File::Parsed {
                    label: base_label,
                    format: base_format,
                    text: base_text,
                    map: base_map,
                    version: base_version,
                } => {
                    let mut base_map = (*base_map).clone();
                    base_map.remove(EXTENDS);
                    report_key.push_str(&format!("+{base_label}@{base_version:x}"));
                    base = Some((base_label, base_format, base_text, base_map));
                }
            }
        }
        let mut merged = serde_json::to_value(T::default()).map_err(|e| {
            Error::InvalidRequest(format!("the defaults of {type_name} do not serialize: {e}"))
        })?;
        if !merged.is_object() {
            merged = Value::Object(serde_json::Map::new());
        }
        if let (Value::Object(m), Some((_, _, _, base_map))) = (&mut merged, &base) {
            merge_maps(m, base_map.clone());
        }
        deep_merge(&mut merged, Value::Object(own.clone()));
        match decode::<T>(merged) {
            Ok(value) => Ok(Outcome::Ok(value)),
            Err(e) => {
                // Blame the file the bad value came from.
                let error = match &base {
                    Some((base_label, base_format, base_text, base_map))
                        if depth(base_map, &e.segments) > depth(&own, &e.segments) =>
                    {
                        e.in_file(*base_format, base_label, base_text)
                    }
                    _ => e.in_file(format, &label, &text),
                };
                fail(error, &report_key)
            }
        }
    }
}

/// How many steps of `path` `map` has a value at.
fn depth(map: &serde_json::Map<String, Value>, path: &[Segment]) -> usize {
    let Some(Segment::Key(first)) = path.first() else {
        return 0;
    };
    let Some(mut node) = map.get(first) else {
        return 0;
    };
    let mut depth = 1;
    for segment in &path[1..] {
        let next = match (segment, node) {
            (Segment::Key(k), Value::Object(m)) => m.get(k),
            (Segment::Index(i), Value::Array(a)) => a.get(*i),
            _ => None,
        };
        match next {
            Some(v) => (node, depth) = (v, depth + 1),
            None => break,
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_blamed_file_holds_the_path() {
        let map = serde_json::json!({ "a": { "b": [1, 2] } });
        let map = map.as_object().unwrap();
        let path = |p: &[&str]| -> Vec<Segment> {
            p.iter()
                .map(|s| {
                    s.parse()
                        .map_or_else(|_| Segment::Key((*s).to_owned()), Segment::Index)
                })
                .collect()
        };
        assert_eq!(depth(map, &path(&["a", "b", "1"])), 3);
        assert_eq!(depth(map, &path(&["a", "x", "1"])), 1);
        assert_eq!(depth(map, &path(&["c"])), 0);
        assert_eq!(depth(map, &[]), 0);
    }
}
