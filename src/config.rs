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
use paths::ApiPaths;

pub mod paths;

/// Default OpenAPI host.
pub const DEFAULT_API_URL: &str = "https://api.atomgit.com";
/// Default web host (authorize page, install page).
pub const DEFAULT_WEB_URL: &str = "https://atomgit.com";
/// Default value of the `X-Api-Version` header.
pub const DEFAULT_API_VERSION: &str = "2023-02-21";

/// Environment variable names, one per setting.
pub mod env {
    /// App id (a number).
    pub const APP_ID: &str = "ATOMGIT_APP_ID";
    /// Path of the app's PEM private key.
    pub const PRIVATE_KEY_PATH: &str = "ATOMGIT_PRIVATE_KEY_PATH";
    /// The app's PEM private key as text.
    pub const PRIVATE_KEY: &str = "ATOMGIT_PRIVATE_KEY";
    /// Webhook secret (signing key or password).
    pub const WEBHOOK_SECRET: &str = "ATOMGIT_WEBHOOK_SECRET";
    /// OAuth client id.
    pub const CLIENT_ID: &str = "ATOMGIT_CLIENT_ID";
    /// OAuth client secret.
    pub const CLIENT_SECRET: &str = "ATOMGIT_CLIENT_SECRET";
    /// OpenAPI base URL (may carry a path prefix such as `/api/v5`).
    pub const API_URL: &str = "ATOMGIT_API_URL";
    /// Web base URL.
    pub const WEB_URL: &str = "ATOMGIT_WEB_URL";
    /// `X-Api-Version` header value.
    pub const API_VERSION: &str = "ATOMGIT_API_VERSION";
    /// Login of the app's own user (so `Context::is_bot` recognises it).
    pub const BOT_LOGIN: &str = "ATOMGIT_BOT_LOGIN";
    /// The bot's public base URL, as browsers and the platform reach it (the OAuth
    /// callback and the install page are built from it).
    pub const PUBLIC_URL: &str = "ATOMBOT_PUBLIC_URL";
}

/// The OAuth callback URL setting that named the bot's public address before
/// [`env::PUBLIC_URL`]; still read when that is unset.
const LEGACY_REDIRECT_URL: &str = "ATOMBOT_OAUTH_REDIRECT_URL";
/// The callback path that [`LEGACY_REDIRECT_URL`] ends in.
const CALLBACK_SUFFIX: &str = "oauth/callback";

/// The app's RSA private key, checked to be an RSA PEM when loaded.
///
/// Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct PrivateKey {
    key: jsonwebtoken::EncodingKey,
}

impl PrivateKey {
    /// Parses PEM text (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    ///
    /// Fails with [`Error::Config`] naming `ATOMGIT_PRIVATE_KEY` when the text is not an RSA
    /// private key in PEM form.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        Self::parse(pem, env::PRIVATE_KEY)
    }

    /// Reads and parses a PEM file.
    ///
    /// Fails with [`Error::Config`] naming `ATOMGIT_PRIVATE_KEY_PATH` when the file cannot be
    /// read or is not an RSA private key.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|e| {
            Error::config(
                env::PRIVATE_KEY_PATH,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        Self::parse(&pem, env::PRIVATE_KEY_PATH)
    }

    fn parse(pem: &[u8], setting: &'static str) -> Result<Self> {
        let text = String::from_utf8_lossy(pem);
        if !text.contains("-----BEGIN") {
            return Err(Error::config(setting, "not a PEM document"));
        }
        if !(text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN PRIVATE KEY")) {
            return Err(Error::config(setting, "not an RSA private key in PEM form"));
        }
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem)
            .map_err(|e| Error::config(setting, format!("not a usable RSA private key ({e})")))?;
        Ok(Self { key })
    }

    pub(crate) fn encoding_key(&self) -> &jsonwebtoken::EncodingKey {
        &self.key
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([REDACTED])")
    }
}

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
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut b = AppConfig::builder();
        match get(env::APP_ID) {
            Some(id) => b = b.app_id_str(&id),
            None => return Err(Error::config(env::APP_ID, "not set")),
        }
        b = match (get(env::PRIVATE_KEY_PATH), get(env::PRIVATE_KEY)) {
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
        if let Some(secret) = get(env::WEBHOOK_SECRET) {
            b = b.webhook_secret(secret);
        }
        if let Some(id) = get(env::CLIENT_ID) {
            b = b.client_id(id);
        }
        if let Some(secret) = get(env::CLIENT_SECRET) {
            b = b.client_secret(secret);
        }
        if let Some(url) = get(env::API_URL) {
            b = b.api_url(url);
        }
        if let Some(url) = get(env::WEB_URL) {
            b = b.web_url(url);
        }
        if let Some(v) = get(env::API_VERSION) {
            b = b.api_version(v);
        }
        if let Some(login) = get(env::BOT_LOGIN) {
            b = b.bot_login(login);
        }
        b = b.api_paths(ApiPaths::from_lookup(&lookup)?);
        match (get(env::PUBLIC_URL), get(LEGACY_REDIRECT_URL)) {
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
            .finish()
    }
}

enum KeySource {
    Pem(SecretString),
    Path(PathBuf),
    Key(PrivateKey),
}

/// Builds an [`AppConfig`]; errors are reported by [`build`](Self::build).
#[derive(Default)]
pub struct AppConfigBuilder {
    app_id: Option<std::result::Result<u64, String>>,
    key: Option<KeySource>,
    webhook_secrets: Vec<SecretString>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    api_url: Option<String>,
    web_url: Option<String>,
    api_version: Option<String>,
    api_paths: ApiPaths,
    bot_login: Option<String>,
    public_url: Option<std::result::Result<Url, String>>,
}

impl fmt::Debug for AppConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppConfigBuilder")
            .field("app_id", &self.app_id)
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

impl AppConfigBuilder {
    /// Sets the app id.
    pub fn app_id(mut self, id: u64) -> Self {
        self.app_id = Some(Ok(id));
        self
    }

    /// Sets the app id from text; a non-numeric value fails at [`build`](Self::build).
    pub fn app_id_str(mut self, id: &str) -> Self {
        self.app_id = Some(id.trim().parse::<u64>().map_err(|_| id.to_owned()));
        self
    }

    /// Uses this PEM text as the private key.
    pub fn private_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.key = Some(KeySource::Pem(SecretString::from(pem.into())));
        self
    }

    /// Reads the private key from this PEM file at [`build`](Self::build).
    pub fn private_key_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.key = Some(KeySource::Path(path.into()));
        self
    }

    /// Uses an already parsed private key.
    pub fn private_key(mut self, key: PrivateKey) -> Self {
        self.key = Some(KeySource::Key(key));
        self
    }

    /// Adds a webhook secret. Call again to accept several during a rotation.
    pub fn webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secrets.push(SecretString::from(secret.into()));
        self
    }

    /// Sets the OAuth client id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Sets the OAuth client secret.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// Sets the OpenAPI base URL (default [`DEFAULT_API_URL`]).
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// Sets the web base URL (default [`DEFAULT_WEB_URL`]).
    pub fn web_url(mut self, url: impl Into<String>) -> Self {
        self.web_url = Some(url.into());
        self
    }

    /// Sets the `X-Api-Version` header value (default [`DEFAULT_API_VERSION`]).
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = Some(version.into());
        self
    }

    /// The login of the app's own user, recognised by `Context::is_bot`.
    pub fn bot_login(mut self, login: impl Into<String>) -> Self {
        self.bot_login = Some(login.into());
        self
    }

    /// Sets the path families and overrides (default: each endpoint's default).
    pub fn api_paths(mut self, paths: ApiPaths) -> Self {
        self.api_paths = paths;
        self
    }

    /// Sets the bot's public base URL (see [`AppConfig::public_url`]); a URL that is not
    /// http(s) fails at [`build`](Self::build).
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.public_url = Some(parse_url(&url, env::PUBLIC_URL).map_err(|_| url));
        self
    }

    /// Checks every setting and returns the config.
    ///
    /// Fails with [`Error::Config`] naming the setting at fault.
    pub fn build(self) -> Result<AppConfig> {
        let app_id = match self.app_id {
            Some(Ok(id)) => id,
            Some(Err(bad)) => {
                return Err(Error::config(
                    env::APP_ID,
                    format!("{bad:?} is not a number"),
                ));
            }
            None => return Err(Error::config(env::APP_ID, "not set")),
        };
        let private_key = match self.key {
            Some(KeySource::Key(k)) => k,
            Some(KeySource::Path(p)) => PrivateKey::from_pem_file(p)?,
            Some(KeySource::Pem(pem)) => PrivateKey::from_pem(pem.expose_secret().as_bytes())?,
            None => return Err(Error::config(env::PRIVATE_KEY_PATH, "no private key given")),
        };
        Ok(AppConfig {
            app_id,
            private_key,
            webhook_secrets: self.webhook_secrets,
            client_id: self.client_id,
            client_secret: self.client_secret,
            api_url: parse_url(
                self.api_url.as_deref().unwrap_or(DEFAULT_API_URL),
                env::API_URL,
            )?,
            web_url: parse_url(
                self.web_url.as_deref().unwrap_or(DEFAULT_WEB_URL),
                env::WEB_URL,
            )?,
            api_version: self
                .api_version
                .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned()),
            api_paths: self.api_paths,
            bot_login: self.bot_login,
            public_url: match self.public_url {
                None => None,
                Some(Ok(url)) => Some(url),
                Some(Err(bad)) => {
                    return Err(Error::config(
                        env::PUBLIC_URL,
                        format!("{bad:?} is not an http or https URL"),
                    ));
                }
            },
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = include_str!("testing/keys/dev-app-private-key.pem");

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn setting_of(err: Error) -> &'static str {
        match err {
            Error::Config { setting, .. } => setting,
            other => panic!("expected a config error, got {other}"),
        }
    }

    #[test]
    fn missing_app_id_names_the_setting() {
        let err = AppConfig::from_lookup(vars(&[(env::PRIVATE_KEY, KEY)])).unwrap_err();
        assert_eq!(setting_of(err), env::APP_ID);
    }

    #[test]
    fn non_numeric_app_id_names_the_setting() {
        let err =
            AppConfig::from_lookup(vars(&[(env::APP_ID, "seventy"), (env::PRIVATE_KEY, KEY)]))
                .unwrap_err();
        assert!(err.to_string().contains("ATOMGIT_APP_ID"), "{err}");
        assert!(err.to_string().contains("not a number"), "{err}");
    }

    #[test]
    fn unreadable_key_file_names_the_setting() {
        let err = AppConfig::from_lookup(vars(&[
            (env::APP_ID, "75"),
            (env::PRIVATE_KEY_PATH, "/nonexistent/key.pem"),
        ]))
        .unwrap_err();
        assert_eq!(setting_of(err), env::PRIVATE_KEY_PATH);
    }

    #[test]
    fn garbage_key_text_is_refused_without_echoing_it() {
        let err = AppConfig::from_lookup(vars(&[
            (env::APP_ID, "75"),
            (env::PRIVATE_KEY, "super-secret-not-a-pem"),
        ]))
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains(env::PRIVATE_KEY), "{text}");
        assert!(!text.contains("super-secret"), "{text}");
    }

    #[test]
    fn base_urls_keep_their_path_prefix() {
        let cfg = AppConfig::from_lookup(vars(&[
            (env::APP_ID, "75"),
            (env::PRIVATE_KEY, KEY),
            (env::API_URL, "https://test-api.atomgit.com/api/v5"),
        ]))
        .unwrap();
        assert_eq!(
            cfg.api_url().as_str(),
            "https://test-api.atomgit.com/api/v5/"
        );
        assert_eq!(cfg.web_url().as_str(), "https://atomgit.com/");
        assert_eq!(cfg.app_id(), 75);
    }

    #[test]
    fn path_settings_and_bot_login_come_from_the_environment() {
        use super::paths::{Family, ISSUES_GET, PULLS_MERGE};
        let cfg = AppConfig::from_lookup(vars(&[
            (env::APP_ID, "75"),
            (env::PRIVATE_KEY, KEY),
            (env::BOT_LOGIN, "helper"),
            ("ATOMBOT_API_FAMILY_ISSUES", "v5"),
            ("ATOMBOT_API_PATH_PULLS_MERGE", "/x/{owner}/{repo}/{number}"),
        ]))
        .unwrap();
        assert_eq!(cfg.bot_login(), Some("helper"));
        assert_eq!(cfg.api_paths().family_of(&ISSUES_GET), Family::V5);
        assert!(cfg.api_paths().is_overridden(&PULLS_MERGE));
        let err = AppConfig::from_lookup(vars(&[
            (env::APP_ID, "75"),
            (env::PRIVATE_KEY, KEY),
            ("ATOMBOT_API_FAMILY", "v7"),
        ]))
        .unwrap_err();
        assert_eq!(setting_of(err), "ATOMBOT_API_FAMILY");
    }

    #[test]
    fn the_public_url_comes_from_its_setting_or_the_old_callback_setting() {
        let cfg = |pairs: &[(&str, &str)]| {
            let mut all = vec![(env::APP_ID, "75"), (env::PRIVATE_KEY, KEY)];
            all.extend_from_slice(pairs);
            AppConfig::from_lookup(vars(&all))
        };
        let public = |pairs: &[(&str, &str)]| {
            cfg(pairs)
                .unwrap()
                .public_url()
                .map(|u| u.as_str().to_owned())
        };
        assert_eq!(public(&[]), None);
        assert_eq!(
            public(&[(env::PUBLIC_URL, "https://bot.example/app")]).as_deref(),
            Some("https://bot.example/app/")
        );
        assert_eq!(
            public(&[(LEGACY_REDIRECT_URL, "https://bot.example/x/oauth/callback")]).as_deref(),
            Some("https://bot.example/x/")
        );
        assert_eq!(
            public(&[(LEGACY_REDIRECT_URL, "https://bot.example/cb")]).as_deref(),
            Some("https://bot.example/")
        );
        assert_eq!(
            public(&[
                (env::PUBLIC_URL, "http://127.0.0.1:3000"),
                (LEGACY_REDIRECT_URL, "https://bot.example/oauth/callback"),
            ])
            .as_deref(),
            Some("http://127.0.0.1:3000/")
        );
        let err = cfg(&[(env::PUBLIC_URL, "ftp://bot.example")]).unwrap_err();
        assert_eq!(setting_of(err), env::PUBLIC_URL);
        let err = cfg(&[(LEGACY_REDIRECT_URL, "not a url")]).unwrap_err();
        assert_eq!(setting_of(err), LEGACY_REDIRECT_URL);
    }

    #[test]
    fn debug_shows_no_secret() {
        let cfg = AppConfig::builder()
            .app_id(75)
            .private_key_pem(KEY)
            .webhook_secret("whsec-very-secret")
            .client_secret("client-very-secret")
            .build()
            .unwrap();
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains("very-secret"), "{dbg}");
        assert!(!dbg.contains("PRIVATE KEY"), "{dbg}");
        assert!(!dbg.contains(&KEY[40..80]), "{dbg}");
    }
}
