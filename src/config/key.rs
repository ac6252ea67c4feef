//! [`PrivateKey`]: the app's RSA key, checked when loaded, never shown.

use super::*;

/// The app's RSA private key, checked to be an RSA PEM when loaded.
///
/// Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct PrivateKey {
    key: jsonwebtoken::EncodingKey,
}

impl PrivateKey {
    /// Parses PEM text (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    ///
    /// Fails with [`Error::Config`] naming `ATOMGIT_PRIVATE_KEY` when the text is not an RSA
    /// private key in PEM form.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        Self::parse(pem, env::PRIVATE_KEY)
    }

    /// Reads and parses a PEM file.
    ///
    /// Fails with [`Error::Config`] naming `ATOMGIT_PRIVATE_KEY_PATH` when the file cannot be
    /// read or is not an RSA private key.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let pem = std::fs::read(path).map_err(|e| {
            Error::config(
                env::PRIVATE_KEY_PATH,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        Self::parse(&pem, env::PRIVATE_KEY_PATH)
    }

    fn parse(pem: &[u8], setting: &'static str) -> Result<Self> {
        let text = String::from_utf8_lossy(pem);
        if !text.contains("-----BEGIN") {
            return Err(Error::config(setting, "not a PEM document"));
        }
        if !(text.contains("BEGIN RSA PRIVATE KEY") || text.contains("BEGIN PRIVATE KEY")) {
            return Err(Error::config(setting, "not an RSA private key in PEM form"));
        }
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem)
            .map_err(|e| Error::config(setting, format!("not a usable RSA private key ({e})")))?;
        Ok(Self { key })
    }

    pub(crate) fn encoding_key(&self) -> &jsonwebtoken::EncodingKey {
        &self.key
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey([REDACTED])")
    }
}
