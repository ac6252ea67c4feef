//! `pull_request`: pull (merge) requests.

use serde::{Deserialize, Serialize};

use super::de;
use super::{InstallationRef, Label, Repository, User};

/// A pull request as webhook payloads describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PullRequest {
    /// Global id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Number within the repository (`iid` in GitLab-shaped bodies).
    #[serde(deserialize_with = "de::id")]
    pub number: u64,
    /// Title.
    #[serde(deserialize_with = "de::string")]
    pub title: String,
    /// Body (Markdown).
    pub body: Option<String>,
    /// `open` or `closed`.
    #[serde(deserialize_with = "de::string")]
    pub state: String,
    /// Closed by merging.
    #[serde(deserialize_with = "de::or_default")]
    pub merged: bool,
    /// Draft (work in progress).
    #[serde(deserialize_with = "de::or_default")]
    pub draft: bool,
    /// Web page.
    pub html_url: Option<String>,
    /// The source branch.
    #[serde(deserialize_with = "de::or_default")]
    pub head: Branch,
    /// The target branch.
    #[serde(deserialize_with = "de::or_default")]
    pub base: Branch,
    /// Author.
    #[serde(deserialize_with = "de::or_default")]
    pub user: User,
    /// Labels.
    #[serde(deserialize_with = "de::or_default")]
    pub labels: Vec<Label>,
    /// Creation time as sent.
    pub created_at: Option<String>,
    /// Last update time as sent.
    pub updated_at: Option<String>,
    /// Merge time as sent.
    pub merged_at: Option<String>,
    /// The merge commit, once merged.
    pub merge_commit_sha: Option<String>,
}

/// One side of a pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Branch {
    /// Branch name (not a full ref).
    #[serde(rename = "ref", deserialize_with = "de::string")]
    pub git_ref: String,
    /// Commit SHA at this side, when sent.
    pub sha: Option<String>,
    /// The repository this side lives in.
    pub repo: Option<Repository>,
}

/// The `pull_request` payload: `opened`, `synchronize`, `closed` (see `merged`), …
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PullRequestEvent {
    /// What happened.
    #[serde(deserialize_with = "de::string")]
    pub action: String,
    /// The pull request number.
    #[serde(deserialize_with = "de::id")]
    pub number: u64,
    /// The pull request.
    #[serde(deserialize_with = "de::or_default")]
    pub pull_request: PullRequest,
    /// The repository.
    #[serde(deserialize_with = "de::or_default")]
    pub repository: Repository,
    /// Who acted.
    #[serde(deserialize_with = "de::or_default")]
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
