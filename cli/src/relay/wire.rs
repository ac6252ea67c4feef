//! What travels between `atombot relay` and `atombot forward`: SSE event names and the JSON
//! in their `data` lines.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

/// SSE event name of a kept delivery; its `id` is the delivery's sequence number.
pub(crate) const DELIVERY: &str = "delivery";
/// SSE event name sent first on every stream; its `id` is where the stream starts (the next
/// delivery sent has a larger sequence number).
pub(crate) const READY: &str = "ready";
/// SSE event name of a notice for the forwarder's operator (deliveries pruned, ids reset).
pub(crate) const WARNING: &str = "warning";

/// A delivery as kept by the relay: the headers that matter and the exact body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireDelivery {
    /// Sequence number on its channel (also the SSE event id).
    pub(crate) seq: u64,
    /// `(name, value)` pairs in the order received; a name may repeat.
    pub(crate) headers: Vec<(String, String)>,
    /// The raw body, standard base64.
    pub(crate) body: String,
}

impl WireDelivery {
    /// Builds one from the raw body.
    pub(crate) fn new(seq: u64, headers: Vec<(String, String)>, body: &[u8]) -> Self {
        Self {
            seq,
            headers,
            body: STANDARD.encode(body),
        }
    }

    /// The raw body bytes.
    ///
    /// # Errors
    /// If `body` is not valid base64.
    pub(crate) fn body_bytes(&self) -> Result<Vec<u8>, base64::DecodeError> {
        STANDARD.decode(&self.body)
    }

    /// The first value of header `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The event name, from whichever dialect's event header is present.
    pub(crate) fn event(&self) -> &str {
        [
            "x-atomgit-event",
            "x-gitcode-event",
            "x-github-event",
            "x-gitee-event",
        ]
        .iter()
        .find_map(|h| self.header(h))
        .unwrap_or("-")
    }

    /// The platform's delivery id, from whichever dialect's delivery header is present.
    pub(crate) fn delivery_id(&self) -> &str {
        [
            "x-atomgit-delivery",
            "x-gitcode-delivery",
            "x-github-delivery",
            "x-gitee-delivery",
        ]
        .iter()
        .find_map(|h| self.header(h))
        .unwrap_or("-")
    }
}

/// `data` of a [`READY`] event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Ready {
    /// The channel streamed.
    pub(crate) channel: String,
    /// The stream continues after this sequence number.
    pub(crate) after: u64,
}

/// `data` of a [`WARNING`] event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Warning {
    /// What happened, for a human.
    pub(crate) message: String,
    /// Deliveries the forwarder will never receive because of it (0 if none or unknown).
    pub(crate) missed: u64,
}

/// Whether the relay keeps header `name` (lowercase): the platform's own `X-*` headers
/// (event, delivery, signature, token, …), `Content-Type`, `Content-Encoding` and
/// `User-Agent`; not proxy or connection headers, nor `Authorization`/`Cookie`.
pub(crate) fn keeps_header(name: &str) -> bool {
    match name {
        "content-type" | "content-encoding" | "user-agent" => true,
        _ => name.starts_with("x-") && !name.starts_with("x-forwarded-") && name != "x-real-ip",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_round_trips_byte_for_byte() {
        let body = b"{\"a\": \"\xc3\xa9\"}\r\n\x00\xff";
        let d = WireDelivery::new(3, vec![], body);
        let json = serde_json::to_string(&d).unwrap();
        let back: WireDelivery = serde_json::from_str(&json).unwrap();
        assert_eq!(back.body_bytes().unwrap(), body);
    }

    #[test]
    fn event_and_delivery_from_any_dialect() {
        let d = WireDelivery::new(
            1,
            vec![
                ("X-GitCode-Event".into(), "Push Hook".into()),
                ("x-gitcode-delivery".into(), "abc".into()),
            ],
            b"{}",
        );
        assert_eq!((d.event(), d.delivery_id()), ("Push Hook", "abc"));
    }

    #[test]
    fn platform_headers_are_kept_proxy_headers_are_not() {
        for kept in [
            "x-atomgit-event",
            "x-hub-signature-256",
            "x-gitcode-token",
            "x-gitee-token",
            "x-github-delivery",
            "content-type",
            "user-agent",
        ] {
            assert!(keeps_header(kept), "{kept}");
        }
        for dropped in [
            "host",
            "content-length",
            "authorization",
            "cookie",
            "x-forwarded-for",
            "x-real-ip",
            "connection",
        ] {
            assert!(!keeps_header(dropped), "{dropped}");
        }
    }
}
