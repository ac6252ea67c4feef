//! `/app/installations`: list the app's installations and mint their access tokens.

use futures_util::future::BoxFuture;

use super::paths::{INSTALLATIONS_LIST, INSTALLATIONS_TOKEN};
use crate::auth::Mint;
use crate::client::{Client, PageStream};
use crate::error::Result;
use crate::models::{Installation, InstallationId, InstallationToken};

/// Installation calls; the client must authenticate as the app.
#[derive(Debug)]
pub struct InstallationsHandler<'c> {
    client: &'c Client,
}

impl<'c> InstallationsHandler<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self { client }
    }

    /// Every installation of the app, following pages if the platform pages.
    pub async fn list(&self) -> Result<Vec<Installation>> {
        let path = self.client.endpoint_path(&INSTALLATIONS_LIST, &[])?;
        self.client.call_all(&INSTALLATIONS_LIST, &path).await
    }

    /// Streams every installation of the app, fetching pages as it goes.
    ///
    /// Fails with [`Error::Config`](crate::Error::Config) when the endpoint path does not
    /// render.
    pub fn stream(&self) -> Result<PageStream<Installation>> {
        let path = self.client.endpoint_path(&INSTALLATIONS_LIST, &[])?;
        Ok(self.client.paginate(&path))
    }

    /// Mints a new access token for `installation` (bypassing the token cache).
    pub async fn create_token(
        &self,
        installation: impl Into<InstallationId>,
    ) -> Result<InstallationToken> {
        let id = installation.into().to_string();
        let path = self
            .client
            .endpoint_path(&INSTALLATIONS_TOKEN, &[("installation", &id)])?;
        self.client
            .call::<_, (), _>(
                &INSTALLATIONS_TOKEN,
                &path,
                None,
                Some(&serde_json::json!({})),
            )
            .await
    }
}

/// Mints installation tokens through an app-authenticated client.
#[derive(Debug)]
pub(crate) struct AppMinter {
    client: Client,
}

impl AppMinter {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }
}

impl Mint for AppMinter {
    fn mint(&self, installation: InstallationId) -> BoxFuture<'static, Result<InstallationToken>> {
        let client = self.client.clone();
        Box::pin(async move { client.installations().create_token(installation).await })
    }
}
