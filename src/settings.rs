//! Every environment variable atombot reads, in one registry ([`ALL`]): name, default and
//! meaning.
//!
//! The loaders ([`AppConfig::from_lookup`](crate::AppConfig::from_lookup),
//! [`RuntimeSettings::from_lookup`](crate::runtime::RuntimeSettings::from_lookup),
//! [`OAuthSettings::from_lookup`](crate::oauth::OAuthSettings::from_lookup),
//! [`RepoConfigSettings::from_lookup`](crate::RepoConfigSettings::from_lookup), …) read each
//! variable through its entry here ([`Setting::read`]), so the default that applies when a
//! variable is unset is the one shown. The `env` modules' constants
//! ([`config::env`](crate::config::env), [`runtime::env`](crate::runtime::env), …) are these
//! entries' names. The README's configuration table is [`markdown_table`], checked by
//! `tests/settings_table.rs`, which also fails when the source names a variable missing here.

use crate::config::{DEFAULT_API_URL, DEFAULT_API_VERSION, DEFAULT_WEB_URL};
use crate::repo_config::CONFIG_DIR;

#[doc(inline)]
pub use atombot_jobs::settings::{
    DEDUPE_TTL, JOB_TIMEOUT, KEEP_FAILED, MAX_ATTEMPTS, MAX_POSTPONE, ORPHAN_TIMEOUT, QUEUE,
    QUEUE_NAME, Setting, UNKNOWN_TIMEOUT,
};

// The app: identity, key, secrets, hosts.

/// The app id.
pub const APP_ID: Setting = Setting::new("ATOMGIT_APP_ID", None, "the app id (a number); required");
/// Path of the app's PEM private key.
pub const PRIVATE_KEY_PATH: Setting = Setting::new(
    "ATOMGIT_PRIVATE_KEY_PATH",
    None,
    "path of the app's RSA private key (PEM); this or `ATOMGIT_PRIVATE_KEY` is required",
);
/// The app's PEM private key as text.
pub const PRIVATE_KEY: Setting = Setting::new(
    "ATOMGIT_PRIVATE_KEY",
    None,
    "the app's RSA private key as PEM text, read when `ATOMGIT_PRIVATE_KEY_PATH` is unset",
);
/// Webhook secret.
pub const WEBHOOK_SECRET: Setting = Setting::new(
    "ATOMGIT_WEBHOOK_SECRET",
    None,
    "webhook signing secret or password; without one the bot refuses to start unless `ATOMBOT_ALLOW_UNSIGNED=true`",
);
/// OAuth client id.
pub const CLIENT_ID: Setting = Setting::new(
    "ATOMGIT_CLIENT_ID",
    None,
    "OAuth client id (acting as a user)",
);
/// OAuth client secret.
pub const CLIENT_SECRET: Setting =
    Setting::new("ATOMGIT_CLIENT_SECRET", None, "OAuth client secret");
/// OpenAPI base URL.
pub const API_URL: Setting = Setting::new(
    "ATOMGIT_API_URL",
    Some(DEFAULT_API_URL),
    "OpenAPI base URL (may carry a path prefix such as `/api/v5`)",
);
/// Web base URL.
pub const WEB_URL: Setting = Setting::new(
    "ATOMGIT_WEB_URL",
    Some(DEFAULT_WEB_URL),
    "web base URL (the authorize page; the install link is built from it)",
);
/// `X-Api-Version` header value.
pub const API_VERSION: Setting = Setting::new(
    "ATOMGIT_API_VERSION",
    Some(DEFAULT_API_VERSION),
    "`X-Api-Version` header",
);
/// The app's slug.
pub const APP_SLUG: Setting = Setting::new(
    "ATOMGIT_APP_SLUG",
    None,
    "the app's slug, for the install link `{web URL}/apps/{slug}/installations/new` on `GET /`",
);
/// Login of the app's own user.
pub const BOT_LOGIN: Setting = Setting::new(
    "ATOMGIT_BOT_LOGIN",
    None,
    "login of the app's own user, so `ctx.is_bot()` recognises it (platform `…[bot]` logins are recognised anyway)",
);
/// The install page's admin token.
pub const ADMIN_TOKEN: Setting = Setting::new(
    "ATOMBOT_ADMIN_TOKEN",
    None,
    "bearer token that shows the installations table on `GET /`",
);
/// The bot's public base URL.
pub const PUBLIC_URL: Setting = Setting::new(
    "ATOMBOT_PUBLIC_URL",
    None,
    "the bot's public base URL as browsers reach it (e.g. `https://bot.example.com`): the OAuth callback is built from it, and cookies are `Secure` when it is https; pages that link to the bot are to use it too",
);
/// Path family of every endpoint.
pub const API_FAMILY: Setting = Setting::new(
    "ATOMBOT_API_FAMILY",
    None,
    "path family of every endpoint but the app's own: `2023-02-21` (unprefixed) or `v5` (`/api/v5`, never doubled when `ATOMGIT_API_URL` ends in it); unset, each endpoint uses its default from the platform notes",
);
/// Path family of one endpoint group.
pub const API_FAMILY_GROUP: Setting = Setting::new(
    "ATOMBOT_API_FAMILY_<GROUP>",
    None,
    "path family of one group (`APPS`, `REPOS`, `ISSUES`, `PULLS`, `ORGS`, `RELEASES`, `STATUSES`, `CHECKS`); wins over `ATOMBOT_API_FAMILY`",
);
/// Path template override of one endpoint.
pub const API_PATH: Setting = Setting::new(
    "ATOMBOT_API_PATH_<NAME>",
    None,
    "replaces one endpoint's path template, used as given, e.g. `ATOMBOT_API_PATH_PULLS_MERGE=/repos/{owner}/{repo}/pulls/{number}/merge` (names and sources in `atombot::config::paths`)",
);

// The server and the runtime (the queue's entries come from `atombot_jobs::settings`).

/// Listen address.
pub const LISTEN: Setting =
    Setting::new("ATOMBOT_LISTEN", Some("127.0.0.1:3000"), "listen address");
/// Webhook route.
pub const WEBHOOK_PATH: Setting =
    Setting::new("ATOMBOT_WEBHOOK_PATH", Some("/webhook"), "webhook route");
/// Largest accepted delivery body.
pub const MAX_BODY_BYTES: Setting = Setting::new(
    "ATOMBOT_MAX_BODY_BYTES",
    Some("26214400"),
    "largest accepted delivery body in bytes (25 MiB); 413 above",
);
/// Deliveries and jobs run at once.
pub const CONCURRENCY: Setting = Setting::new(
    "ATOMBOT_CONCURRENCY",
    Some("128"),
    "deliveries and jobs run at once by one process, each counted until its outcome is committed",
);
/// Seconds running handlers get on shutdown.
pub const SHUTDOWN_TIMEOUT: Setting = Setting::new(
    "ATOMBOT_SHUTDOWN_TIMEOUT",
    Some("30"),
    "seconds running handlers get to finish on shutdown",
);
/// Seconds a client gets to send a request's headers.
pub const HEADER_TIMEOUT: Setting = Setting::new(
    "ATOMBOT_HEADER_TIMEOUT",
    Some("10"),
    "seconds a client gets to send a request's headers; an idle keep-alive connection is closed after this too",
);
/// Seconds a client gets to send a delivery's body.
pub const BODY_TIMEOUT: Setting = Setting::new(
    "ATOMBOT_BODY_TIMEOUT",
    Some("60"),
    "seconds a client gets to send a delivery's whole body; 408 after that",
);
/// Seconds a connection may stay silent.
pub const IDLE_TIMEOUT: Setting = Setting::new(
    "ATOMBOT_IDLE_TIMEOUT",
    Some("60"),
    "seconds a connection may move no bytes at all before it is closed",
);
/// Connections served at once.
pub const MAX_CONNECTIONS: Setting = Setting::new(
    "ATOMBOT_MAX_CONNECTIONS",
    Some("1024"),
    "connections served at once; more clients wait to be accepted",
);
/// Requests handled at once.
pub const MAX_IN_FLIGHT: Setting = Setting::new(
    "ATOMBOT_MAX_IN_FLIGHT",
    Some("256"),
    "requests handled at once; more are answered 503 with `Retry-After`",
);
/// Whether unsigned deliveries are accepted.
pub const ALLOW_UNSIGNED: Setting = Setting::new(
    "ATOMBOT_ALLOW_UNSIGNED",
    Some("false"),
    "`true` accepts deliveries with no signature or token",
);
/// Whether a re-sent signed body is dropped.
pub const REPLAY_GUARD: Setting = Setting::new(
    "ATOMBOT_REPLAY_GUARD",
    Some("false"),
    "`true` also drops a signed body re-sent under another delivery id within the dedupe window (off: tests, `atombot send` and replays re-send bodies on purpose; see Reliability)",
);
/// Log format.
pub const LOG_FORMAT: Setting = Setting::new(
    "ATOMBOT_LOG_FORMAT",
    Some("human"),
    "`human` or `json` (one object per line); filter with `RUST_LOG`",
);

/// Whether accepted deliveries are recorded in the delivery log.
pub const DELIVERY_LOG: Setting = Setting::new(
    "ATOMBOT_DELIVERY_LOG",
    Some("false"),
    "`true` records every accepted delivery and its handlers' outcomes in the delivery log (`atombot deliveries`); off by default until it keeps the benchmark's SQLite floors (README, Performance)",
);
/// Seconds a delivery is kept in the delivery log.
pub const DELIVERY_LOG_RETENTION: Setting = Setting::new(
    "ATOMBOT_DELIVERY_LOG_RETENTION",
    Some("604800"),
    "seconds a delivery is kept in the delivery log (7 days)",
);
/// Deliveries kept in the delivery log at most.
pub const DELIVERY_LOG_MAX: Setting = Setting::new(
    "ATOMBOT_DELIVERY_LOG_MAX",
    Some("100000"),
    "deliveries kept in the delivery log at most, the oldest dropped first (at most 1000 with `ATOMBOT_QUEUE=memory`)",
);

/// The relay's shared token (`atombot relay` / `atombot forward`).
pub const RELAY_TOKEN: Setting = Setting::new(
    "ATOMBOT_RELAY_TOKEN",
    None,
    "the token `atombot relay` asks of forwarders and `atombot forward` sends (at least 16 characters; never logged)",
);

// Per-repository configuration.

/// The owner's repository holding shared configuration.
pub const CONFIG_REPO: Setting = Setting::new(
    "ATOMBOT_CONFIG_REPO",
    Some(CONFIG_DIR),
    "the owner's repository `ctx.config` falls back to when a repository has no file of its own",
);
/// Seconds a configuration file is cached.
pub const CONFIG_TTL: Setting = Setting::new(
    "ATOMBOT_CONFIG_TTL",
    Some("300"),
    "seconds a configuration file is cached (another replica's pushes are seen after this)",
);

// OAuth: acting as a user.

/// Key encrypting stored user tokens.
pub const TOKEN_KEY: Setting = Setting::new(
    "ATOMBOT_TOKEN_KEY",
    None,
    "32-byte base64 key encrypting stored user tokens (`openssl rand -base64 32`); `OAuth::from_env` refuses to start without it",
);
/// Where user tokens are stored.
pub const OAUTH_STORE: Setting = Setting::new(
    "ATOMBOT_OAUTH_STORE",
    None,
    "where user tokens are stored: a `sqlite://`, `redis://` or `postgres://` URL; unset, `ATOMBOT_QUEUE` when it is one of those, else that variable's default",
);
/// The OAuth callback URL (the older way to name the public URL).
pub const OAUTH_REDIRECT_URL: Setting = Setting::new(
    "ATOMBOT_OAUTH_REDIRECT_URL",
    None,
    "the callback URL registered with the app, when it is not `{ATOMBOT_PUBLIC_URL}oauth/callback`; with `ATOMBOT_PUBLIC_URL` unset, the public URL is derived from it",
);
/// Where the callback sends a signed-in browser.
pub const OAUTH_AFTER_LOGIN: Setting = Setting::new(
    "ATOMBOT_OAUTH_AFTER_LOGIN",
    Some("/"),
    "where the callback sends a signed-in browser",
);
/// Where `POST /logout` sends the browser.
pub const OAUTH_AFTER_LOGOUT: Setting = Setting::new(
    "ATOMBOT_OAUTH_AFTER_LOGOUT",
    Some("/"),
    "where `POST /logout` sends the browser",
);
/// Lifetime of a login's `state`.
pub const OAUTH_STATE_TTL_SECS: Setting = Setting::new(
    "ATOMBOT_OAUTH_STATE_TTL_SECS",
    Some("600"),
    "seconds a login's `state` is accepted",
);
/// Refresh margin of user access tokens.
pub const OAUTH_REFRESH_MARGIN_SECS: Setting = Setting::new(
    "ATOMBOT_OAUTH_REFRESH_MARGIN_SECS",
    Some("300"),
    "seconds before an access token expires at which it is refreshed",
);
/// Lifetime of a browser session.
pub const OAUTH_SESSION_TTL_SECS: Setting = Setting::new(
    "ATOMBOT_OAUTH_SESSION_TTL_SECS",
    Some("604800"),
    "seconds (7 days) a browser stays signed in to the bot's pages",
);
/// Browser sessions one user keeps.
pub const OAUTH_MAX_SESSIONS_PER_USER: Setting = Setting::new(
    "ATOMBOT_OAUTH_MAX_SESSIONS_PER_USER",
    Some("10"),
    "browser sessions one user keeps; signing in again ends the oldest",
);
/// Logins pending at once in one process.
pub const OAUTH_MAX_PENDING_LOGINS: Setting = Setting::new(
    "ATOMBOT_OAUTH_MAX_PENDING_LOGINS",
    Some("10000"),
    "logins pending at once when they are kept in this process's memory; past that `/login` answers 503 (shared stores have no such cap)",
);

/// Every environment variable atombot reads, in the order of the README's table; the queue's
/// entries are [`atombot_jobs::settings::ALL`].
pub const ALL: &[Setting] = &[
    APP_ID,
    PRIVATE_KEY_PATH,
    PRIVATE_KEY,
    WEBHOOK_SECRET,
    CLIENT_ID,
    CLIENT_SECRET,
    API_URL,
    WEB_URL,
    API_VERSION,
    APP_SLUG,
    BOT_LOGIN,
    ADMIN_TOKEN,
    PUBLIC_URL,
    API_FAMILY,
    API_FAMILY_GROUP,
    API_PATH,
    LISTEN,
    WEBHOOK_PATH,
    MAX_BODY_BYTES,
    QUEUE,
    QUEUE_NAME,
    CONCURRENCY,
    MAX_ATTEMPTS,
    ORPHAN_TIMEOUT,
    DEDUPE_TTL,
    JOB_TIMEOUT,
    KEEP_FAILED,
    MAX_POSTPONE,
    UNKNOWN_TIMEOUT,
    SHUTDOWN_TIMEOUT,
    HEADER_TIMEOUT,
    BODY_TIMEOUT,
    IDLE_TIMEOUT,
    MAX_CONNECTIONS,
    MAX_IN_FLIGHT,
    ALLOW_UNSIGNED,
    REPLAY_GUARD,
    LOG_FORMAT,
    DELIVERY_LOG,
    DELIVERY_LOG_RETENTION,
    DELIVERY_LOG_MAX,
    RELAY_TOKEN,
    CONFIG_REPO,
    CONFIG_TTL,
    TOKEN_KEY,
    OAUTH_STORE,
    OAUTH_REDIRECT_URL,
    OAUTH_AFTER_LOGIN,
    OAUTH_AFTER_LOGOUT,
    OAUTH_STATE_TTL_SECS,
    OAUTH_REFRESH_MARGIN_SECS,
    OAUTH_SESSION_TTL_SECS,
    OAUTH_MAX_SESSIONS_PER_USER,
    OAUTH_MAX_PENDING_LOGINS,
];

/// The entry whose name is `var`, or whose pattern `var` is an instance of.
pub fn find(var: &str) -> Option<&'static Setting> {
    ALL.iter()
        .find(|s| s.name == var)
        .or_else(|| ALL.iter().find(|s| s.matches(var)))
}

/// [`ALL`] as the README's Markdown table: `| variable | default | meaning |`.
pub fn markdown_table() -> String {
    atombot_jobs::settings::markdown_table(ALL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_holds_each_name_once_and_every_queue_entry() {
        let mut names: Vec<_> = ALL.iter().map(|s| s.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a name is listed twice");
        for s in atombot_jobs::settings::ALL {
            assert!(
                ALL.contains(s),
                "{} (atombot_jobs::settings) is missing",
                s.name
            );
        }
        for s in ALL {
            let prefix = s.name.split_once('_').map(|(p, _)| p);
            assert!(matches!(prefix, Some("ATOMBOT" | "ATOMGIT")), "{}", s.name);
            assert!(
                !s.meaning.is_empty() && !s.meaning.contains('\n'),
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn find_knows_names_and_pattern_instances() {
        assert_eq!(find("ATOMBOT_LISTEN"), Some(&LISTEN));
        assert_eq!(find("ATOMBOT_API_FAMILY"), Some(&API_FAMILY));
        assert_eq!(find("ATOMBOT_API_FAMILY_ISSUES"), Some(&API_FAMILY_GROUP));
        assert_eq!(find("ATOMBOT_API_PATH_PULLS_MERGE"), Some(&API_PATH));
        assert_eq!(find("ATOMBOT_TEST_NOPE"), None);
    }
}
