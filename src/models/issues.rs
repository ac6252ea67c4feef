//! Issues, their comments, labels and reactions.

use serde::{Deserialize, Serialize};

use super::user::lenient as lenient_user;
use super::{CommentId, IssueId, LabelId, ReactionId, Timestamp, User, de};

/// An issue, as the API and webhook payloads describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Issue {
    /// Global id (distinct from `number`).
    pub id: IssueId,
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
    /// Web page.
    #[serde(deserialize_with = "de::opt_string")]
    pub html_url: Option<String>,
    /// Author.
    #[serde(deserialize_with = "lenient_user")]
    pub user: User,
    /// Labels.
    #[serde(deserialize_with = "de::or_default")]
    pub labels: Vec<Label>,
    /// The (first) assignee, when sent.
    pub assignee: Option<User>,
    /// Assignees.
    #[serde(deserialize_with = "de::or_default")]
    pub assignees: Vec<User>,
    /// Whether comments are locked.
    #[serde(deserialize_with = "de::bool")]
    pub locked: bool,
    /// Creation time.
    #[serde(deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
    /// Last update time.
    #[serde(deserialize_with = "de::time")]
    pub updated_at: Option<Timestamp>,
    /// Close time.
    #[serde(deserialize_with = "de::time")]
    pub closed_at: Option<Timestamp>,
}

/// A comment on an issue, pull request or commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Comment {
    /// The comment's id.
    pub id: CommentId,
    /// Markdown text (`note` in GitLab-shaped bodies).
    #[serde(deserialize_with = "de::string")]
    pub body: String,
    /// Author.
    #[serde(deserialize_with = "lenient_user")]
    pub user: User,
    /// Web page of the comment.
    #[serde(deserialize_with = "de::opt_string")]
    pub html_url: Option<String>,
    /// The commit commented on, for commit comments.
    #[serde(deserialize_with = "de::opt_string")]
    pub commit_id: Option<String>,
    /// Creation time.
    #[serde(deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
    /// Last edit time.
    #[serde(deserialize_with = "de::time")]
    pub updated_at: Option<Timestamp>,
}

/// A label on an issue or pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Label {
    /// The label's id (a number or a string, kept as text).
    pub id: LabelId,
    /// Name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// Colour, hex (with or without `#`).
    #[serde(deserialize_with = "de::opt_string")]
    pub color: Option<String>,
    /// Description.
    #[serde(deserialize_with = "de::opt_string")]
    pub description: Option<String>,
}

/// A reaction (emoji) on an issue, pull request or comment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Reaction {
    /// The reaction's id (a string on `/api/v5`).
    pub id: ReactionId,
    /// The emoji name (`+1`, `heart`, `rocket`, …).
    #[serde(deserialize_with = "de::string")]
    pub content: String,
    /// Who reacted.
    #[serde(deserialize_with = "lenient_user")]
    pub user: User,
    /// When.
    #[serde(deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
}
