//! [`OAuthSettings`]: lifetimes, margins and pages of the sign-in flow.

use std::time::Duration;

use crate::error::{Error, Result};

/// Environment variable names of the OAuth settings.
pub mod env {
    /// Lifetime of a login's `state`, in seconds (default 600).
    pub const STATE_TTL_SECS: &str = "ATOMBOT_OAUTH_STATE_TTL_SECS";
    /// Refresh this many seconds before an access token expires (default 300).
    pub const REFRESH_MARGIN_SECS: &str = "ATOMBOT_OAUTH_REFRESH_MARGIN_SECS";
    /// Lifetime of a browser session, in seconds (default 604800, a week).
    pub const SESSION_TTL_SECS: &str = "ATOMBOT_OAUTH_SESSION_TTL_SECS";
    /// The callback URL registered with the app, when it is not `{ATOMBOT_PUBLIC_URL}oauth/callback`
    /// (the older way to name the bot's public address; see
    /// [`AppConfig::public_url`](crate::AppConfig::public_url)).
    pub const REDIRECT_URL: &str = "ATOMBOT_OAUTH_REDIRECT_URL";
    /// Browser sessions one user keeps; signing in again ends the oldest (default 10).
    pub const MAX_SESSIONS_PER_USER: &str = "ATOMBOT_OAUTH_MAX_SESSIONS_PER_USER";
    /// Logins pending at once in one process when they are kept in its memory (default
    /// 10000); past that `/login` answers 503, never evicting a pending login.
    pub const MAX_PENDING_LOGINS: &str = "ATOMBOT_OAUTH_MAX_PENDING_LOGINS";
    /// Where the callback sends a signed-in browser (default `/`).
    pub const AFTER_LOGIN: &str = "ATOMBOT_OAUTH_AFTER_LOGIN";
    /// Where `POST /logout` sends the browser (default `/`).
    pub const AFTER_LOGOUT: &str = "ATOMBOT_OAUTH_AFTER_LOGOUT";
    /// Where user tokens are stored: a `sqlite://`, `redis://` or `postgres://` URL
    /// (default: `ATOMBOT_QUEUE` when it is one of those, else `sqlite://atombot.db`).
    pub const STORE: &str = "ATOMBOT_OAUTH_STORE";
}

/// How the sign-in flow behaves. Start from [`Default`] or [`from_env`](Self::from_env).
#[derive(Debug, Clone)]
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
    /// Reads the `ATOMBOT_OAUTH_*` variables (see [`env`](mod@env)); unset ones keep their default.
    ///
    /// Fails with [`Error::Config`] naming a variable that is not a number or a URL.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let secs = |name: &'static str, default: Duration| match get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| Error::config(name, "must be a whole number of seconds")),
        };
        let count = |name: &'static str, default: usize| match get(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| Error::config(name, "must be a whole number above 0")),
        };
        let d = Self::default();
        let redirect_url = match get(env::REDIRECT_URL) {
            Some(url) => Some(
                crate::config::parse_url(&url, env::REDIRECT_URL)?
                    .as_str()
                    .trim_end_matches('/')
                    .to_owned(),
            ),
            None => None,
        };
        Ok(Self {
            state_ttl: secs(env::STATE_TTL_SECS, d.state_ttl)?,
            refresh_margin: secs(env::REFRESH_MARGIN_SECS, d.refresh_margin)?,
            session_ttl: secs(env::SESSION_TTL_SECS, d.session_ttl)?,
            redirect_url,
            after_login: get(env::AFTER_LOGIN).unwrap_or(d.after_login),
            after_logout: get(env::AFTER_LOGOUT).unwrap_or(d.after_logout),
            max_sessions_per_user: count(env::MAX_SESSIONS_PER_USER, d.max_sessions_per_user)?,
            max_pending_logins: count(env::MAX_PENDING_LOGINS, d.max_pending_logins)?,
            ..d
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
