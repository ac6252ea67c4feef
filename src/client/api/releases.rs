//! Releases of one repository.

use serde::Serialize;

use super::paths::{RELEASES_BY_TAG, RELEASES_CREATE, RELEASES_LIST};
use crate::client::Client;
use crate::error::Result;
use crate::models::Release;

/// Release calls for `owner/repo`.
#[derive(Debug)]
pub struct ReleasesHandler<'c> {
    client: &'c Client,
    owner: String,
    repo: String,
}

impl<'c> ReleasesHandler<'c> {
    pub(crate) fn new(client: &'c Client, owner: &str, repo: &str) -> Self {
        Self {
            client,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        }
    }

    /// Every release.
    pub async fn list(&self) -> Result<Vec<Release>> {
        let path = self.client.endpoint_path(
            &RELEASES_LIST,
            &[("owner", &self.owner), ("repo", &self.repo)],
        )?;
        self.client.call_all(&RELEASES_LIST, &path).await
    }

    /// The release of tag `tag`.
    pub async fn by_tag(&self, tag: &str) -> Result<Release> {
        let path = self.client.endpoint_path(
            &RELEASES_BY_TAG,
            &[("owner", &self.owner), ("repo", &self.repo), ("tag", tag)],
        )?;
        self.client
            .call::<_, (), ()>(&RELEASES_BY_TAG, &path, None, None)
            .await
    }

    /// Starts a release of tag `tag`; end with [`CreateRelease::send`].
    pub fn create(&self, tag: impl Into<String>) -> CreateRelease<'c> {
        CreateRelease {
            client: self.client,
            route: self.client.endpoint_path(
                &RELEASES_CREATE,
                &[("owner", &self.owner), ("repo", &self.repo)],
            ),
            body: ReleaseBody {
                tag_name: tag.into(),
                ..ReleaseBody::default()
            },
        }
    }
}

#[derive(Debug, Default, Serialize)]
struct ReleaseBody {
    tag_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_commitish: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    draft: bool,
    prerelease: bool,
}

/// A release-creation request.
#[derive(Debug)]
pub struct CreateRelease<'c> {
    client: &'c Client,
    route: Result<String>,
    body: ReleaseBody,
}

impl CreateRelease<'_> {
    /// Title.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.body.name = Some(name.into());
        self
    }

    /// Release notes (Markdown).
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body.body = Some(body.into());
        self
    }

    /// The branch or commit the tag is created from, if it does not exist yet.
    pub fn target(mut self, commitish: impl Into<String>) -> Self {
        self.body.target_commitish = Some(commitish.into());
        self
    }

    /// Marks it a draft.
    pub fn draft(mut self, draft: bool) -> Self {
        self.body.draft = draft;
        self
    }

    /// Marks it a pre-release.
    pub fn prerelease(mut self, prerelease: bool) -> Self {
        self.body.prerelease = prerelease;
        self
    }

    /// Creates the release.
    pub async fn send(self) -> Result<Release> {
        let route = self.route?;
        self.client
            .call::<_, (), _>(&RELEASES_CREATE, &route, None, Some(&self.body))
            .await
    }
}
