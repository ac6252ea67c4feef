//! Repositories.

use serde::{Deserialize, Deserializer, Serialize};

use super::{RepositoryId, Timestamp, User};

/// A repository.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Repository {
    /// Numeric id.
    pub id: RepositoryId,
    /// Short name.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// The owner; some API versions send only a login string, or null.
    #[serde(deserialize_with = "owner")]
    pub owner: Option<User>,
    /// Whether the repository is private.
    pub private: bool,
    /// Whether it is a fork.
    pub fork: bool,
    /// Web page.
    pub html_url: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Default branch.
    pub default_branch: Option<String>,
    /// Creation time.
    pub created_at: Option<Timestamp>,
    /// Last update time.
    pub updated_at: Option<Timestamp>,
}

fn owner<'de, D: Deserializer<'de>>(d: D) -> Result<Option<User>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(login) => Some(User {
            login,
            ..User::default()
        }),
        v @ serde_json::Value::Object(_) => serde_json::from_value(v).ok(),
        _ => None,
    })
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
        assert_eq!(a.owner.unwrap().login, "o");
        assert_eq!(b.owner.unwrap().login, "o");
        assert!(c.owner.is_none());
    }
}
