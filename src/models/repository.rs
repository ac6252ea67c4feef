//! Repositories, their branches and tags.

use serde::{Deserialize, Serialize};

use super::user::lenient as lenient_user;
use super::{RepositoryId, Timestamp, User, de};

/// A repository, as the API and webhook payloads describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Repository {
    /// The id (a number or 24 hex digits, kept as text).
    pub id: RepositoryId,
    /// Short name (`app`).
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// `owner/name`.
    #[serde(deserialize_with = "de::string")]
    pub full_name: String,
    /// `owner/name` as GitLab-shaped bodies write it, when sent.
    #[serde(deserialize_with = "de::opt_string")]
    pub path_with_namespace: Option<String>,
    /// The owner; some API versions send only a login string, or null.
    #[serde(deserialize_with = "lenient_user")]
    pub owner: User,
    /// Whether the repository is private (`true`/`false` or `1`/`0`).
    #[serde(deserialize_with = "de::bool")]
    pub private: bool,
    /// Whether it is archived.
    #[serde(deserialize_with = "de::bool")]
    pub archived: bool,
    /// Whether it is a fork.
    #[serde(deserialize_with = "de::bool")]
    pub fork: bool,
    /// Web page.
    #[serde(deserialize_with = "de::opt_string")]
    pub html_url: Option<String>,
    /// HTTPS clone URL.
    #[serde(deserialize_with = "de::opt_string")]
    pub clone_url: Option<String>,
    /// SSH clone URL.
    #[serde(deserialize_with = "de::opt_string")]
    pub ssh_url: Option<String>,
    /// Description.
    #[serde(deserialize_with = "de::opt_string")]
    pub description: Option<String>,
    /// Default branch.
    #[serde(deserialize_with = "de::opt_string")]
    pub default_branch: Option<String>,
    /// Creation time.
    #[serde(deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
    /// Last update time.
    #[serde(deserialize_with = "de::time")]
    pub updated_at: Option<Timestamp>,
}

impl Repository {
    /// `owner/name`: `full_name`, else `path_with_namespace`, else the owner's login and the
    /// name; `None` when none is known.
    pub fn owner_and_name(&self) -> Option<String> {
        let full = [Some(&self.full_name), self.path_with_namespace.as_ref()]
            .into_iter()
            .flatten()
            .find(|f| f.contains('/'))
            .cloned();
        full.or_else(|| {
            (!self.owner.login.is_empty() && !self.name.is_empty())
                .then(|| format!("{}/{}", self.owner.login, self.name))
        })
    }
}

/// A branch (`GET /repos/{o}/{r}/branches[/{name}]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Branch {
    /// Branch name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// The commit at the branch's tip.
    #[serde(deserialize_with = "de::or_default")]
    pub commit: CommitRef,
    /// Whether branch protection applies.
    #[serde(deserialize_with = "de::bool")]
    pub protected: bool,
}

/// A tag (`GET /repos/{o}/{r}/tags`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Tag {
    /// Tag name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// The tagged commit.
    #[serde(deserialize_with = "de::or_default")]
    pub commit: CommitRef,
    /// Annotation message, when sent.
    #[serde(deserialize_with = "de::opt_string")]
    pub message: Option<String>,
}

/// A commit named by its SHA (the `commit` of a branch or tag).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CommitRef {
    /// The commit SHA (`id` in some bodies).
    #[serde(alias = "id", deserialize_with = "de::string")]
    pub sha: String,
    /// API or web URL of the commit, when sent.
    #[serde(deserialize_with = "de::opt_string")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_may_be_object_string_or_null() {
        let a: Repository =
            serde_json::from_str(r#"{"id":1,"owner":{"login":"o","id":"62b5"}}"#).unwrap();
        let b: Repository =
            serde_json::from_str(r#"{"id":"2","owner":"o","createdAt":1}"#).unwrap();
        let c: Repository = serde_json::from_str(r#"{"owner":null}"#).unwrap();
        assert_eq!(a.owner.login, "o");
        assert_eq!(a.id.as_str(), "1");
        assert_eq!(b.owner.login, "o");
        assert_eq!(c.owner, User::default());
    }

    #[test]
    fn hex_ids_and_numeric_booleans() {
        let r: Repository = serde_json::from_str(
            r#"{"id":"6638af02bbeee41d0fe74c35","private":0,"archived":"1","name":"app",
                "path_with_namespace":"acme/app"}"#,
        )
        .unwrap();
        assert_eq!(r.id.as_str(), "6638af02bbeee41d0fe74c35");
        assert!(!r.private && r.archived);
        assert_eq!(r.owner_and_name().as_deref(), Some("acme/app"));
    }
}
