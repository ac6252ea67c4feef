//! One enum over every typed payload, with the raw JSON for the rest.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{
    InstallationEvent, InstallationRepositoriesEvent, IssueCommentEvent, IssuesEvent,
    PullRequestEvent, PullRequestReviewCommentEvent, PushEvent,
};

/// A payload decoded by its canonical event name; events without a type stay raw JSON.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventPayload {
    /// `push`.
    Push(Box<PushEvent>),
    /// `issues`.
    Issues(Box<IssuesEvent>),
    /// `issue_comment`.
    IssueComment(Box<IssueCommentEvent>),
    /// `pull_request`.
    PullRequest(Box<PullRequestEvent>),
    /// `pull_request_review_comment`.
    PullRequestReviewComment(Box<PullRequestReviewCommentEvent>),
    /// `installation`.
    Installation(Box<InstallationEvent>),
    /// `installation_repositories`.
    InstallationRepositories(Box<InstallationRepositoriesEvent>),
    /// Any other event: the (normalised) body as JSON.
    Unknown(Value),
}

impl EventPayload {
    /// Decodes `body` as the payload of `event` (a canonical name, e.g. `pull_request`).
    ///
    /// # Errors
    /// The path-aware error of the first field that does not fit the event's type.
    pub fn from_value(
        event: &str,
        body: &Value,
    ) -> Result<Self, serde_path_to_error::Error<serde_json::Error>> {
        fn boxed<T: DeserializeOwned>(
            body: &Value,
        ) -> Result<Box<T>, serde_path_to_error::Error<serde_json::Error>> {
            serde_path_to_error::deserialize(body).map(Box::new)
        }
        Ok(match event {
            "push" => Self::Push(boxed(body)?),
            "issues" => Self::Issues(boxed(body)?),
            "issue_comment" => Self::IssueComment(boxed(body)?),
            "pull_request" => Self::PullRequest(boxed(body)?),
            "pull_request_review_comment" => Self::PullRequestReviewComment(boxed(body)?),
            "installation" => Self::Installation(boxed(body)?),
            "installation_repositories" => Self::InstallationRepositories(boxed(body)?),
            _ => Self::Unknown(body.clone()),
        })
    }
}
