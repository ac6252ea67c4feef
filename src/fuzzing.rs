//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): the crate's parsers of
//! untrusted input that are not public API of their own. Not for use outside fuzzing.

use std::time::Duration;

use bytes::Bytes;

/// The `rel="next"` URL of a `Link` header value.
pub fn link_next(value: &[u8]) -> Option<String> {
    let resp = response_with(http::header::LINK, value)?;
    crate::client::link_next_of(&resp)
}

/// The delay a `Retry-After` header value asks for.
pub fn retry_after(value: &[u8]) -> Option<Duration> {
    let resp = response_with(http::header::RETRY_AFTER, value)?;
    crate::client::layers::parse_retry_after(&resp)
}

/// The `Error` a failed API answer with these rate-limit headers becomes (its `Display`).
pub fn api_error(status: u16, headers: &[(&str, &[u8])], body: &[u8]) -> Option<String> {
    let mut builder = http::Response::builder().status(status);
    for (name, value) in headers {
        let value = http::HeaderValue::from_bytes(value).ok()?;
        builder = builder.header(*name, value);
    }
    let resp = builder.body(Bytes::copy_from_slice(body)).ok()?;
    crate::client::check_status(&http::Method::GET, "/fuzz", resp)
        .err()
        .map(|e| e.to_string())
}

/// An OAuth token answer's expiry field, in any of its forms.
pub fn oauth_expiry(value: &serde_json::Value) -> Option<chrono::DateTime<chrono::Utc>> {
    crate::oauth::expiry_from_json(value, chrono::Utc::now())
}

fn response_with(name: http::HeaderName, value: &[u8]) -> Option<crate::client::HttpResponse> {
    let value = http::HeaderValue::from_bytes(value).ok()?;
    http::Response::builder()
        .status(429)
        .header(name, value)
        .body(Bytes::new())
        .ok()
}
