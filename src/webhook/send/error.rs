//! [`DeliveryError`]: why a delivery could not be sent (an answer of any status is not one).

/// A delivery could not be sent, or no answer came back.
///
/// Receiving a 4xx or 5xx answer is not an error: it is a [`DeliveryResponse`](super::DeliveryResponse).
/// Messages never contain the secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The target URL is not an absolute `http(s)` URL.
    #[error("invalid webhook URL `{0}`")]
    InvalidUrl(String),
    /// No target URL is set (the test kit's `Simulator::set_webhook_url`).
    #[error("no webhook URL is set")]
    NoUrl,
    /// An event name, delivery id, secret (password mode) or extra header is not a valid
    /// header value; names the header, never the value.
    #[error("invalid value for header `{0}`")]
    InvalidHeader(String),
    /// Connecting, sending or reading the answer failed (including timeouts).
    #[error("webhook delivery failed: {0}")]
    Transport(#[source] reqwest::Error),
}
