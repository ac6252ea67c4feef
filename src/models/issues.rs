//! Issue comments and labels.

use serde::{Deserialize, Serialize};

use super::{CommentId, Timestamp, User};

/// A comment on an issue or pull request.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Comment {
    /// The comment's id.
    pub id: CommentId,
    /// Markdown text.
    pub body: String,
    /// Author.
    pub user: Option<User>,
    /// Web page of the comment.
    pub html_url: Option<String>,
    /// Creation time.
    pub created_at: Option<Timestamp>,
    /// Last edit time.
    pub updated_at: Option<Timestamp>,
}

/// A label on an issue or pull request.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Label {
    /// The label's id (a number or a string, kept as text).
    pub id: CommentId,
    /// Name.
    pub name: String,
    /// Colour, hex without `#`.
    pub color: Option<String>,
}
