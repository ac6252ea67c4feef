//! App installations and their access tokens.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

use super::{InstallationId, Repository, Timestamp, User, UserId, de};

/// One installation of the app on a personal space or an organisation
/// (an element of `GET /app/installations`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Installation {
    /// The installation id used to mint tokens.
    pub id: InstallationId,
    /// The account (user or organisation) the app is installed on.
    pub account: Account,
    /// The app's id.
    #[serde(deserialize_with = "de::number")]
    pub app_id: u64,
    /// The app's slug.
    #[serde(deserialize_with = "de::string")]
    pub app_slug: String,
    /// Subscribed events, as the platform wrote them. Odd values (such as the broken JSON
    /// fragments of the platform's second sample) are kept as their raw text.
    #[serde(deserialize_with = "lenient_strings")]
    pub events: Vec<String>,
    /// Granted permissions, e.g. `contents` → `write`.
    #[serde(deserialize_with = "lenient_map")]
    pub permissions: BTreeMap<String, String>,
    /// `ALL` or `SELECTED` (`all`/`selected` in GitHub-shaped deliveries).
    #[serde(deserialize_with = "de::string")]
    pub repository_selection: String,
    /// Id of the account the installation targets.
    pub target_id: Option<UserId>,
    /// When the app was installed.
    #[serde(deserialize_with = "de::time")]
    pub created_at: Option<Timestamp>,
    /// When the installation last changed.
    #[serde(deserialize_with = "de::time")]
    pub updated_at: Option<Timestamp>,
    /// Where to mint this installation's tokens.
    #[serde(deserialize_with = "de::opt_string")]
    pub access_tokens_url: Option<String>,
}

/// A reference to the installation a delivery belongs to (`installation.id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct InstallationRef {
    /// The installation id.
    pub id: InstallationId,
}

/// The account an app is installed on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Account {
    /// Account id (a number in `GET /app/installations`, kept as text).
    pub id: UserId,
    /// Login (GitHub-shaped deliveries).
    #[serde(deserialize_with = "de::string")]
    pub login: String,
    /// Display name of the organisation or user.
    #[serde(deserialize_with = "de::string")]
    pub org_name: String,
    /// The organisation's 24-hex id.
    pub organization_id: Option<UserId>,
    /// The namespace path (`/orgs/{path}` or `/user/{path}`).
    #[serde(deserialize_with = "de::string")]
    pub path: String,
    /// `User` or `Organization`, when sent.
    #[serde(rename = "type", deserialize_with = "de::opt_string")]
    pub kind: Option<String>,
}

impl Account {
    /// The path if sent, else the login: what `GET /app/installations` calls `account.path`.
    pub fn path_or_login(&self) -> &str {
        if self.path.is_empty() {
            &self.login
        } else {
            &self.path
        }
    }
}

/// The `installation` webhook payload: `created`, `deleted`, `suspend`, `unsuspend`, …
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct InstallationEvent {
    /// What happened.
    #[serde(deserialize_with = "de::string")]
    pub action: String,
    /// The installation.
    #[serde(deserialize_with = "de::or_default")]
    pub installation: Installation,
    /// Repositories the installation can access (`created`), when sent.
    #[serde(deserialize_with = "de::or_default")]
    pub repositories: Vec<Repository>,
    /// Who acted.
    #[serde(deserialize_with = "super::user::lenient")]
    pub sender: User,
}

/// The `installation_repositories` webhook payload: `added` or `removed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct InstallationRepositoriesEvent {
    /// What happened.
    #[serde(deserialize_with = "de::string")]
    pub action: String,
    /// The installation.
    #[serde(deserialize_with = "de::or_default")]
    pub installation: Installation,
    /// `all` or `selected`, after the change.
    #[serde(deserialize_with = "de::opt_string")]
    pub repository_selection: Option<String>,
    /// Repositories added.
    #[serde(deserialize_with = "de::or_default")]
    pub repositories_added: Vec<Repository>,
    /// Repositories removed.
    #[serde(deserialize_with = "de::or_default")]
    pub repositories_removed: Vec<Repository>,
    /// Who acted.
    #[serde(deserialize_with = "super::user::lenient")]
    pub sender: User,
}

/// An installation access token (`ats_…`) and when it expires.
///
/// `Debug` never shows the token.
#[derive(Clone, Deserialize)]
#[non_exhaustive]
pub struct InstallationToken {
    /// The token itself.
    pub token: SecretString,
    /// When it stops working (the platform sends an offset and milliseconds).
    pub expires_at: Timestamp,
    /// Permissions of the token.
    #[serde(default, deserialize_with = "lenient_map")]
    pub permissions: BTreeMap<String, String>,
    /// `ALL` or `SELECTED`.
    #[serde(default)]
    pub repository_selection: String,
}

impl fmt::Debug for InstallationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstallationToken")
            .field("token", &"ats_[REDACTED]")
            .field("expires_at", &self.expires_at)
            .field("permissions", &self.permissions)
            .field("repository_selection", &self.repository_selection)
            .finish()
    }
}

fn value_text(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn lenient_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let values = Option::<Vec<serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(values.into_iter().map(value_text).collect())
}

fn lenient_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let map = Option::<BTreeMap<String, serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(map.into_iter().map(|(k, v)| (k, value_text(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const SAMPLE: &str = r#"{"access_tokens_url":"https://api.atomgit.com/app/installations/14/access_tokens",
 "account":{"id":10912,"org_name":"yanqianyu","organization_id":"62c3ea551b506da49a835225","path":"yanqianyu"},
 "app_id":75,"app_slug":"car-dove-marketplace-test","created_at":"2023-04-26T14:18:39+08:00",
 "events":["push"],"id":14,
 "permissions":{"emails":"write","checks":"write","contents":"write","keys":"write","statuses":"write"},
 "repository_selection":"ALL","target_id":"62c3ea551b506da49a835225","updated_at":"2023-04-26T16:12:05+08:00"}"#;

    #[test]
    fn parses_the_platform_sample() {
        let i: Installation = serde_json::from_str(SAMPLE).unwrap();
        assert_eq!(i.id, InstallationId(14));
        assert_eq!(i.account.path, "yanqianyu");
        assert_eq!(i.permissions["contents"], "write");
        assert_eq!(i.events, ["push"]);
    }

    #[test]
    fn keeps_broken_event_fragments() {
        let text = SAMPLE.replace(
            r#""events":["push"]"#,
            r#""events":["{\"code\":\"push\"","\"desc\":\"push event\"}", {"odd": 1}],"new_field":true"#,
        );
        let i: Installation = serde_json::from_str(&text).unwrap();
        assert_eq!(i.events.len(), 3);
        assert_eq!(i.events[0], r#"{"code":"push""#);
        assert_eq!(i.events[2], r#"{"odd":1}"#);
    }

    #[test]
    fn token_parses_and_hides_itself() {
        let t: InstallationToken = serde_json::from_str(r#"{"expires_at":"2023-05-07T04:02:40.758+08:00",
 "permissions":{"emails":"write"},"repository_selection":"ALL","token":"ats_6c91b91bc9ca751ec61140ab55ae8a71"}"#).unwrap();
        assert_eq!(
            t.token.expose_secret(),
            "ats_6c91b91bc9ca751ec61140ab55ae8a71"
        );
        assert_eq!(t.expires_at.0.timestamp_subsec_millis(), 758);
        assert!(!format!("{t:?}").contains("6c91b91b"));
    }
}
