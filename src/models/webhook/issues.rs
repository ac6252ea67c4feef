//! `issues` and `issue_comment`: issues and their comments.

use serde::{Deserialize, Serialize};

use crate::models::user::lenient as lenient_user;
use crate::models::{Comment, InstallationRef, Issue, Label, Repository, User, de};

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
    #[serde(deserialize_with = "lenient_user")]
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
    #[serde(deserialize_with = "lenient_user")]
    pub sender: User,
    /// The installation, when sent.
    pub installation: Option<InstallationRef>,
}
