//! `issues` and `issue_comment`: issues and their comments.

use serde::{Deserialize, Serialize};

use super::de;
use super::{InstallationRef, Label, Repository, User};

/// An issue as webhook payloads describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Issue {
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
    /// Web page.
    pub html_url: Option<String>,
    /// Author.
    #[serde(deserialize_with = "de::or_default")]
    pub user: User,
    /// Labels.
    #[serde(deserialize_with = "de::or_default")]
    pub labels: Vec<Label>,
    /// Assignees.
    #[serde(deserialize_with = "de::or_default")]
    pub assignees: Vec<User>,
    /// Creation time as sent.
    pub created_at: Option<String>,
    /// Last update time as sent.
    pub updated_at: Option<String>,
    /// Close time as sent.
    pub closed_at: Option<String>,
}

/// A comment on an issue, pull request or commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Comment {
    /// Id.
    #[serde(deserialize_with = "de::id")]
    pub id: u64,
    /// Body (Markdown; `note` in GitLab-shaped bodies).
    #[serde(deserialize_with = "de::string")]
    pub body: String,
    /// Web page.
    pub html_url: Option<String>,
    /// Author.
    #[serde(deserialize_with = "de::or_default")]
    pub user: User,
    /// The commit commented on, for commit comments.
    pub commit_id: Option<String>,
    /// Creation time as sent.
    pub created_at: Option<String>,
    /// Last update time as sent.
    pub updated_at: Option<String>,
}

/// The `issues` payload: `opened`, `edited`, `closed`, `reopened`, `labeled`, …
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct IssuesEvent {
    /// What happened.
    #[serde(deserialize_with = "de::string")]
    pub action: String,
    /// The issue.
    #[serde(deserialize_with = "de::or_default")]
    pub issue: Issue,
    /// The label added or removed (`labeled`, `unlabeled`).
    pub label: Option<Label>,
    /// The user assigned or unassigned (`assigned`, `unassigned`).
    pub assignee: Option<User>,
    /// The repository.
    #[serde(deserialize_with = "de::or_default")]
    pub repository: Repository,
    /// Who acted.
    #[serde(deserialize_with = "de::or_default")]
    pub sender: User,
    /// The installation, when sent.
    pub installation: Option<InstallationRef>,
}

/// The `issue_comment` payload: `created`, `edited`, `deleted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct IssueCommentEvent {
    /// What happened.
    #[serde(deserialize_with = "de::string")]
    pub action: String,
    /// The issue commented on.
    #[serde(deserialize_with = "de::or_default")]
    pub issue: Issue,
    /// The comment.
    #[serde(deserialize_with = "de::or_default")]
    pub comment: Comment,
    /// The repository.
    #[serde(deserialize_with = "de::or_default")]
    pub repository: Repository,
    /// Who acted.
    #[serde(deserialize_with = "de::or_default")]
    pub sender: User,
    /// The installation, when sent.
    pub installation: Option<InstallationRef>,
}
