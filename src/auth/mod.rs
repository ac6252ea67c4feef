//! Authentication: the app's RS256 JWT, installation access tokens and the
//! [`TokenSource`] trait the client's auth layer draws bearer tokens from.

mod jwt;
mod tokens;

use std::fmt::Debug;

use futures_util::future::BoxFuture;
use secrecy::SecretString;

use crate::error::Result;

#[doc(inline)]
pub use self::{
    jwt::{AppJwt, Claims},
    tokens::{InstallationTokenSource, InstallationTokens, Mint, TokenCacheConfig},
};

/// Where the client's auth layer gets the bearer token for each request.
///
/// Implementations exist for the app JWT ([`AppJwt`]), an installation's `ats_` token
/// (through [`InstallationTokens`]) and a fixed token ([`StaticToken`]).
pub trait TokenSource: Debug + Send + Sync + 'static {
    /// The token to send now, minted or refreshed if needed.
    fn token(&self) -> BoxFuture<'_, Result<SecretString>>;

    /// Forget `rejected`, which the platform just answered 401 to. Resolves to whether a
    /// fresh token may be tried (the request is then retried once). The default keeps the
    /// token and resolves to `false`.
    fn invalidate<'a>(&'a self, rejected: &'a SecretString) -> BoxFuture<'a, bool> {
        let _ = rejected;
        Box::pin(async { false })
    }

    /// Identifies the token for rate limiting: requests with the same key share one budget.
    fn rate_key(&self) -> String;
}

/// A fixed bearer token (a personal access token, for example). Never refreshed.
pub struct StaticToken {
    token: SecretString,
    key: String,
}

impl StaticToken {
    /// Wraps a token; `rate_key` groups requests that share the platform's rate budget.
    pub fn new(token: impl Into<String>, rate_key: impl Into<String>) -> Self {
        Self {
            token: SecretString::from(token.into()),
            key: rate_key.into(),
        }
    }
}

impl Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticToken")
            .field("token", &"[REDACTED]")
            .field("rate_key", &self.key)
            .finish()
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<SecretString>> {
        let token = self.token.clone();
        Box::pin(async move { Ok(token) })
    }

    fn rate_key(&self) -> String {
        self.key.clone()
    }
}
