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
        /// Deserializes from a JSON number or a numeric string; `null` is 0.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = match Option::<NumOrStr>::deserialize(d)? {
                    None => return Ok($name(0)),
                    Some(NumOrStr::Num(n)) => n.to_string(),
                    Some(NumOrStr::Str(s)) => s,
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

/// Reads an id as text from a JSON string or number; `null` is the empty id.
struct IdText;

impl<'de> serde::de::Visitor<'de> for IdText {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id (a string or a number)")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<String, E> {
        if v.is_finite() && v.fract() == 0.0 {
            Ok(format!("{v:.0}"))
        } else {
            Err(E::invalid_value(serde::de::Unexpected::Float(v), &self))
        }
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Deserializes from a JSON string (24 hex digits on AtomGit) or number, kept as text;
        /// `null` is the empty id.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(IdText).map($name)
            }
        }

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether the platform sent no id.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
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

        impl From<u64> for $name {
            fn from(id: u64) -> Self {
                $name(id.to_string())
            }
        }
    };
}

numeric_id!(
    /// An app installation's id (the `{id}` of `/app/installations/{id}`; an integer on the
    /// platform).
    InstallationId
);
string_id!(
    /// A repository's id (a number on older pages, 24 hex digits in real deliveries).
    RepositoryId
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
string_id!(
    /// A label's id.
    LabelId
);
string_id!(
    /// A pull (merge) request's id (distinct from its per-repository `number`).
    PullRequestId
);
string_id!(
    /// A pull request review's id.
    ReviewId
);
string_id!(
    /// A release's id.
    ReleaseId
);
string_id!(
    /// A reaction's id (a string on `/api/v5`).
    ReactionId
);
string_id!(
    /// A commit status's id.
    StatusId
);
string_id!(
    /// A check run's id.
    CheckRunId
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
        let c: RepositoryId = serde_json::from_str("null").unwrap();
        assert!(c.is_empty());
        assert!(serde_json::from_str::<RepositoryId>("[1]").is_err());
    }
}
