//! Check runs.

use serde::{Deserialize, Serialize};

use super::{CheckRunId, Timestamp, de};

/// A check run on a commit.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CheckRun {
    /// The check run's id.
    pub id: CheckRunId,
    /// Name shown on the commit.
    pub name: String,
    /// The commit it belongs to.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: Option<String>,
    /// Result once completed (`success`, `failure`, `neutral`, ...).
    pub conclusion: Option<String>,
    /// Start time.
    #[serde(deserialize_with = "de::time")]
    pub started_at: Option<Timestamp>,
    /// Completion time.
    #[serde(deserialize_with = "de::time")]
    pub completed_at: Option<Timestamp>,
    /// What is shown on the check's page.
    pub output: Option<CheckRunOutput>,
}

/// The text shown on a check run's page.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CheckRunOutput {
    /// Title.
    pub title: Option<String>,
    /// Markdown summary (at most 65,535 characters).
    pub summary: Option<String>,
    /// Markdown details (at most 65,535 characters).
    pub text: Option<String>,
}

impl CheckRunOutput {
    /// An output with a title and a summary.
    pub fn new(title: impl Into<String>, summary: impl Into<String>) -> Self {
        Self {
            title: Some(title.into()),
            summary: Some(summary.into()),
            text: None,
        }
    }
}
