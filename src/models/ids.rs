//! Id newtypes that accept numbers or strings on the wire.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A JSON value that is either a number or a string: the platform uses both for ids.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrStr {
    Num(serde_json::Number),
    Str(String),
}

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Deserializes from a JSON number or a numeric string.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = match NumOrStr::deserialize(d)? {
                    NumOrStr::Num(n) => n.to_string(),
                    NumOrStr::Str(s) => s,
                };
                text.trim()
                    .parse()
                    .map($name)
                    .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a numeric id")))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                $name(id)
            }
        }
    };
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Deserializes from a JSON string or number, kept as text.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(match NumOrStr::deserialize(d)? {
                    NumOrStr::Num(n) => $name(n.to_string()),
                    NumOrStr::Str(s) => $name(s),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }
    };
}

numeric_id!(
    /// An app installation's id (the `{id}` of `/app/installations/{id}`).
    InstallationId
);
numeric_id!(
    /// A repository's id.
    RepositoryId
);
numeric_id!(
    /// A commit status's id.
    StatusId
);
numeric_id!(
    /// A check run's id.
    CheckRunId
);
string_id!(
    /// A user's or organisation's id (24 hex digits on AtomGit, e.g. `62c3ea551b506da49a835225`).
    UserId
);
string_id!(
    /// An issue's id (distinct from its per-repository `number`).
    IssueId
);
string_id!(
    /// An issue or pull request comment's id.
    CommentId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_ids_accept_numbers_and_strings() {
        let a: InstallationId = serde_json::from_str("14").unwrap();
        let b: InstallationId = serde_json::from_str("\"14\"").unwrap();
        assert_eq!(a, b);
        assert!(serde_json::from_str::<InstallationId>("\"x14\"").is_err());
    }

    #[test]
    fn string_ids_accept_numbers_and_strings() {
        let a: CommentId = serde_json::from_str("1530793").unwrap();
        let b: UserId = serde_json::from_str("\"62c3ea551b506da49a835225\"").unwrap();
        assert_eq!(a.0, "1530793");
        assert_eq!(b.to_string(), "62c3ea551b506da49a835225");
    }
}
