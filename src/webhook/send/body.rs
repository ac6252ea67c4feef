//! [`WebhookBody`] (what can be sent) and [`DeliveryResponse`] (what came back).

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

/// The exact bytes of a delivery body; signed and sent unchanged.
///
/// Built from JSON values, strings or bytes (and, with the `testing` feature, the test kit's
/// `events::Payload`s).
///
/// # Example
/// ```
/// use atombot::webhook::send::WebhookBody;
///
/// let a = WebhookBody::from(serde_json::json!({"zen": "Keep it simple"}));
/// let b = WebhookBody::from(r#"{"zen":"Keep it simple"}"#);
/// assert_eq!(a.as_bytes(), b.as_bytes());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookBody(Bytes);

impl WebhookBody {
    /// The bytes that will be signed and sent.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, cheaply cloned.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl std::fmt::Debug for WebhookBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookBody")
            .field("len", &self.0.len())
            .finish()
    }
}

impl From<Value> for WebhookBody {
    fn from(value: Value) -> Self {
        Self::from(&value)
    }
}

impl From<&Value> for WebhookBody {
    fn from(value: &Value) -> Self {
        Self(Bytes::from(value.to_string()))
    }
}

impl From<Bytes> for WebhookBody {
    fn from(bytes: Bytes) -> Self {
        Self(bytes)
    }
}

impl From<Vec<u8>> for WebhookBody {
    fn from(bytes: Vec<u8>) -> Self {
        Self(Bytes::from(bytes))
    }
}

impl From<&[u8]> for WebhookBody {
    fn from(bytes: &[u8]) -> Self {
        Self(Bytes::copy_from_slice(bytes))
    }
}

impl From<String> for WebhookBody {
    fn from(text: String) -> Self {
        Self(Bytes::from(text))
    }
}

impl From<&str> for WebhookBody {
    fn from(text: &str) -> Self {
        Self(Bytes::copy_from_slice(text.as_bytes()))
    }
}

/// The receiver's answer to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryResponse {
    /// HTTP status code.
    pub status: u16,
    /// Response body as text (invalid UTF-8 replaced).
    pub body: String,
    /// The delivery id that was sent.
    pub delivery_id: String,
    /// Time from sending the request to reading the whole answer.
    pub elapsed: Duration,
}

impl DeliveryResponse {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}
