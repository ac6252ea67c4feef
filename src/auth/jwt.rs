//! The app's RS256 JWT (`iss` = app id, `iat` = now − 60 s, `exp` = now + 10 min).

use std::sync::Mutex;
use std::time::Duration;

use chrono::Utc;
use futures_util::future::BoxFuture;
use jsonwebtoken::{Algorithm, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::TokenSource;
use crate::config::PrivateKey;
use crate::error::{Error, Result};

/// How far `iat` is set in the past, for clock skew.
const BACKDATE: i64 = 60;
/// How long a JWT is valid after it is signed.
const LIFETIME: i64 = 600;
/// A cached JWT is re-signed this long before it expires.
const REUSE_MARGIN: i64 = 60;

/// The claims of an app JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The app id, as a string.
    pub iss: String,
    /// Issued at (epoch seconds), one minute in the past.
    pub iat: i64,
    /// Expiry (epoch seconds), ten minutes ahead.
    pub exp: i64,
}

/// Signs app JWTs and reuses one until shortly before it expires.
pub struct AppJwt {
    app_id: u64,
    key: PrivateKey,
    cached: Mutex<Option<(SecretString, i64)>>,
}

impl std::fmt::Debug for AppJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppJwt")
            .field("app_id", &self.app_id)
            .finish_non_exhaustive()
    }
}

impl AppJwt {
    /// A signer for `app_id` with its private key.
    pub fn new(app_id: u64, key: PrivateKey) -> Self {
        Self {
            app_id,
            key,
            cached: Mutex::new(None),
        }
    }

    /// Signs a fresh JWT with claims for `now` (epoch seconds).
    ///
    /// Fails with [`Error::Jwt`] if signing fails.
    pub fn sign_at(&self, now: i64) -> Result<SecretString> {
        let claims = Claims {
            iss: self.app_id.to_string(),
            iat: now - BACKDATE,
            exp: now + LIFETIME,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::RS256),
            &claims,
            self.key.encoding_key(),
        )
        .map(SecretString::from)
        .map_err(|e| Error::Jwt { source: e.into() })
    }

    /// The current JWT: the cached one while it has more than a minute left, else a new one.
    pub fn current(&self) -> Result<SecretString> {
        let now = Utc::now().timestamp();
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((jwt, exp)) = cached.as_ref()
            && *exp - REUSE_MARGIN > now
        {
            return Ok(jwt.clone());
        }
        let jwt = self.sign_at(now)?;
        *cached = Some((jwt.clone(), now + LIFETIME));
        Ok(jwt)
    }

    /// How long a signed JWT stays valid.
    pub fn lifetime() -> Duration {
        Duration::from_secs(LIFETIME as u64)
    }
}

impl TokenSource for AppJwt {
    fn token(&self) -> BoxFuture<'_, Result<SecretString>> {
        Box::pin(async move { self.current() })
    }

    fn invalidate<'a>(&'a self, rejected: &'a SecretString) -> BoxFuture<'a, bool> {
        // A rejected JWT is re-signed for the next request; this one is not retried, since a
        // JWT signed by the same key would be rejected again.
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        if cached
            .as_ref()
            .is_some_and(|(jwt, _)| jwt.expose_secret() == rejected.expose_secret())
        {
            *cached = None;
        }
        Box::pin(std::future::ready(false))
    }

    fn rate_key(&self) -> String {
        format!("app:{}", self.app_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    const PRIVATE: &str = include_str!("../testing/keys/dev-app-private-key.pem");
    const PUBLIC: &str = include_str!("../testing/keys/dev-app-public-key.pem");

    #[test]
    fn claims_follow_the_platform_rules() {
        let signer = AppJwt::new(75, PrivateKey::from_pem(PRIVATE.as_bytes()).unwrap());
        let jwt = signer.sign_at(1_700_000_000).unwrap();
        let mut v = Validation::new(Algorithm::RS256);
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<Claims>(
            jwt.expose_secret(),
            &DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap(),
            &v,
        )
        .unwrap();
        assert_eq!(
            data.claims,
            Claims {
                iss: "75".into(),
                iat: 1_700_000_000 - 60,
                exp: 1_700_000_000 + 600
            }
        );
    }

    #[test]
    fn reuses_the_jwt_until_near_expiry() {
        let signer = AppJwt::new(75, PrivateKey::from_pem(PRIVATE.as_bytes()).unwrap());
        let a = signer.current().unwrap();
        let b = signer.current().unwrap();
        assert_eq!(a.expose_secret(), b.expose_secret());
    }
}
