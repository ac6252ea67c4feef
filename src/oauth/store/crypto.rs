//! [`TokenKey`]: AES-256-GCM (aws-lc-rs) for user tokens at rest.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::oauth::OAuthError;

/// The environment variable holding the key: 32 random bytes, base64.
///
/// Generate one with `openssl rand -base64 32`.
pub const TOKEN_KEY_ENV: &str = crate::settings::TOKEN_KEY.name;

/// The key user tokens are encrypted with at rest (AES-256-GCM, random 96-bit nonces).
///
/// Each value is sealed with associated data naming its user and column, so a ciphertext
/// copied to another row does not decrypt. Its `Debug` output never shows the key.
pub struct TokenKey {
    key: RandomizedNonceKey,
}

impl TokenKey {
    /// Reads [`TOKEN_KEY_ENV`].
    ///
    /// Fails with [`Error::Config`] naming `ATOMBOT_TOKEN_KEY` when it is unset or not 32
    /// bytes of base64: the durable store refuses to start rather than write plain tokens.
    pub fn from_env() -> Result<Self> {
        match crate::settings::TOKEN_KEY.read_env() {
            Some(text) => Self::from_base64(&text),
            None => Err(Error::config(
                TOKEN_KEY_ENV,
                "not set; user tokens are never stored unencrypted \
                 (generate a key with `openssl rand -base64 32`)",
            )),
        }
    }

    /// Decodes a base64 key of exactly 32 bytes.
    ///
    /// Fails with [`Error::Config`] naming `ATOMBOT_TOKEN_KEY` (never showing the value).
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| {
            Error::config(
                TOKEN_KEY_ENV,
                "not valid base64 (generate a key with `openssl rand -base64 32`)",
            )
        })?;
        Self::from_bytes(&bytes)
    }

    /// Uses 32 raw key bytes.
    ///
    /// Fails with [`Error::Config`] when `bytes` is not 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 32 {
            return Err(Error::config(
                TOKEN_KEY_ENV,
                format!(
                    "must be 32 bytes, got {} (generate a key with `openssl rand -base64 32`)",
                    bytes.len()
                ),
            ));
        }
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .map_err(|_| Error::config(TOKEN_KEY_ENV, "not a usable AES-256 key"))?;
        Ok(Self { key })
    }

    /// A fresh random key (for tests and throwaway stores).
    pub fn generate() -> Result<Self> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes)
            .map_err(|_| Error::config(TOKEN_KEY_ENV, "the system RNG failed"))?;
        Self::from_bytes(&bytes)
    }

    /// Encrypts `secret`; the result is `nonce ‖ ciphertext ‖ tag`.
    pub(crate) fn seal(&self, aad: &str, secret: &SecretString) -> Result<Vec<u8>, OAuthError> {
        let mut in_out = secret.expose_secret().as_bytes().to_vec();
        let nonce = self
            .key
            .seal_in_place_append_tag(Aad::from(aad.as_bytes()), &mut in_out)
            .map_err(|_| OAuthError::store("encrypt", "AES-256-GCM sealing failed"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + in_out.len());
        out.extend_from_slice(nonce.as_ref());
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    /// Decrypts what [`seal`](Self::seal) produced with the same `aad`.
    pub(crate) fn open(&self, aad: &str, sealed: &[u8]) -> Result<SecretString, OAuthError> {
        if sealed.len() < NONCE_LEN {
            return Err(OAuthError::Decrypt);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| OAuthError::Decrypt)?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut in_out)
            .map_err(|_| OAuthError::Decrypt)?;
        let text = String::from_utf8(plain.to_vec()).map_err(|_| OAuthError::Decrypt)?;
        Ok(SecretString::from(text))
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_binding() {
        let key = TokenKey::generate().unwrap();
        let secret = SecretString::from("atu_0123456789");
        let sealed = key.seal("alice/access", &secret).unwrap();
        assert!(!sealed.windows(4).any(|w| w == b"atu_"));
        let opened = key.open("alice/access", &sealed).unwrap();
        assert_eq!(opened.expose_secret(), "atu_0123456789");
        assert!(key.open("bob/access", &sealed).is_err());
        assert!(
            TokenKey::generate()
                .unwrap()
                .open("alice/access", &sealed)
                .is_err()
        );
        assert!(key.open("alice/access", &sealed[..5]).is_err());
    }

    #[test]
    fn bad_keys_name_the_setting() {
        for text in ["", "not base64!", "c2hvcnQ="] {
            let err = TokenKey::from_base64(text).unwrap_err().to_string();
            assert!(err.contains(TOKEN_KEY_ENV), "{err}");
        }
        let good = STANDARD.encode([7u8; 32]);
        assert!(TokenKey::from_base64(&good).is_ok());
        assert_eq!(
            format!("{:?}", TokenKey::generate().unwrap()),
            "TokenKey([REDACTED])"
        );
    }
}
