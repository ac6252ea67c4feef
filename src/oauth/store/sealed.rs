//! A user's tokens as the durable stores keep them: each token sealed with the store's
//! [`TokenKey`], bound to its user and column; times as epoch milliseconds.

use chrono::{DateTime, TimeZone, Utc};

use super::{TokenKey, UserToken};
use crate::oauth::OAuthError;

/// The stored form of a [`UserToken`]; never holds a plaintext token.
pub(crate) struct SealedToken {
    pub(crate) access_token: Vec<u8>,
    pub(crate) expires_at_ms: i64,
    pub(crate) refresh_token: Option<Vec<u8>>,
    pub(crate) refresh_expires_at_ms: Option<i64>,
}

/// Additional authenticated data: a sealed value only opens for its own user and column.
fn aad(user: &str, column: &str) -> String {
    format!("atombot_user_tokens/{column}/{user}")
}

fn from_ms(ms: i64) -> Result<DateTime<Utc>, OAuthError> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| OAuthError::store("read", format!("bad timestamp {ms}")))
}

impl SealedToken {
    /// Seals `token`'s secrets with `key`.
    pub(crate) fn seal(key: &TokenKey, token: &UserToken) -> Result<Self, OAuthError> {
        let user = token.user.as_str();
        Ok(Self {
            access_token: key.seal(&aad(user, "access_token"), &token.access_token)?,
            expires_at_ms: token.expires_at.timestamp_millis(),
            refresh_token: token
                .refresh_token
                .as_ref()
                .map(|r| key.seal(&aad(user, "refresh_token"), r))
                .transpose()?,
            refresh_expires_at_ms: token.refresh_expires_at.map(|at| at.timestamp_millis()),
        })
    }

    /// Opens the record stored for `user`.
    pub(crate) fn open(self, key: &TokenKey, user: &str) -> Result<UserToken, OAuthError> {
        Ok(UserToken {
            user: user.to_owned(),
            access_token: key.open(&aad(user, "access_token"), &self.access_token)?,
            expires_at: from_ms(self.expires_at_ms)?,
            refresh_token: self
                .refresh_token
                .map(|sealed| key.open(&aad(user, "refresh_token"), &sealed))
                .transpose()?,
            refresh_expires_at: self.refresh_expires_at_ms.map(from_ms).transpose()?,
        })
    }
}

/// Whether `sealed` (a stored `access_token` of `user`) holds `expected`'s access token.
pub(crate) fn holds_access_token(
    key: &TokenKey,
    sealed: &[u8],
    expected: &UserToken,
) -> Result<bool, OAuthError> {
    let stored = key.open(&aad(&expected.user, "access_token"), sealed)?;
    Ok(super::same_secret(&stored, &expected.access_token))
}

/// Removes a server URL's password (raw and percent-decoded) from an error message.
#[cfg(any(feature = "redis", feature = "postgres"))]
pub(crate) fn scrub(message: String, url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return message;
    };
    let Some(raw) = parsed.password().filter(|p| !p.is_empty()) else {
        return message;
    };
    let mut out = message.replace(raw, "***");
    if let Ok(decoded) = percent_encoding::percent_decode_str(raw).decode_utf8()
        && !decoded.is_empty()
    {
        out = out.replace(decoded.as_ref(), "***");
    }
    out
}
