//! App settings: identity, private key, webhook secrets, OAuth client, platform hosts and API
//! paths ([`paths`]: the endpoint table and its overrides, which the client renders).
//!
//! Built in code with [`AppConfig::builder`] or read from the environment with
//! [`AppConfig::from_env`]. Every problem is reported at start-up as
//! [`Error::Config`] naming the setting, never its secret value.

use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::{Error, Result};
use crate::settings::{self, Setting};
use paths::ApiPaths;

mod builder;
mod key;
pub mod paths;
#[cfg(test)]
mod tests;

#[doc(inline)]
pub use builder::AppConfigBuilder;
#[doc(inline)]
pub use key::PrivateKey;

/// Default OpenAPI host ([`settings::API_URL`]).
pub const DEFAULT_API_URL: &str = "https://api.atomgit.com";
/// Default web host (authorize page, install page; [`settings::WEB_URL`]).
pub const DEFAULT_WEB_URL: &str = "https://atomgit.com";
/// Default value of the `X-Api-Version` header ([`settings::API_VERSION`]).
pub const DEFAULT_API_VERSION: &str = "2023-02-21";

/// Environment variable names, one per setting: the names of their
/// [`settings`] entries, where defaults and meanings are.
pub mod env {
    use crate::settings;

    /// [`settings::APP_ID`].
    pub const APP_ID: &str = settings::APP_ID.name;
    /// [`settings::PRIVATE_KEY_PATH`].
    pub const PRIVATE_KEY_PATH: &str = settings::PRIVATE_KEY_PATH.name;
    /// [`settings::PRIVATE_KEY`].
    pub const PRIVATE_KEY: &str = settings::PRIVATE_KEY.name;
    /// [`settings::WEBHOOK_SECRET`].
    pub const WEBHOOK_SECRET: &str = settings::WEBHOOK_SECRET.name;
    /// [`settings::CLIENT_ID`].
    pub const CLIENT_ID: &str = settings::CLIENT_ID.name;
    /// [`settings::CLIENT_SECRET`].
    pub const CLIENT_SECRET: &str = settings::CLIENT_SECRET.name;
    /// [`settings::API_URL`].
    pub const API_URL: &str = settings::API_URL.name;
    /// [`settings::WEB_URL`].
    pub const WEB_URL: &str = settings::WEB_URL.name;
    /// [`settings::APP_SLUG`].
    pub const APP_SLUG: &str = settings::APP_SLUG.name;
    /// [`settings::ADMIN_TOKEN`].
    pub const ADMIN_TOKEN: &str = settings::ADMIN_TOKEN.name;
    /// [`settings::API_VERSION`].
    pub const API_VERSION: &str = settings::API_VERSION.name;
    /// [`settings::BOT_LOGIN`].
    pub const BOT_LOGIN: &str = settings::BOT_LOGIN.name;
    /// [`settings::PUBLIC_URL`].
    pub const PUBLIC_URL: &str = settings::PUBLIC_URL.name;
}

/// The OAuth callback URL setting that named the bot's public address before
/// [`env::PUBLIC_URL`]; still read when that is unset.
const LEGACY_REDIRECT_URL: &str = crate::settings::OAUTH_REDIRECT_URL.name;
/// The callback path that [`LEGACY_REDIRECT_URL`] ends in.
const CALLBACK_SUFFIX: &str = "oauth/callback";

/// Everything that identifies the app to the platform.
#[derive(Clone)]
pub struct AppConfig {
    pub(crate) app_id: u64,
    pub(crate) private_key: PrivateKey,
    pub(crate) webhook_secrets: Vec<SecretString>,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) api_url: Url,
    pub(crate) web_url: Url,
    pub(crate) api_version: String,
    pub(crate) api_paths: ApiPaths,
    pub(crate) bot_login: Option<String>,
    pub(crate) public_url: Option<Url>,
    pub(crate) app_slug: Option<String>,
    pub(crate) admin_token: Option<SecretString>,
}

impl AppConfig {
    /// Starts a builder; `app_id` and a private key are required.
    pub fn builder() -> AppConfigBuilder {
        AppConfigBuilder::default()
    }

    /// Reads the `ATOMGIT_*` environment variables (see [`env`](mod@env)).
    ///
    /// Fails with [`Error::Config`] naming the first missing or invalid setting.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](Self::from_env), reading variables through `lookup` (handy in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        // Each value is the variable's, else its registry entry's default (if it has one).
        let get = |s: &Setting| s.read(&lookup);
        let mut b = AppConfig::builder();
        match get(&settings::APP_ID) {
            Some(id) => b = b.app_id_str(&id),
            None => return Err(Error::config(env::APP_ID, "not set")),
        }
        b = match (
            get(&settings::PRIVATE_KEY_PATH),
            get(&settings::PRIVATE_KEY),
        ) {
            (Some(path), _) => b.private_key_path(path),
            (None, Some(pem)) => b.private_key_pem(pem),
            (None, None) => {
                return Err(Error::config(
                    env::PRIVATE_KEY_PATH,
                    format!(
                        "neither {} nor {} is set",
                        env::PRIVATE_KEY_PATH,
                        env::PRIVATE_KEY
                    ),
                ));
            }
        };
        if let Some(secret) = get(&settings::WEBHOOK_SECRET) {
            b = b.webhook_secret(secret);
        }
        if let Some(id) = get(&settings::CLIENT_ID) {
            b = b.client_id(id);
        }
        if let Some(secret) = get(&settings::CLIENT_SECRET) {
            b = b.client_secret(secret);
        }
        if let Some(url) = get(&settings::API_URL) {
            b = b.api_url(url);
        }
        if let Some(url) = get(&settings::WEB_URL) {
            b = b.web_url(url);
        }
        if let Some(v) = get(&settings::API_VERSION) {
            b = b.api_version(v);
        }
        if let Some(login) = get(&settings::BOT_LOGIN) {
            b = b.bot_login(login);
        }
        if let Some(slug) = get(&settings::APP_SLUG) {
            b = b.app_slug(slug);
        }
        if let Some(token) = get(&settings::ADMIN_TOKEN) {
            b = b.admin_token(token);
        }
        b = b.api_paths(ApiPaths::from_lookup(&lookup)?);
        match (
            get(&settings::PUBLIC_URL),
            get(&settings::OAUTH_REDIRECT_URL),
        ) {
            (Some(url), _) => b = b.public_url(url),
            (None, Some(callback)) => b.public_url = Some(Ok(public_from_callback(&callback)?)),
            (None, None) => {}
        }
        b.build()
    }

    /// The app id (the JWT's `iss`).
    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    /// The private key used to sign app JWTs.
    pub fn private_key(&self) -> &PrivateKey {
        &self.private_key
    }

    /// Webhook secrets, newest first; more than one while a secret is being rotated.
    pub fn webhook_secrets(&self) -> &[SecretString] {
        &self.webhook_secrets
    }

    /// OAuth client id, if configured.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// OAuth client secret, if configured.
    pub fn client_secret(&self) -> Option<&SecretString> {
        self.client_secret.as_ref()
    }

    /// OpenAPI base URL.
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    /// Web base URL.
    pub fn web_url(&self) -> &Url {
        &self.web_url
    }

    /// `X-Api-Version` header value.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// Path families and per-endpoint path overrides (`ATOMBOT_API_FAMILY*`,
    /// `ATOMBOT_API_PATH_*`; see [`paths`]).
    pub fn api_paths(&self) -> &ApiPaths {
        &self.api_paths
    }

    /// Login of the app's own user, if configured.
    pub fn bot_login(&self) -> Option<&str> {
        self.bot_login.as_deref()
    }
    /// The bot's public base URL (ending in `/`), if configured: `ATOMBOT_PUBLIC_URL`, else
    /// derived from the older `ATOMBOT_OAUTH_REDIRECT_URL` (its `oauth/callback` removed).
    /// OAuth's `redirect_uri` and `Secure` cookies come from it, never from a request's
    /// `Host` header; pages that link to the bot (the install page) are to use it too.
    pub fn public_url(&self) -> Option<&Url> {
        self.public_url.as_ref()
    }

    /// The app's slug (`ATOMGIT_APP_SLUG`), if configured.
    pub fn app_slug(&self) -> Option<&str> {
        self.app_slug.as_deref()
    }

    /// The link that installs the app: `{web_url}/apps/{slug}/installations/new`, or `None`
    /// without an [app slug](Self::app_slug).
    pub fn install_url(&self) -> Option<String> {
        let slug = self.app_slug.as_deref()?;
        // `web_url` always ends in `/`.
        Some(format!("{}apps/{slug}/installations/new", self.web_url))
    }

    /// The token that shows per-installation data on the install page
    /// (`ATOMBOT_ADMIN_TOKEN`), if configured.
    pub fn admin_token(&self) -> Option<&SecretString> {
        self.admin_token.as_ref()
    }
}

/// Checks an app slug: letters, digits, `-`, `_` and `.`, at most 100 characters.
pub(crate) fn check_slug(slug: &str) -> Result<String> {
    let slug = slug.trim();
    let valid = !slug.is_empty()
        && slug.len() <= 100
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && slug != "."
        && slug != "..";
    if valid {
        Ok(slug.to_owned())
    } else {
        Err(Error::config(
            env::APP_SLUG,
            format!("{slug:?} is not an app slug (letters, digits, '-', '_', '.')"),
        ))
    }
}

/// The public base URL an `ATOMBOT_OAUTH_REDIRECT_URL` implies: the URL without its
/// trailing `oauth/callback`, or its origin when it ends otherwise.
fn public_from_callback(callback: &str) -> Result<Url> {
    let mut url = parse_url(callback, LEGACY_REDIRECT_URL)?;
    let path = url.path().trim_end_matches('/').to_owned();
    let base = match path.strip_suffix(CALLBACK_SUFFIX) {
        Some(base) => base.to_owned(),
        None => "/".to_owned(),
    };
    url.set_path(&base);
    Ok(url)
}

impl fmt::Debug for AppConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConfig")
            .field("app_id", &self.app_id)
            .field("private_key", &self.private_key)
            .field(
                "webhook_secrets",
                &format_args!("[{} redacted]", self.webhook_secrets.len()),
            )
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("api_url", &self.api_url.as_str())
            .field("web_url", &self.web_url.as_str())
            .field("api_version", &self.api_version)
            .field("api_paths", &self.api_paths)
            .field("bot_login", &self.bot_login)
            .field("public_url", &self.public_url.as_ref().map(Url::as_str))
            .field("app_slug", &self.app_slug)
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// Parses a base URL, normalising it to end in `/` so relative paths join beneath it.
pub(crate) fn parse_url(text: &str, setting: &'static str) -> Result<Url> {
    let mut url = Url::parse(text.trim())
        .map_err(|e| Error::config(setting, format!("{text:?} is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::config(setting, "must be an http or https URL"));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}
