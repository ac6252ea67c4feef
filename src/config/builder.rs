//! [`AppConfigBuilder`]: an [`AppConfig`] built in code, every error reported by `build`.

use super::*;

pub(super) enum KeySource {
    Pem(SecretString),
    Path(PathBuf),
    Key(PrivateKey),
}

/// Builds an [`AppConfig`]; errors are reported by [`build`](Self::build).
#[derive(Default)]
pub struct AppConfigBuilder {
    pub(super) app_id: Option<std::result::Result<u64, String>>,
    pub(super) key: Option<KeySource>,
    pub(super) webhook_secrets: Vec<SecretString>,
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<SecretString>,
    pub(super) api_url: Option<String>,
    pub(super) web_url: Option<String>,
    pub(super) api_version: Option<String>,
    pub(super) api_paths: ApiPaths,
    pub(super) bot_login: Option<String>,
    pub(super) public_url: Option<std::result::Result<Url, String>>,
    pub(super) app_slug: Option<String>,
    pub(super) admin_token: Option<SecretString>,
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

    /// Sets the app's slug (see [`AppConfig::install_url`]); one with characters other than
    /// letters, digits, `-`, `_` and `.` fails at [`build`](Self::build).
    pub fn app_slug(mut self, slug: impl Into<String>) -> Self {
        self.app_slug = Some(slug.into());
        self
    }

    /// Sets the install page's admin token (see [`AppConfig::admin_token`]); an empty one
    /// fails at [`build`](Self::build).
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(SecretString::from(token.into()));
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
        let app_slug = self.app_slug.as_deref().map(check_slug).transpose()?;
        if let Some(token) = &self.admin_token {
            let token = token.expose_secret();
            if token.trim().is_empty() || token.chars().any(char::is_control) {
                return Err(Error::config(
                    env::ADMIN_TOKEN,
                    "must be non-empty text without control characters",
                ));
            }
        }
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
            app_slug,
            admin_token: self.admin_token,
        })
    }
}
