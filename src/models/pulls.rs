//! Pull (merge) requests, their files, commits, reviews and merges.

use serde::{Deserialize, Serialize};

use super::user::lenient as lenient_user;
use super::{Label, PullRequestId, Repository, ReviewId, Timestamp, User, de};

/// A pull request, as the API and webhook payloads describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PullRequest {
    /// Global id (a string on AtomGit; distinct from `number`).
    pub id: PullRequestId,
    /// Number within the repository (`iid` in GitLab-shaped bodies; may come as a string).
    #[serde(deserialize_with = "de::number")]
    pub number: u64,
    /// Title.
    #[serde(deserialize_with = "de::string")]
    pub title: String,
    /// Body (Markdown).
    #[serde(deserialize_with = "de::opt_string")]
    pub body: Option<String>,
    /// `open` or `closed`.
    #[serde(deserialize_with = "de::string")]
    pub state: String,
    /// Closed by merging.
    #[serde(deserialize_with = "de::bool")]
    pub merged: bool,
    /// Draft (work in progress).
    #[serde(deserialize_with = "de::bool")]
    pub draft: bool,
    /// Whether it can be merged, when the platform says.
    #[serde(deserialize_with = "de::opt_bool")]
    pub mergeable: Option<bool>,
    /// Web page.
    #[serde(deserialize_with = "de::opt_string")]
    pub html_url: Option<String>,
    /// The source branch.
    #[serde(deserialize_with = "de::or_default")]
    pub head: BranchRef,
    /// The target branch.
    #[serde(deserialize_with = "de::or_default")]
    pub base: BranchRef,
    /// Author.
    #[serde(deserialize_with = "lenient_user")]
    pub user: User,
    /// Labels.
    #[serde(deserialize_with = "de::or_default")]
    pub labels: Vec<Label>,
    /// Assignees.
    #[serde(deserialize_with = "de::or_default")]
    pub assignees: Vec<User>,
    /// Creation time.
    #[serde(deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
    /// Last update time.
    #[serde(deserialize_with = "de::time")]
    pub updated_at: Option<Timestamp>,
    /// Close time.
    #[serde(deserialize_with = "de::time")]
    pub closed_at: Option<Timestamp>,
    /// Merge time.
    #[serde(deserialize_with = "de::time")]
    pub merged_at: Option<Timestamp>,
    /// The merge commit, once merged.
    #[serde(deserialize_with = "de::opt_string")]
    pub merge_commit_sha: Option<String>,
}

/// One side of a pull request: a branch, its tip and its repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BranchRef {
    /// Branch name (not a full ref).
    #[serde(rename = "ref", deserialize_with = "de::string")]
    pub git_ref: String,
    /// Commit SHA at this side, when sent.
    #[serde(deserialize_with = "de::opt_string")]
    pub sha: Option<String>,
    /// The repository this side lives in.
    pub repo: Option<Repository>,
}

/// A file changed by a pull request (`GET …/pulls/{n}/files`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PullRequestFile {
    /// Path of the file.
    #[serde(deserialize_with = "de::string")]
    pub filename: String,
    /// `added`, `modified`, `removed`, `renamed`, …
    #[serde(deserialize_with = "de::string")]
    pub status: String,
    /// Lines added.
    #[serde(deserialize_with = "de::number")]
    pub additions: u64,
    /// Lines removed.
    #[serde(deserialize_with = "de::number")]
    pub deletions: u64,
    /// Lines changed.
    #[serde(deserialize_with = "de::number")]
    pub changes: u64,
    /// The unified diff, when sent.
    #[serde(deserialize_with = "de::opt_string")]
    pub patch: Option<String>,
    /// Blob SHA.
    #[serde(deserialize_with = "de::opt_string")]
    pub sha: Option<String>,
}

/// A commit as the API lists it (pull request commits).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Commit {
    /// The commit SHA.
    #[serde(deserialize_with = "de::string")]
    pub sha: String,
    /// Web page.
    #[serde(deserialize_with = "de::opt_string")]
    pub html_url: Option<String>,
    /// Message, author and committer.
    #[serde(deserialize_with = "de::or_default")]
    pub commit: CommitDetail,
    /// The platform account of the author, when matched.
    pub author: Option<User>,
}

/// The git data of a [`Commit`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CommitDetail {
    /// Commit message.
    #[serde(deserialize_with = "de::string")]
    pub message: String,
    /// Author.
    #[serde(deserialize_with = "de::or_default")]
    pub author: GitActor,
    /// Committer.
    #[serde(deserialize_with = "de::or_default")]
    pub committer: GitActor,
}

/// A commit's author or committer as git records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct GitActor {
    /// Name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// E-mail.
    #[serde(deserialize_with = "de::string")]
    pub email: String,
    /// Login, when the platform matched one.
    #[serde(deserialize_with = "de::opt_string")]
    pub username: Option<String>,
    /// When.
    #[serde(deserialize_with = "de::time")]
    pub date: Option<Timestamp>,
}

/// A pull request review (`POST …/pulls/{n}/reviews`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Review {
    /// The review's id.
    pub id: ReviewId,
    /// `APPROVED`, `COMMENTED`, …
    #[serde(deserialize_with = "de::string")]
    pub state: String,
    /// Text.
    #[serde(deserialize_with = "de::opt_string")]
    pub body: Option<String>,
    /// Reviewer.
    #[serde(deserialize_with = "lenient_user")]
    pub user: User,
    /// When it was submitted.
    #[serde(deserialize_with = "de::time")]
    pub submitted_at: Option<Timestamp>,
}

/// The answer to a merge (`PUT …/pulls/{n}/merge`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct MergeResult {
    /// The merge commit.
    #[serde(deserialize_with = "de::opt_string")]
    pub sha: Option<String>,
    /// Whether it merged.
    #[serde(deserialize_with = "de::bool")]
    pub merged: bool,
    /// The platform's message.
    #[serde(deserialize_with = "de::opt_string")]
    pub message: Option<String>,
}
