//! Authenticity: HMAC-SHA256 signatures and plain tokens, checked in constant time.
//!
//! Everything here is a pure function of the headers, the raw body bytes and the settings.
//! The body is verified exactly as received, before any JSON parsing.

use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, KeyInit, Mac};
use http::HeaderMap;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::WebhookSettings;
use super::rejection::{InvalidSignature, InvalidToken, MissingSignature, Rejection};

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 computations over delivery bodies by [`verify`] in this process.
static HMAC_COMPUTATIONS: AtomicU64 = AtomicU64::new(0);

/// How many HMAC-SHA256 computations over a body [`verify`] has done in this process (a test
/// hook: tests assert the work done per request with it, not with timings).
#[doc(hidden)]
pub fn hmac_computations() -> u64 {
    HMAC_COMPUTATIONS.load(Ordering::Relaxed)
}

/// How a delivery proved it came from the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Authenticity {
    /// An HMAC-SHA256 signature in `header` matched secret number `secret_index`.
    Signature {
        /// The header that carried the signature.
        header: String,
        /// Index into [`WebhookSettings::secrets`] of the matching secret.
        secret_index: usize,
    },
    /// A plain token in `header` matched secret number `secret_index` (password mode).
    Token {
        /// The header that carried the token.
        header: String,
        /// Index into [`WebhookSettings::secrets`] of the matching secret.
        secret_index: usize,
    },
    /// Nothing was checked: the delivery carried no credentials and
    /// [`WebhookSettings::allow_unsigned`] is on.
    Unsigned,
    /// Checked by the receiver before the delivery was queued (see [`Delivery::restore`]).
    ///
    /// [`Delivery::restore`]: super::Delivery::restore
    Queued,
}

/// Signs `body` the way the platform does: `sha256=` followed by the lowercase hex
/// HMAC-SHA256 of the raw body keyed with `secret`.
///
/// # Example
/// ```
/// let sig = atombot::webhook::sign(b"secret", b"{}");
/// assert!(sig.starts_with("sha256="));
/// assert_eq!(sig.len(), "sha256=".len() + 64);
/// ```
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks that a delivery comes from the platform.
///
/// Signature headers (`sha256=<hex>` or bare hex) are checked against every secret: the
/// body's HMAC is computed once per secret and compared in constant time with each value;
/// token headers are compared in constant time against every secret. A delivery passes if
/// any credential matches any secret. Only the first
/// [`max_credential_values`](WebhookSettings::max_credential_values) signature values and as
/// many token values are considered, so a request stuffed with headers costs no more.
///
/// # Errors
/// [`MissingSignature`] (400) when no credential header is present and unsigned deliveries are
/// refused; [`InvalidSignature`] or [`InvalidToken`] (401) when credentials are present but
/// none matches (including when no secret is configured).
///
/// # Example
/// ```
/// use atombot::webhook::{sign, verify, Authenticity, WebhookSettings};
///
/// let settings = WebhookSettings::default().with_secret("s3cret");
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-hub-signature-256", sign(b"s3cret", b"{}").parse().unwrap());
/// let how = verify(&headers, b"{}", &settings).unwrap();
/// assert!(matches!(how, Authenticity::Signature { secret_index: 0, .. }));
/// ```
pub fn verify(
    headers: &HeaderMap,
    body: &[u8],
    settings: &WebhookSettings,
) -> Result<Authenticity, Rejection> {
    let cap = settings.max_credential_values;
    let mut first_signature_header: Option<&str> = None;
    let mut first_token_header: Option<&str> = None;

    // Decoding is cheap; the HMAC of the body is computed once per secret below, whatever
    // the number of values, and only the first `cap` values are considered.
    let mut signatures: Vec<(&str, [u8; 32])> = Vec::new();
    let mut considered = 0;
    for name in &settings.signature_headers {
        for value in headers.get_all(name.as_str()) {
            first_signature_header.get_or_insert(name);
            if considered < cap {
                considered += 1;
                if let Some(signature) = decode_signature(value.as_bytes()) {
                    signatures.push((name, signature));
                }
            }
        }
    }
    if !signatures.is_empty()
        && let Some((header, secret_index)) = match_signatures(&signatures, body, settings)
    {
        return Ok(Authenticity::Signature {
            header: header.to_owned(),
            secret_index,
        });
    }

    let mut considered = 0;
    for name in &settings.token_headers {
        for value in headers.get_all(name.as_str()) {
            first_token_header.get_or_insert(name);
            if considered >= cap {
                continue;
            }
            considered += 1;
            if let Some(secret_index) = match_token(value.as_bytes(), settings) {
                return Ok(Authenticity::Token {
                    header: name.clone(),
                    secret_index,
                });
            }
        }
    }

    match (first_signature_header, first_token_header) {
        (Some(header), _) => Err(InvalidSignature {
            header: header.to_owned(),
        }
        .into()),
        (None, Some(header)) => Err(InvalidToken {
            header: header.to_owned(),
        }
        .into()),
        (None, None) => require_credentials(headers, settings).map(|()| Authenticity::Unsigned),
    }
}

/// Checks, from the headers alone, that a delivery carries a signature or token header
/// (or that unsigned deliveries are allowed), so a receiver can refuse it before reading
/// the body. Nothing is verified: [`verify`] does that once the body is in.
///
/// # Errors
/// [`MissingSignature`] (400) when no signature or token header is present and
/// [`WebhookSettings::allow_unsigned`] is off.
///
/// # Example
/// ```
/// use atombot::webhook::{require_credentials, WebhookSettings};
///
/// let settings = WebhookSettings::default().with_secret("s3cret");
/// let refused = require_credentials(&http::HeaderMap::new(), &settings).unwrap_err();
/// assert_eq!(refused.status(), http::StatusCode::BAD_REQUEST);
/// ```
pub fn require_credentials(
    headers: &HeaderMap,
    settings: &WebhookSettings,
) -> Result<(), Rejection> {
    let present = settings
        .signature_headers
        .iter()
        .chain(&settings.token_headers)
        .any(|name| headers.contains_key(name.as_str()));
    if present || settings.allow_unsigned {
        return Ok(());
    }
    Err(MissingSignature {
        expected: settings
            .signature_headers
            .iter()
            .chain(&settings.token_headers)
            .cloned()
            .collect(),
    }
    .into())
}

/// Strips an optional `sha256=` prefix and surrounding spaces, then decodes the hex digest.
fn decode_signature(value: &[u8]) -> Option<[u8; 32]> {
    let value = value.trim_ascii();
    let hex_part = match value.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case(b"sha256=") => &value[7..],
        _ => value,
    };
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hex_part.trim_ascii(), &mut digest).ok()?;
    Some(digest)
}

/// Computes the body's HMAC once per secret and compares it in constant time with every
/// signature; the first secret (in order) that any signature matches wins.
fn match_signatures<'a>(
    signatures: &[(&'a str, [u8; 32])],
    body: &[u8],
    settings: &WebhookSettings,
) -> Option<(&'a str, usize)> {
    settings
        .secrets
        .iter()
        .enumerate()
        .find_map(|(index, secret)| {
            if secret.expose_secret().is_empty() {
                return None;
            }
            let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes()).ok()?;
            HMAC_COMPUTATIONS.fetch_add(1, Ordering::Relaxed);
            mac.update(body);
            let expected = mac.finalize().into_bytes();
            let mut found = None;
            for (header, signature) in signatures {
                if bool::from(expected.as_slice().ct_eq(signature)) && found.is_none() {
                    found = Some(*header);
                }
            }
            found.map(|header| (header, index))
        })
}

/// Compares digests of both sides so neither the content nor the length leaks through timing.
fn match_token(token: &[u8], settings: &WebhookSettings) -> Option<usize> {
    let token = Sha256::digest(token.trim_ascii());
    let mut found = None;
    for (index, secret) in settings.secrets.iter().enumerate() {
        if secret.expose_secret().is_empty() {
            continue;
        }
        let expected = Sha256::digest(secret.expose_secret().as_bytes());
        if bool::from(token.as_slice().ct_eq(expected.as_slice())) && found.is_none() {
            found = Some(index);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const BODY: &[u8] = br#"{"action":"opened"}"#;

    fn settings() -> WebhookSettings {
        WebhookSettings::default()
            .with_secret("first")
            .with_secret("second")
    }

    fn with(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn signature_with_prefix() {
        let h = with("x-hub-signature-256", &sign(b"first", BODY));
        let a = verify(&h, BODY, &settings()).unwrap();
        assert!(matches!(
            a,
            Authenticity::Signature {
                secret_index: 0,
                ..
            }
        ));
    }

    #[test]
    fn signature_without_prefix_and_uppercase() {
        let sig = sign(b"first", BODY)["sha256=".len()..].to_uppercase();
        let h = with("x-gitcode-signature-256", &sig);
        assert!(verify(&h, BODY, &settings()).is_ok());
    }

    #[test]
    fn second_secret_accepted() {
        let h = with("x-atomgit-signature-256", &sign(b"second", BODY));
        let a = verify(&h, BODY, &settings()).unwrap();
        assert_eq!(
            a,
            Authenticity::Signature {
                header: "X-AtomGit-Signature-256".into(),
                secret_index: 1
            }
        );
    }

    #[test]
    fn bad_signature_is_401() {
        let h = with("x-hub-signature-256", &sign(b"third", BODY));
        let r = verify(&h, BODY, &settings()).unwrap_err();
        assert_eq!(r.status().as_u16(), 401);
        assert!(!r.to_string().contains("first"));
    }

    #[test]
    fn tampered_body_is_401() {
        let h = with("x-hub-signature-256", &sign(b"first", BODY));
        let r = verify(&h, b"{\"action\":\"closed\"}", &settings()).unwrap_err();
        assert!(matches!(r, Rejection::InvalidSignature(_)));
    }

    #[test]
    fn garbage_signature_is_401() {
        let h = with("x-hub-signature-256", "sha256=zz");
        assert_eq!(
            verify(&h, BODY, &settings()).unwrap_err().status().as_u16(),
            401
        );
    }

    #[test]
    fn token_mode() {
        let h = with("x-gitcode-token", "second");
        let a = verify(&h, BODY, &settings()).unwrap();
        assert!(matches!(
            a,
            Authenticity::Token {
                secret_index: 1,
                ..
            }
        ));

        let h = with("x-gitcode-token", "wrong");
        let r = verify(&h, BODY, &settings()).unwrap_err();
        assert!(matches!(r, Rejection::InvalidToken(_)));
        assert_eq!(r.status().as_u16(), 401);
        assert!(!r.to_string().contains("wrong"));
    }

    #[test]
    fn missing_credentials() {
        let r = verify(&HeaderMap::new(), BODY, &settings()).unwrap_err();
        assert_eq!(r.status().as_u16(), 400);
        assert!(r.to_string().contains("X-Hub-Signature-256"));
        let open = settings().with_allow_unsigned(true);
        assert_eq!(
            verify(&HeaderMap::new(), BODY, &open).unwrap(),
            Authenticity::Unsigned
        );
    }

    #[test]
    fn many_values_cost_one_hmac_per_secret_and_the_cap_holds() {
        let mut h = HeaderMap::new();
        for _ in 0..50 {
            h.append(
                "x-hub-signature-256",
                HeaderValue::from_str(&sign(b"third", BODY)).unwrap(),
            );
        }
        h.append(
            "x-hub-signature-256",
            HeaderValue::from_str(&sign(b"second", BODY)).unwrap(),
        );
        let r = verify(&h, BODY, &settings()).unwrap_err();
        assert!(
            matches!(r, Rejection::InvalidSignature(_)),
            "the 51st value is past the cap"
        );

        let mut h = HeaderMap::new();
        h.append("x-hub-signature-256", HeaderValue::from_static("sha256=00"));
        h.append(
            "x-hub-signature-256",
            HeaderValue::from_str(&sign(b"second", BODY)).unwrap(),
        );
        let a = verify(&h, BODY, &settings()).unwrap();
        assert!(matches!(
            a,
            Authenticity::Signature {
                secret_index: 1,
                ..
            }
        ));
    }

    #[test]
    fn credentials_are_required_before_the_body() {
        assert!(require_credentials(&HeaderMap::new(), &settings()).is_err());
        let h = with("x-gitcode-token", "anything");
        assert!(require_credentials(&h, &settings()).is_ok());
        let open = settings().with_allow_unsigned(true);
        assert!(require_credentials(&HeaderMap::new(), &open).is_ok());
    }

    #[test]
    fn credentials_without_secrets_are_refused() {
        let h = with("x-hub-signature-256", &sign(b"", BODY));
        let none = WebhookSettings::default();
        assert_eq!(verify(&h, BODY, &none).unwrap_err().status().as_u16(), 401);
    }
}
