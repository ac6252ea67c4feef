//! Why a delivery was refused: one type per reason, each with a fixed status and body.
//!
//! Modelled on axum's `extract/rejection.rs`: every reason is its own type implementing
//! [`IntoResponse`], and [`Rejection`] groups them. No message ever contains a secret or any
//! part of the body.

use std::fmt;

use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// Defines one rejection type with a fixed status and a message built from its fields.
macro_rules! define_rejection {
    (
        #[status = $status:ident]
        $(#[$meta:meta])*
        pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }
        |$this:ident| $body:expr
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $name {
            /// The HTTP status this rejection answers with.
            pub const STATUS: StatusCode = StatusCode::$status;

            /// The HTTP status this rejection answers with.
            pub fn status(&self) -> StatusCode {
                Self::STATUS
            }

            /// The plain-text body this rejection answers with.
            pub fn body_text(&self) -> String {
                let $this = self;
                $body
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.body_text())
            }
        }

        impl std::error::Error for $name {}

        impl IntoResponse for $name {
            fn into_response(self) -> Response {
                (self.status(), self.body_text()).into_response()
            }
        }

        impl From<$name> for Rejection {
            fn from(inner: $name) -> Self {
                Rejection::$name(inner)
            }
        }
    };
}

define_rejection! {
    #[status = PAYLOAD_TOO_LARGE]
    /// The body is longer than [`WebhookSettings::max_body_bytes`](super::WebhookSettings).
    pub struct PayloadTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    }
    |this| format!("webhook body exceeds the limit of {} bytes", this.limit)
}

define_rejection! {
    #[status = BAD_REQUEST]
    /// Neither a signature nor a token header is present and unsigned deliveries are refused.
    pub struct MissingSignature {
        /// The headers that were looked for (signature headers, then token headers).
        expected: Vec<String>,
    }
    |this| format!(
        "missing webhook signature: expected one of the headers {}",
        this.expected.join(", ")
    )
}

define_rejection! {
    #[status = UNAUTHORIZED]
    /// A signature header is present but matches none of the configured secrets.
    pub struct InvalidSignature {
        /// The header that carried the signature.
        header: String,
    }
    |this| format!("webhook signature in {} does not match", this.header)
}

define_rejection! {
    #[status = UNAUTHORIZED]
    /// A token header is present but matches none of the configured secrets.
    pub struct InvalidToken {
        /// The header that carried the token.
        header: String,
    }
    |this| format!("webhook token in {} does not match", this.header)
}

define_rejection! {
    #[status = BAD_REQUEST]
    /// The body is not valid JSON. Only the position is reported, never the content.
    pub struct InvalidJson {
        /// Line of the first error (1-based).
        line: usize,
        /// Column of the first error (1-based).
        column: usize,
        /// `syntax`, `eof`, `data` or `io`.
        category: &'static str,
    }
    |this| format!(
        "webhook body is not valid JSON ({} error at line {}, column {})",
        this.category, this.line, this.column
    )
}

define_rejection! {
    #[status = BAD_REQUEST]
    /// The body is valid JSON but not an object.
    pub struct NotAnObject {
        /// The JSON type found instead (`array`, `string`, …).
        found: &'static str,
    }
    |this| format!("webhook body must be a JSON object, found {}", this.found)
}

define_rejection! {
    #[status = BAD_REQUEST]
    /// No event header is present and the body has no `object_kind`.
    pub struct MissingEvent {
        /// The event headers that were looked for.
        expected: Vec<String>,
    }
    |this| format!(
        "missing webhook event: no header among {} and no `object_kind` in the body",
        this.expected.join(", ")
    )
}

define_rejection! {
    #[status = REQUEST_TIMEOUT]
    /// The body did not arrive in full within the receiver's body timeout.
    pub struct BodyTimeout {
        /// The timeout in seconds.
        seconds: u64,
    }
    |this| format!("webhook body not received within {} seconds", this.seconds)
}

impl BodyTimeout {
    /// A rejection for a body still incomplete after `timeout`.
    pub fn new(timeout: std::time::Duration) -> Self {
        Self {
            seconds: timeout.as_secs(),
        }
    }
}

impl PayloadTooLarge {
    /// A rejection for a body over `limit` bytes (for receivers that stop reading early).
    pub fn new(limit: usize) -> Self {
        Self { limit }
    }
}

/// Every reason [`parse_delivery`](super::parse_delivery) can refuse a delivery.
///
/// Statuses: 413 too large; 408 body too slow (receivers only); 400 missing signature, invalid JSON, not an object, missing
/// event; 401 invalid signature or token.
///
/// # Example
/// ```
/// use atombot::webhook::{parse_delivery, WebhookSettings};
/// use axum::response::IntoResponse;
///
/// let settings = WebhookSettings::default().with_secret("s3cret");
/// let rejection = parse_delivery(&http::HeaderMap::new(), "{}".into(), &settings).unwrap_err();
/// assert_eq!(rejection.status(), http::StatusCode::BAD_REQUEST);
/// assert_eq!(rejection.into_response().status(), http::StatusCode::BAD_REQUEST);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// See [`PayloadTooLarge`] (413).
    PayloadTooLarge(PayloadTooLarge),
    /// See [`MissingSignature`] (400).
    MissingSignature(MissingSignature),
    /// See [`InvalidSignature`] (401).
    InvalidSignature(InvalidSignature),
    /// See [`InvalidToken`] (401).
    InvalidToken(InvalidToken),
    /// See [`InvalidJson`] (400).
    InvalidJson(InvalidJson),
    /// See [`NotAnObject`] (400).
    NotAnObject(NotAnObject),
    /// See [`MissingEvent`] (400).
    MissingEvent(MissingEvent),
    /// See [`BodyTimeout`] (408); only a receiver reading the body produces it.
    BodyTimeout(BodyTimeout),
}

macro_rules! each_variant {
    ($self:ident, |$inner:ident| $e:expr) => {
        match $self {
            Rejection::PayloadTooLarge($inner) => $e,
            Rejection::MissingSignature($inner) => $e,
            Rejection::InvalidSignature($inner) => $e,
            Rejection::InvalidToken($inner) => $e,
            Rejection::InvalidJson($inner) => $e,
            Rejection::NotAnObject($inner) => $e,
            Rejection::MissingEvent($inner) => $e,
            Rejection::BodyTimeout($inner) => $e,
        }
    };
}

impl Rejection {
    /// The HTTP status this rejection answers with.
    pub fn status(&self) -> StatusCode {
        each_variant!(self, |inner| inner.status())
    }

    /// The plain-text body this rejection answers with.
    pub fn body_text(&self) -> String {
        each_variant!(self, |inner| inner.body_text())
    }

    /// A short stable name for the reason, for logs and metric labels.
    pub fn reason(&self) -> &'static str {
        match self {
            Rejection::PayloadTooLarge(_) => "too_large",
            Rejection::MissingSignature(_) => "missing_signature",
            Rejection::InvalidSignature(_) => "bad_signature",
            Rejection::InvalidToken(_) => "bad_token",
            Rejection::InvalidJson(_) => "invalid_json",
            Rejection::NotAnObject(_) => "not_an_object",
            Rejection::MissingEvent(_) => "missing_event",
            Rejection::BodyTimeout(_) => "body_timeout",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        each_variant!(self, |inner| fmt::Display::fmt(inner, f))
    }
}

impl std::error::Error for Rejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        each_variant!(self, |inner| Some(
            inner as &(dyn std::error::Error + 'static)
        ))
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        each_variant!(self, |inner| inner.into_response())
    }
}

impl InvalidJson {
    pub(crate) fn from_serde(err: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let category = match err.classify() {
            Category::Io => "io",
            Category::Syntax => "syntax",
            Category::Data => "data",
            Category::Eof => "eof",
        };
        Self {
            line: err.line(),
            column: err.column(),
            category,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_has_its_status() {
        let cases: Vec<(Rejection, u16)> = vec![
            (PayloadTooLarge { limit: 1 }.into(), 413),
            (
                MissingSignature {
                    expected: vec!["X-Hub-Signature-256".into()],
                }
                .into(),
                400,
            ),
            (
                InvalidSignature {
                    header: "X-Hub-Signature-256".into(),
                }
                .into(),
                401,
            ),
            (
                InvalidToken {
                    header: "X-GitCode-Token".into(),
                }
                .into(),
                401,
            ),
            (
                InvalidJson {
                    line: 1,
                    column: 1,
                    category: "eof",
                }
                .into(),
                400,
            ),
            (NotAnObject { found: "array" }.into(), 400),
            (BodyTimeout { seconds: 60 }.into(), 408),
            (
                MissingEvent {
                    expected: vec!["X-AtomGit-Event".into()],
                }
                .into(),
                400,
            ),
        ];
        for (rejection, status) in cases {
            assert_eq!(rejection.status().as_u16(), status, "{rejection}");
            assert!(!rejection.body_text().is_empty());
            assert_eq!(rejection.into_response().status().as_u16(), status);
        }
    }

    #[test]
    fn missing_signature_names_the_headers() {
        let r = MissingSignature {
            expected: vec!["X-Hub-Signature-256".into()],
        };
        assert!(r.to_string().contains("X-Hub-Signature-256"));
    }
}
