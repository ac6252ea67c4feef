//! [`RepoConfigSettings`]: the owner's fallback repository and the cache's bounds.

use std::time::Duration;

use super::CONFIG_DIR;
use crate::error::{Error, Result};
use crate::settings::{self, Setting};

/// Environment variable names of [`RepoConfigSettings`]: the names of their
/// [`settings`] entries, where defaults and meanings are.
pub mod env {
    use crate::settings;

    /// [`settings::CONFIG_REPO`].
    pub const CONFIG_REPO: &str = settings::CONFIG_REPO.name;
    /// [`settings::CONFIG_TTL`].
    pub const CONFIG_TTL: &str = settings::CONFIG_TTL.name;
}

/// Where [`Context::config`](crate::Context::config) falls back to and how long it caches files.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RepoConfigSettings {
    /// The owner's repository read when a repository has no file of its own.
    pub repo: String,
    /// How long a file is cached (another replica's pushes are seen after this).
    pub ttl: Duration,
    /// How many files are cached at most.
    pub max_entries: u64,
}

impl Default for RepoConfigSettings {
    fn default() -> Self {
        Self {
            repo: CONFIG_DIR.to_owned(),
            ttl: Duration::from_secs(300),
            max_entries: 10_000,
        }
    }
}

impl RepoConfigSettings {
    /// Sets the owner's configuration repository.
    pub fn repo(mut self, repo: impl Into<String>) -> Self {
        self.repo = repo.into();
        self
    }

    /// Sets how long files are cached.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets how many files are cached at most.
    pub fn max_entries(mut self, n: u64) -> Self {
        self.max_entries = n;
        self
    }

    /// Reads [`env::CONFIG_REPO`] and [`env::CONFIG_TTL`]; unset ones take their defaults
    /// from [`settings`], the same as [`Default`].
    ///
    /// Fails with [`Error::Config`] naming a variable whose value is invalid.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        // Each value is the variable's, else its registry entry's default.
        let value = |s: &Setting| {
            s.read(&lookup)
                .map(|v| v.trim().to_owned())
                .ok_or_else(|| Error::config(s.name, "not set"))
        };
        let repo = value(&settings::CONFIG_REPO)?;
        if repo.contains('/') || repo == "." || repo == ".." {
            return Err(Error::config(
                env::CONFIG_REPO,
                "must be a repository name without owner",
            ));
        }
        let ttl = value(&settings::CONFIG_TTL)?;
        let secs: u64 = ttl.parse().map_err(|_| {
            Error::config(
                env::CONFIG_TTL,
                format!("{ttl:?} is not a number of seconds"),
            )
        })?;
        if secs == 0 {
            return Err(Error::config(env::CONFIG_TTL, "must be at least 1 second"));
        }
        Ok(Self {
            repo,
            ttl: Duration::from_secs(secs),
            ..Self::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_the_environment() {
        let s = RepoConfigSettings::from_lookup(|k| match k {
            "ATOMBOT_CONFIG_REPO" => Some("bot-config".into()),
            "ATOMBOT_CONFIG_TTL" => Some("60".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            (s.repo.as_str(), s.ttl),
            ("bot-config", Duration::from_secs(60))
        );
        assert_eq!(RepoConfigSettings::default().repo, ".atomgit");
        assert_eq!(
            RepoConfigSettings::from_lookup(|_| None).unwrap(),
            RepoConfigSettings::default()
        );
        for (name, value) in [
            ("ATOMBOT_CONFIG_REPO", "a/b"),
            ("ATOMBOT_CONFIG_TTL", "0"),
            ("ATOMBOT_CONFIG_TTL", "soon"),
        ] {
            let err =
                RepoConfigSettings::from_lookup(|k| (k == name).then(|| value.into())).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
    }
}
