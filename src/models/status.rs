//! Commit statuses.

use serde::{Deserialize, Serialize};

use super::{StatusId, Timestamp, de};

/// The state of a commit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CommitState {
    /// Waiting for a result.
    #[default]
    Pending,
    /// Passed.
    Success,
    /// Failed.
    Failure,
    /// Could not run.
    Error,
}

/// A status attached to a commit (`POST /repos/{o}/{r}/statuses/{sha}`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CommitStatus {
    /// The status's id.
    pub id: StatusId,
    /// Its state.
    pub state: CommitState,
    /// Link to details.
    pub target_url: Option<String>,
    /// Short description.
    pub description: Option<String>,
    /// The label that distinguishes this status from others (default `default`).
    pub context: Option<String>,
    /// Whether a branch rule requires it.
    #[serde(deserialize_with = "de::bool")]
    pub required: bool,
    /// Creation time.
    #[serde(deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
}
