//! [`App`]: the front door — an app's settings plus its API clients.

use crate::client::{Client, ClientBuilder};
use crate::config::AppConfig;
use crate::error::Result;
use crate::models::{Installation, InstallationId, InstallationToken};

/// An AtomGit App: its settings, an app-authenticated [`Client`] and the shared
/// installation-token cache. Cheap to clone.
///
/// ```no_run
/// # async fn run() -> atombot::Result<()> {
/// let app = atombot::App::from_env()?;
/// let client = app.installation_client(14);
/// let repo = client.repos().get("atomgit-demo", "hello-world").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct App {
    config: AppConfig,
    client: Client,
}

impl App {
    /// An app with default client settings.
    ///
    /// Fails with [`Error::Config`](crate::Error::Config) if the client cannot be built.
    pub fn new(config: AppConfig) -> Result<Self> {
        Self::with_client(config, Client::builder())
    }

    /// Reads [`AppConfig::from_env`] and builds the app.
    pub fn from_env() -> Result<Self> {
        Self::new(AppConfig::from_env()?)
    }

    /// An app whose client is tuned by `builder` (timeouts, retry, rate limits, token
    /// cache); the builder's credentials are replaced by the app's.
    pub fn with_client(config: AppConfig, builder: ClientBuilder) -> Result<Self> {
        let client = builder.app(config.clone()).build()?;
        Ok(Self { config, client })
    }

    /// The app's settings.
    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    /// The client that authenticates as the app (bearer = app JWT).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A client acting as `installation`; cheap, shares the stack and the token cache.
    pub fn installation_client(&self, installation: impl Into<InstallationId>) -> Client {
        self.client.installation(installation)
    }

    /// Every installation of the app.
    pub async fn installations(&self) -> Result<Vec<Installation>> {
        self.client.installations().list().await
    }

    /// Mints a new token for `installation`, bypassing the cache.
    pub async fn create_installation_token(
        &self,
        installation: impl Into<InstallationId>,
    ) -> Result<InstallationToken> {
        self.client.installations().create_token(installation).await
    }
}
