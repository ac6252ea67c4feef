//! [`App`]: the front door — an app's settings plus its API clients.

use std::future::Future;

use futures_util::{StreamExt, TryStreamExt, stream};

use crate::client::{Client, ClientBuilder, PageStream};
use crate::config::AppConfig;
use crate::error::{Error, Result};
use crate::models::{Installation, InstallationId, InstallationToken, Repository};

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

    /// Every installation of the app as a stream, fetching pages as it goes.
    pub fn installations_stream(&self) -> PageStream<Installation> {
        match self.client.installations().stream() {
            Ok(stream) => stream,
            Err(error) => Box::pin(stream::once(async move { Err(error) })),
        }
    }

    /// The repositories `installation` can reach, as a stream through its own token: those
    /// of its organisation, or of its user's personal space (when the account is a `User`,
    /// or the organisation listing answers 404 or nothing). An installation without an
    /// account path yields one [`Error::InvalidRequest`].
    pub fn repositories(&self, installation: &Installation) -> PageStream<Repository> {
        let client = self.installation_client(installation.id);
        let account = installation.account.path.clone();
        let user = installation.account.kind.as_deref() == Some("User");
        let listing = |client: &Client, user: bool| -> PageStream<Repository> {
            let repos = client.repos();
            let list = if user {
                repos.list_user(&account)
            } else {
                repos.list_org(&account)
            };
            list.stream()
                .unwrap_or_else(|error| Box::pin(stream::once(async move { Err(error) })))
        };
        if account.is_empty() {
            let error = Error::InvalidRequest(format!(
                "installation {} names no account path",
                installation.id
            ));
            return Box::pin(stream::once(async move { Err(error) }));
        }
        if user {
            return listing(&client, true);
        }
        let user_listing = listing(&client, true);
        let mut org = listing(&client, false);
        // The first item tells whether this is an organisation at all.
        let first = async move {
            match org.next().await {
                Some(Err(e)) if e.status() == Some(http::StatusCode::NOT_FOUND) => user_listing,
                Some(item) => Box::pin(stream::once(async move { item }).chain(org)),
                // An organisation with no repositories, or a personal space the platform
                // lists as an empty organisation: a 404 from the user listing means none.
                None => {
                    let mut user = user_listing;
                    let rest: PageStream<Repository> = match user.next().await {
                        Some(Err(e)) if e.status() == Some(http::StatusCode::NOT_FOUND) => {
                            Box::pin(stream::empty())
                        }
                        Some(item) => Box::pin(stream::once(async move { item }).chain(user)),
                        None => Box::pin(stream::empty()),
                    };
                    rest
                }
            }
        };
        Box::pin(stream::once(first).flatten())
    }

    /// Runs `f` for every installation (with a client acting as it), at most `concurrency`
    /// at a time; like octokit's `eachInstallation`. Installations that a delivery said were
    /// deleted or suspended are skipped.
    ///
    /// Stops at the first error, from the listing or from `f`, and returns it; fails with
    /// [`Error::InvalidRequest`] when `concurrency` is 0.
    ///
    /// ```no_run
    /// # async fn run() -> atombot::Result<()> {
    /// let app = atombot::App::from_env()?;
    /// app.for_each_installation(4, |installation, client| async move {
    ///     let repos = client.repos().list_org(&installation.account.path).all().await?;
    ///     println!("{}: {} repositories", installation.account.path, repos.len());
    ///     Ok::<_, atombot::Error>(())
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn for_each_installation<F, Fut, E>(&self, concurrency: usize, f: F) -> Result<(), E>
    where
        F: Fn(Installation, Client) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: From<Error>,
    {
        let limit = check_concurrency(concurrency)?;
        self.live_installations()
            .map_err(E::from)
            .try_for_each_concurrent(limit, |installation| {
                let client = self.installation_client(installation.id);
                f(installation, client)
            })
            .await
    }

    /// Runs `f` for every repository of every installation (with a client acting as that
    /// installation), at most `concurrency` calls of `f` at a time; like octokit's
    /// `eachRepository`. Installations are listed one after the other, each through
    /// [`repositories`](Self::repositories); removed ones are skipped.
    ///
    /// Stops at the first error, from a listing or from `f`, and returns it; fails with
    /// [`Error::InvalidRequest`] when `concurrency` is 0.
    pub async fn for_each_repository<F, Fut, E>(&self, concurrency: usize, f: F) -> Result<(), E>
    where
        F: Fn(Installation, Repository, Client) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: From<Error>,
    {
        let limit = check_concurrency(concurrency)?;
        let app = self.clone();
        self.live_installations()
            .map_ok(move |installation| {
                let repos = app.repositories(&installation);
                let client = app.installation_client(installation.id);
                repos.map_ok(move |repo| (installation.clone(), repo, client.clone()))
            })
            .try_flatten()
            .map_err(E::from)
            .try_for_each_concurrent(limit, |(installation, repo, client)| {
                f(installation, repo, client)
            })
            .await
    }

    /// The installations, without those marked removed in the token cache.
    fn live_installations(&self) -> PageStream<Installation> {
        let tokens = self.client.installation_tokens().cloned();
        Box::pin(self.installations_stream().try_filter(move |i| {
            let removed = tokens.as_ref().is_some_and(|t| t.is_removed(i.id));
            std::future::ready(!removed)
        }))
    }

    /// Mints a new token for `installation`, bypassing the cache.
    pub async fn create_installation_token(
        &self,
        installation: impl Into<InstallationId>,
    ) -> Result<InstallationToken> {
        self.client.installations().create_token(installation).await
    }
}

/// A concurrency limit of at least 1.
fn check_concurrency(concurrency: usize) -> Result<usize> {
    if concurrency == 0 {
        return Err(Error::InvalidRequest(
            "concurrency must be at least 1".to_owned(),
        ));
    }
    Ok(concurrency)
}
