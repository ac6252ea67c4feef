//! Commits as push payloads describe them.

use serde::{Deserialize, Serialize};

use crate::models::{GitActor, Timestamp, de};

/// A commit in a push.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PushCommit {
    /// The commit SHA (masked in some captures; not validated).
    #[serde(deserialize_with = "de::string")]
    pub id: String,
    /// Commit message.
    #[serde(deserialize_with = "de::string")]
    pub message: String,
    /// Commit time.
    #[serde(deserialize_with = "de::time")]
    pub timestamp: Option<Timestamp>,
    /// Web page.
    #[serde(deserialize_with = "de::opt_string")]
    pub url: Option<String>,
    /// Author.
    #[serde(deserialize_with = "de::or_default")]
    pub author: GitActor,
    /// Paths added.
    #[serde(deserialize_with = "de::or_default")]
    pub added: Vec<String>,
    /// Paths removed.
    #[serde(deserialize_with = "de::or_default")]
    pub removed: Vec<String>,
    /// Paths modified.
    #[serde(deserialize_with = "de::or_default")]
    pub modified: Vec<String>,
}
