//! Users, bots and organisations: the `user`, `sender`, `author` and `owner` of everything.

use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::{Timestamp, UserId, de as lenient_de};

/// A user, bot or organisation, as the API and webhook payloads describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct User {
    /// The id (24 hex digits on AtomGit; numbers are kept as text).
    pub id: UserId,
    /// Login / namespace path (`username` in GitLab-shaped bodies).
    #[serde(deserialize_with = "lenient_de::string")]
    pub login: String,
    /// Display name.
    #[serde(deserialize_with = "lenient_de::opt_string")]
    pub name: Option<String>,
    /// E-mail, when the platform sends it.
    #[serde(deserialize_with = "lenient_de::opt_string")]
    pub email: Option<String>,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type", deserialize_with = "lenient_de::opt_string")]
    pub kind: Option<String>,
    /// Avatar image URL.
    #[serde(deserialize_with = "lenient_de::opt_string")]
    pub avatar_url: Option<String>,
    /// Profile page URL.
    #[serde(deserialize_with = "lenient_de::opt_string")]
    pub html_url: Option<String>,
    /// When the account was created.
    #[serde(deserialize_with = "lenient_de::time")]
    pub created_at: Option<Timestamp>,
}

impl User {
    /// A user known only by login.
    pub fn with_login(login: impl Into<String>) -> Self {
        Self {
            login: login.into(),
            ..Self::default()
        }
    }

    /// Whether this is a bot: `type` is `Bot`, or the login ends in `[bot]`.
    pub fn is_bot(&self) -> bool {
        self.kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("bot"))
            || self.login.ends_with("[bot]")
    }
}

/// A user given as an object, a bare login string, or `null` (the default user).
pub(crate) fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<User, D::Error> {
    struct UserVisitor;

    impl<'de> Visitor<'de> for UserVisitor {
        type Value = User;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a user object or a login")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<User, E> {
            Ok(User::with_login(v))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<User, A::Error> {
            User::deserialize(MapAccessDeserializer::new(map))
        }
        fn visit_unit<E: de::Error>(self) -> Result<User, E> {
            Ok(User::default())
        }
        fn visit_none<E: de::Error>(self) -> Result<User, E> {
            Ok(User::default())
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<User, D::Error> {
            d.deserialize_any(self)
        }
    }

    d.deserialize_any(UserVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bots_by_type_or_login() {
        let by_type: User = serde_json::from_str(r#"{"login":"ci","type":"Bot"}"#).unwrap();
        let by_login = User::with_login("atombot-sim[bot]");
        let human: User = serde_json::from_str(r#"{"login":"ann","type":"User"}"#).unwrap();
        assert!(by_type.is_bot() && by_login.is_bot());
        assert!(!human.is_bot());
        #[derive(Deserialize)]
        struct W {
            #[serde(deserialize_with = "lenient")]
            owner: User,
        }
        let w: W = serde_json::from_str(r#"{"owner":"acme"}"#).unwrap();
        assert_eq!(w.owner.login, "acme");
        let w: W = serde_json::from_str(r#"{"owner":null}"#).unwrap();
        assert_eq!(w.owner, User::default());
    }
}
