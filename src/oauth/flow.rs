//! The platform side of the flow: the authorize URL, and code exchange and refresh as JSON
//! POSTs to `{api_url}/login/oauth/access_token`.
//!
//! Neither POST is ever retried: a code works once, and a rotated refresh token too.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use url::Url;

use super::{OAuthError, expiry};
use crate::error::{Error, Result};

/// Lifetime assumed for an access token whose answer has no usable `expires_in` (the
/// platform documents 8 hours).
const DEFAULT_ACCESS_LIFETIME: chrono::Duration = chrono::Duration::hours(8);
/// Path of the token endpoint under the API base URL.
pub(crate) const TOKEN_PATH: &str = "login/oauth/access_token";

/// What the token endpoint returned, with absolute expiry instants.
///
/// Its `Debug` output never shows a token.
#[derive(Clone)]
pub struct TokenSet {
    /// The `atu_` access token.
    pub access_token: SecretString,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// The refresh token, if one came back.
    pub refresh_token: Option<SecretString>,
    /// When the refresh token expires, if the answer said.
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

impl TokenSet {
    /// Reads a token response (`access_token`, `expires_in`, `refresh_token`,
    /// `refresh_token_expires_in`); expiries may be epoch ms, epoch s or relative s.
    ///
    /// Fails with [`OAuthError::TokenResponse`] when there is no `access_token` or an
    /// expiry is present but unreadable.
    pub fn from_response(body: &Value, now: DateTime<Utc>) -> Result<Self, OAuthError> {
        let text = |name: &str| {
            body.get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(|s| SecretString::from(s.to_owned()))
        };
        let when = |name: &str| match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => expiry::from_json(v, now).map(Some).ok_or_else(|| {
                OAuthError::TokenResponse(format!("`{name}` is not a usable expiry"))
            }),
        };
        let access_token = text("access_token")
            .ok_or_else(|| OAuthError::TokenResponse("no `access_token` in the answer".into()))?;
        let expires_at = when("expires_in")?.unwrap_or(now + DEFAULT_ACCESS_LIFETIME);
        Ok(Self {
            access_token,
            expires_at,
            refresh_token: text("refresh_token"),
            refresh_expires_at: when("refresh_token_expires_in")?,
        })
    }
}

/// The app's OAuth client: its id and secret, the web and API hosts.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) client_id: String,
    client_secret: SecretString,
    web_url: Url,
    token_url: String,
    http: reqwest::Client,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

/// Why a token request failed, before it is mapped to an error for the caller.
pub(crate) enum Refused {
    /// The platform answered 4xx: the code or refresh token is no good.
    Rejected { status: StatusCode, message: String },
    /// Anything else (transport, 5xx, bad body).
    Other(Error),
}

impl Endpoint {
    pub(crate) fn new(
        client_id: String,
        client_secret: SecretString,
        web_url: &Url,
        api_url: &Url,
        timeout: Duration,
    ) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::config("http_client", e.to_string()))?;
        Ok(Self {
            client_id,
            client_secret,
            web_url: web_url.clone(),
            token_url: format!("{}/{TOKEN_PATH}", api_url.as_str().trim_end_matches('/')),
            http,
        })
    }

    /// `{web_url}/login/oauth/authorize?client_id=…&state=…&redirect_uri=…`.
    pub(crate) fn authorize_url(&self, state: &str, redirect_uri: &str) -> String {
        let mut url = self.web_url.clone();
        let path = format!("{}login/oauth/authorize", url.path());
        url.set_path(&path);
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("state", state)
            .append_pair("redirect_uri", redirect_uri);
        url.into()
    }

    /// Exchanges an authorization code (one attempt, never retried).
    pub(crate) async fn exchange(&self, code: &str) -> Result<TokenSet, Refused> {
        let body = json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose_secret(),
            "code": code,
        });
        self.post(body, "exchange").await
    }

    /// Trades a refresh token for a new access token (one attempt, never retried).
    pub(crate) async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, Refused> {
        let body = json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose_secret(),
            "grant_type": "refresh_token",
            "refresh_token": refresh_token.expose_secret(),
        });
        self.post(body, "refresh").await
    }

    async fn post(&self, body: Value, what: &'static str) -> Result<TokenSet, Refused> {
        let path = format!("/{TOKEN_PATH}");
        let transport = |e: reqwest::Error| {
            Refused::Other(Error::Transport {
                method: Method::POST,
                path: path.clone(),
                source: Box::new(e.without_url()),
            })
        };
        let response = self
            .http
            .post(&self.token_url)
            .header(http::header::ACCEPT, "application/json")
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        tracing::debug!(%status, what, "token endpoint answered");
        if status.is_client_error() {
            return Err(Refused::Rejected {
                status,
                message: message(&json, &bytes),
            });
        }
        if !status.is_success() {
            return Err(Refused::Other(Error::Api {
                status,
                message: message(&json, &bytes),
                method: Method::POST,
                path,
            }));
        }
        // Some OAuth servers answer 200 with {"error": …}.
        if json.get("access_token").is_none() && json.get("error").is_some() {
            return Err(Refused::Rejected {
                status: StatusCode::BAD_REQUEST,
                message: message(&json, &bytes),
            });
        }
        TokenSet::from_response(&json, Utc::now()).map_err(|e| Refused::Other(e.into()))
    }
}

/// The platform's message: `error_description`, `message`, `error`, else a short body.
fn message(json: &Value, raw: &[u8]) -> String {
    for field in ["error_description", "message", "error_message", "error"] {
        if let Some(m) = json.get(field).and_then(Value::as_str) {
            return m.to_owned();
        }
    }
    let text = String::from_utf8_lossy(raw);
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sample_answer() {
        let body = json!({"access_token":"atu_7139d12be03e5f34bb6027abe39422be",
            "expires_in":1684166156606_i64,
            "refresh_token":"refresh_1cb0f0db0ec7ddff96d1e11f7df4bd7a",
            "refresh_token_expires_in":1700034956606_i64});
        let set = TokenSet::from_response(&body, Utc::now()).unwrap();
        assert_eq!(set.expires_at.timestamp_millis(), 1684166156606);
        assert_eq!(
            set.refresh_expires_at.unwrap().timestamp_millis(),
            1700034956606
        );
        let debug = format!("{set:?}");
        assert!(
            !debug.contains("atu_") && !debug.contains("refresh_1"),
            "{debug}"
        );
    }

    #[test]
    fn missing_token_or_bad_expiry_is_an_error() {
        assert!(TokenSet::from_response(&json!({}), Utc::now()).is_err());
        let bad = json!({"access_token":"atu_x","expires_in":"later"});
        assert!(TokenSet::from_response(&bad, Utc::now()).is_err());
        let no_expiry = TokenSet::from_response(&json!({"access_token":"atu_x"}), Utc::now());
        assert!(no_expiry.unwrap().refresh_token.is_none());
    }

    #[test]
    fn authorize_url_keeps_the_web_prefix() {
        let endpoint = Endpoint::new(
            "cid".into(),
            SecretString::from("s"),
            &Url::parse("http://web.test/git/").unwrap(),
            &Url::parse("http://api.test/api/v5/").unwrap(),
            Duration::from_secs(5),
        )
        .unwrap();
        let url = endpoint.authorize_url("st&1", "http://bot/oauth/callback");
        assert_eq!(
            url,
            "http://web.test/git/login/oauth/authorize?client_id=cid&state=st%261\
             &redirect_uri=http%3A%2F%2Fbot%2Foauth%2Fcallback"
        );
        assert_eq!(
            endpoint.token_url,
            "http://api.test/api/v5/login/oauth/access_token"
        );
    }
}
