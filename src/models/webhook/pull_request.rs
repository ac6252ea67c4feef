//! `pull_request` and `pull_request_review_comment`: pull (merge) requests and comments on them.

use serde::{Deserialize, Serialize};

use crate::models::user::lenient as lenient_user;
use crate::models::{Comment, InstallationRef, PullRequest, Repository, User, de};

/// The `pull_request` payload: `opened`, `synchronize`, `edited`, `reopened`, `closed` (see
/// `pull_request.merged`), …
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PullRequestEvent {
    /// What happened.
    #[serde(deserialize_with = "de::string")]
    pub action: String,
    /// The pull request number.
    #[serde(deserialize_with = "de::number")]
    pub number: u64,
    /// The pull request.
    #[serde(deserialize_with = "de::or_default")]
    pub pull_request: PullRequest,
    /// The repository.
    #[serde(deserialize_with = "de::or_default")]
    pub repository: Repository,
    /// Who acted.
    #[serde(deserialize_with = "lenient_user")]
    pub sender: User,
    /// The installation, when sent.
    pub installation: Option<InstallationRef>,
}

impl PullRequestEvent {
    /// The number from the event, else from the pull request.
    pub fn number(&self) -> u64 {
        if self.number != 0 {
            self.number
        } else {
            self.pull_request.number
        }
    }
}

/// The `pull_request_review_comment` payload (a GitLab note on a merge request): `created`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PullRequestReviewCommentEvent {
    /// What happened.
    #[serde(deserialize_with = "de::string")]
    pub action: String,
    /// The comment.
    #[serde(deserialize_with = "de::or_default")]
    pub comment: Comment,
    /// The pull request commented on.
    #[serde(deserialize_with = "de::or_default")]
    pub pull_request: PullRequest,
    /// The repository.
    #[serde(deserialize_with = "de::or_default")]
    pub repository: Repository,
    /// Who acted.
    #[serde(deserialize_with = "lenient_user")]
    pub sender: User,
    /// The installation, when sent.
    pub installation: Option<InstallationRef>,
}
