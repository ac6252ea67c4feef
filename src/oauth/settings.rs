//! [`OAuthSettings`]: lifetimes, margins and pages of the sign-in flow.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::settings::{self, Setting};

/// Environment variable names of the OAuth settings: the names of their
/// [`settings`] entries, where defaults and meanings are.
pub mod env {
    use crate::settings;

    /// [`settings::OAUTH_STATE_TTL_SECS`].
    pub const STATE_TTL_SECS: &str = settings::OAUTH_STATE_TTL_SECS.name;
    /// [`settings::OAUTH_REFRESH_MARGIN_SECS`].
    pub const REFRESH_MARGIN_SECS: &str = settings::OAUTH_REFRESH_MARGIN_SECS.name;
    /// [`settings::OAUTH_SESSION_TTL_SECS`].
    pub const SESSION_TTL_SECS: &str = settings::OAUTH_SESSION_TTL_SECS.name;
    /// [`settings::OAUTH_REDIRECT_URL`].
    pub const REDIRECT_URL: &str = settings::OAUTH_REDIRECT_URL.name;
    /// [`settings::OAUTH_MAX_SESSIONS_PER_USER`].
    pub const MAX_SESSIONS_PER_USER: &str = settings::OAUTH_MAX_SESSIONS_PER_USER.name;
    /// [`settings::OAUTH_MAX_PENDING_LOGINS`].
    pub const MAX_PENDING_LOGINS: &str = settings::OAUTH_MAX_PENDING_LOGINS.name;
    /// [`settings::OAUTH_AFTER_LOGIN`].
    pub const AFTER_LOGIN: &str = settings::OAUTH_AFTER_LOGIN.name;
    /// [`settings::OAUTH_AFTER_LOGOUT`].
    pub const AFTER_LOGOUT: &str = settings::OAUTH_AFTER_LOGOUT.name;
    /// [`settings::OAUTH_STORE`].
    pub const STORE: &str = settings::OAUTH_STORE.name;
}

/// How the sign-in flow behaves. Start from [`Default`] or [`from_env`](Self::from_env).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuthSettings {
    /// How long a login's `state` is accepted (default 10 minutes).
    pub state_ttl: Duration,
    /// Refresh an access token when it has less than this left (default 5 minutes).
    pub refresh_margin: Duration,
    /// How long a browser stays signed in to the bot's pages (default 7 days).
    pub session_ttl: Duration,
    /// The callback URL sent as `redirect_uri`; `None` uses
    /// `{public URL}oauth/callback` ([`AppConfig::public_url`](crate::AppConfig::public_url)).
    /// Never derived from a request's `Host` header.
    pub redirect_url: Option<String>,
    /// The page the callback redirects to once signed in (default `/`).
    pub after_login: String,
    /// The page `POST /logout` redirects to (default `/`).
    pub after_logout: String,
    /// Whether `POST /logout` also deletes the user's stored tokens (default `true`).
    pub forget_tokens_on_logout: bool,
    /// Timeout of each request to the token endpoint (default 30 s).
    pub timeout: Duration,
    /// The API path that names a token's user (default `/user/info`).
    pub user_info_path: String,
    /// Browser sessions one user keeps; a new sign-in past this ends their oldest (default 10).
    pub max_sessions_per_user: usize,
    /// Logins pending at once when they are kept in this process's memory (default 10,000);
    /// past that `/login` answers 503 until some expire. Shared stores have no such cap.
    pub max_pending_logins: usize,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self {
            state_ttl: Duration::from_secs(600),
            refresh_margin: Duration::from_secs(300),
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            redirect_url: None,
            after_login: "/".to_owned(),
            after_logout: "/".to_owned(),
            forget_tokens_on_logout: true,
            timeout: Duration::from_secs(30),
            user_info_path: "/user/info".to_owned(),
            max_sessions_per_user: 10,
            max_pending_logins: 10_000,
        }
    }
}

impl OAuthSettings {
    /// Reads the `ATOMBOT_OAUTH_*` variables (see [`env`](mod@env)); unset ones take their
    /// defaults from [`settings`], the same as [`Default`].
    ///
    /// Fails with [`Error::Config`] naming a variable that is not a number or a URL.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        // Each value is the variable's, else its registry entry's default.
        let value = |s: &Setting| {
            s.read(&lookup)
                .ok_or_else(|| Error::config(s.name, "not set"))
        };
        let secs = |s: &Setting| {
            value(s)?
                .trim()
                .parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| Error::config(s.name, "must be a whole number of seconds"))
        };
        let count = |s: &Setting| {
            value(s)?
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| Error::config(s.name, "must be a whole number above 0"))
        };
        let redirect_url = match settings::OAUTH_REDIRECT_URL.read(&lookup) {
            Some(url) => Some(
                crate::config::parse_url(&url, env::REDIRECT_URL)?
                    .as_str()
                    .trim_end_matches('/')
                    .to_owned(),
            ),
            None => None,
        };
        Ok(Self {
            state_ttl: secs(&settings::OAUTH_STATE_TTL_SECS)?,
            refresh_margin: secs(&settings::OAUTH_REFRESH_MARGIN_SECS)?,
            session_ttl: secs(&settings::OAUTH_SESSION_TTL_SECS)?,
            redirect_url,
            after_login: value(&settings::OAUTH_AFTER_LOGIN)?,
            after_logout: value(&settings::OAUTH_AFTER_LOGOUT)?,
            max_sessions_per_user: count(&settings::OAUTH_MAX_SESSIONS_PER_USER)?,
            max_pending_logins: count(&settings::OAUTH_MAX_PENDING_LOGINS)?,
            ..Self::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_variables_give_the_default_settings() {
        assert_eq!(
            OAuthSettings::from_lookup(|_| None).unwrap(),
            OAuthSettings::default()
        );
        for s in settings::ALL.iter().filter(|s| s.default.is_some()) {
            let read = OAuthSettings::from_lookup(|k| {
                (k == s.name).then(|| s.default.unwrap().to_owned())
            });
            assert_eq!(read.unwrap(), OAuthSettings::default(), "{}", s.name);
        }
    }

    #[test]
    fn env_overrides_and_errors() {
        let s = OAuthSettings::from_lookup(|k| match k {
            env::STATE_TTL_SECS => Some("60".into()),
            env::REDIRECT_URL => Some("https://bot.example/oauth/callback".into()),
            env::MAX_SESSIONS_PER_USER => Some("3".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.state_ttl, Duration::from_secs(60));
        assert_eq!(
            s.redirect_url.as_deref(),
            Some("https://bot.example/oauth/callback")
        );
        let err = OAuthSettings::from_lookup(|k| {
            (k == env::REFRESH_MARGIN_SECS).then(|| "soon".to_owned())
        })
        .unwrap_err();
        assert!(err.to_string().contains(env::REFRESH_MARGIN_SECS));
        assert_eq!(s.max_sessions_per_user, 3);
        assert_eq!(s.max_pending_logins, 10_000);
        let err =
            OAuthSettings::from_lookup(|k| (k == env::MAX_PENDING_LOGINS).then(|| "0".to_owned()))
                .unwrap_err();
        assert!(err.to_string().contains(env::MAX_PENDING_LOGINS));
    }
}
