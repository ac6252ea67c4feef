//! Commit statuses of one repository (an optional capability: a 404 is
//! [`Error::Unsupported`](crate::Error::Unsupported)).

use serde::Serialize;

use super::paths::STATUSES_CREATE;
use crate::client::Client;
use crate::error::Result;
use crate::models::{CommitState, CommitStatus};

/// Commit-status calls for `owner/repo`.
#[derive(Debug)]
pub struct StatusesHandler<'c> {
    client: &'c Client,
    owner: String,
    repo: String,
}

impl<'c> StatusesHandler<'c> {
    pub(crate) fn new(client: &'c Client, owner: &str, repo: &str) -> Self {
        Self {
            client,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        }
    }

    /// Starts a status for commit `sha`; end with [`CreateStatus::send`].
    pub fn create(&self, sha: &str, state: CommitState) -> CreateStatus<'c> {
        CreateStatus {
            client: self.client,
            route: self.client.endpoint_path(
                &STATUSES_CREATE,
                &[("owner", &self.owner), ("repo", &self.repo), ("sha", sha)],
            ),
            body: StatusBody {
                state,
                target_url: None,
                description: None,
                context: None,
            },
        }
    }
}

#[derive(Debug, Serialize)]
struct StatusBody {
    state: CommitState,
    #[serde(skip_serializing_if = "Option::is_none")]
    target_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context: Option<String>,
}

/// A commit-status request.
#[derive(Debug)]
pub struct CreateStatus<'c> {
    client: &'c Client,
    route: Result<String>,
    body: StatusBody,
}

impl CreateStatus<'_> {
    /// Link to details.
    pub fn target_url(mut self, url: impl Into<String>) -> Self {
        self.body.target_url = Some(url.into());
        self
    }

    /// Short description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.body.description = Some(text.into());
        self
    }

    /// The label distinguishing this status (default `default`).
    pub fn context(mut self, context: impl Into<String>) -> Self {
        self.body.context = Some(context.into());
        self
    }

    /// Creates the status.
    ///
    /// Fails with [`Error::Unsupported`](crate::Error::Unsupported) when the platform has no
    /// commit statuses (404).
    pub async fn send(self) -> Result<CommitStatus> {
        let route = self.route?;
        self.client
            .call::<_, (), _>(&STATUSES_CREATE, &route, None, Some(&self.body))
            .await
    }
}
