//! [`RepoConfigSettings`]: the owner's fallback repository and the cache's bounds.

use std::time::Duration;

use super::CONFIG_DIR;
use crate::error::{Error, Result};

/// Environment variable names of [`RepoConfigSettings`].
pub mod env {
    /// The owner's repository holding shared configuration (default `.atomgit`).
    pub const CONFIG_REPO: &str = "ATOMBOT_CONFIG_REPO";
    /// Seconds a cached configuration file is kept (default 300).
    pub const CONFIG_TTL: &str = "ATOMBOT_CONFIG_TTL";
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

    /// Reads [`env::CONFIG_REPO`] and [`env::CONFIG_TTL`]; unset ones keep their defaults.
    ///
    /// Fails with [`Error::Config`] naming a variable whose value is invalid.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut s = Self::default();
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if let Some(repo) = get(env::CONFIG_REPO) {
            if repo.contains('/') || repo == "." || repo == ".." {
                return Err(Error::config(
                    env::CONFIG_REPO,
                    "must be a repository name without owner",
                ));
            }
            s.repo = repo;
        }
        if let Some(ttl) = get(env::CONFIG_TTL) {
            let secs: u64 = ttl.parse().map_err(|_| {
                Error::config(
                    env::CONFIG_TTL,
                    format!("{ttl:?} is not a number of seconds"),
                )
            })?;
            if secs == 0 {
                return Err(Error::config(env::CONFIG_TTL, "must be at least 1 second"));
            }
            s.ttl = Duration::from_secs(secs);
        }
        Ok(s)
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
