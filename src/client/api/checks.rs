//! Check runs of one repository (an optional capability: a 404 is
//! [`Error::Unsupported`](crate::Error::Unsupported)).

use serde::Serialize;

use super::paths::{CHECKS_CREATE, CHECKS_UPDATE};
use crate::client::Client;
use crate::error::Result;
use crate::models::{CheckRun, CheckRunId, CheckRunOutput, Timestamp};

/// Check-run calls for `owner/repo`.
#[derive(Debug)]
pub struct ChecksHandler<'c> {
    client: &'c Client,
    owner: String,
    repo: String,
}

impl<'c> ChecksHandler<'c> {
    pub(crate) fn new(client: &'c Client, owner: &str, repo: &str) -> Self {
        Self {
            client,
            owner: owner.to_owned(),
            repo: repo.to_owned(),
        }
    }

    /// Starts a check run named `name` on commit `head_sha`.
    pub fn create(&self, name: &str, head_sha: &str) -> CreateCheckRun<'c> {
        CreateCheckRun {
            client: self.client,
            route: self.client.endpoint_path(
                &CHECKS_CREATE,
                &[("owner", &self.owner), ("repo", &self.repo)],
            ),
            body: CheckRunBody {
                name: Some(name.to_owned()),
                head_sha: Some(head_sha.to_owned()),
                ..CheckRunBody::default()
            },
        }
    }

    /// Updates check run `id`.
    pub fn update(&self, id: CheckRunId) -> UpdateCheckRun<'c> {
        UpdateCheckRun(CreateCheckRun {
            client: self.client,
            route: self.client.endpoint_path(
                &CHECKS_UPDATE,
                &[
                    ("owner", &self.owner),
                    ("repo", &self.repo),
                    ("id", id.as_str()),
                ],
            ),
            body: CheckRunBody::default(),
        })
    }
}

#[derive(Debug, Default, Serialize)]
struct CheckRunBody {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    head_sha: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    conclusion: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<CheckRunOutput>,
}

/// A check-run creation request.
#[derive(Debug)]
pub struct CreateCheckRun<'c> {
    client: &'c Client,
    route: Result<String>,
    body: CheckRunBody,
}

impl CreateCheckRun<'_> {
    /// `queued`, `in_progress` or `completed`.
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.body.status = Some(status.into());
        self
    }

    /// The result (`success`, `failure`, `neutral`, ...); marks the run completed.
    pub fn conclusion(mut self, conclusion: impl Into<String>) -> Self {
        self.body.conclusion = Some(conclusion.into());
        self
    }

    /// When the run started.
    pub fn started_at(mut self, at: Timestamp) -> Self {
        self.body.started_at = Some(at);
        self
    }

    /// When the run completed.
    pub fn completed_at(mut self, at: Timestamp) -> Self {
        self.body.completed_at = Some(at);
        self
    }

    /// What the check's page shows.
    pub fn output(mut self, output: CheckRunOutput) -> Self {
        self.body.output = Some(output);
        self
    }

    /// Creates the check run.
    ///
    /// Fails with [`Error::Unsupported`](crate::Error::Unsupported) when the platform has no
    /// check runs (404).
    pub async fn send(self) -> Result<CheckRun> {
        let route = self.route?;
        self.client
            .call::<_, (), _>(&CHECKS_CREATE, &route, None, Some(&self.body))
            .await
    }
}

/// A check-run update request; same setters as [`CreateCheckRun`].
#[derive(Debug)]
pub struct UpdateCheckRun<'c>(CreateCheckRun<'c>);

impl UpdateCheckRun<'_> {
    /// `queued`, `in_progress` or `completed`.
    pub fn status(self, status: impl Into<String>) -> Self {
        Self(self.0.status(status))
    }

    /// The result; marks the run completed.
    pub fn conclusion(self, conclusion: impl Into<String>) -> Self {
        Self(self.0.conclusion(conclusion))
    }

    /// When the run completed.
    pub fn completed_at(self, at: Timestamp) -> Self {
        Self(self.0.completed_at(at))
    }

    /// What the check's page shows.
    pub fn output(self, output: CheckRunOutput) -> Self {
        Self(self.0.output(output))
    }

    /// Sends the update.
    ///
    /// Fails with [`Error::Unsupported`](crate::Error::Unsupported) when the platform has no
    /// check runs (404).
    pub async fn send(self) -> Result<CheckRun> {
        let route = self.0.route?;
        self.0
            .client
            .call::<_, (), _>(&CHECKS_UPDATE, &route, None, Some(&self.0.body))
            .await
    }
}
