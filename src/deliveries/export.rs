//! A kept delivery as a file: `atombot deliveries export ID > file.json`, which
//! `atombot send file.json --to URL` sends again (signed anew).

use base64::Engine as _;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::Record;
use crate::error::{Error, Result};

/// The `format` of an export file.
const FORMAT: &str = "atombot-delivery/1";

/// A delivery as exported: its event header, the headers that matter and the body, byte for
/// byte (as text when it is UTF-8, else base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Export {
    /// Always `atombot-delivery/1`.
    pub format: String,
    /// The original delivery id.
    pub id: String,
    /// The event header's value as received (`push`, `Push Hook`).
    pub event: String,
    /// The headers that matter, as received (never a signature or token).
    pub headers: Vec<(String, String)>,
    /// The body when it is UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The body in base64 otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_base64: Option<String>,
}

impl Export {
    /// The export of `record`.
    pub fn of(record: &Record) -> Self {
        let event = record
            .headers
            .iter()
            .find(|(name, _)| super::is_event_header(name))
            .map_or_else(|| record.event.clone(), |(_, value)| value.clone());
        let (body, body_base64) = match std::str::from_utf8(&record.body) {
            Ok(text) => (Some(text.to_owned()), None),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(&record.body)),
            ),
        };
        Self {
            format: FORMAT.to_owned(),
            id: record.id.clone(),
            event,
            headers: record.headers.clone(),
            body,
            body_base64,
        }
    }

    /// Reads an export file's contents; `None` when `bytes` is not one (an ordinary payload).
    ///
    /// Fails with [`Error::InvalidRequest`] when it says it is an export but does not decode.
    pub fn parse(bytes: &[u8]) -> Result<Option<Self>> {
        #[derive(Deserialize)]
        struct Probe {
            format: Option<String>,
        }
        match serde_json::from_slice::<Probe>(bytes) {
            Ok(Probe { format: Some(f) }) if f == FORMAT => {}
            _ => return Ok(None),
        }
        serde_json::from_slice(bytes)
            .map(Some)
            .map_err(|e| Error::InvalidRequest(format!("not a valid {FORMAT} export: {e}")))
    }

    /// The body, byte for byte.
    ///
    /// Fails with [`Error::InvalidRequest`] when `body_base64` is not base64.
    pub fn body_bytes(&self) -> Result<Bytes> {
        match (&self.body, &self.body_base64) {
            (Some(text), _) => Ok(Bytes::from(text.clone())),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map(Bytes::from)
                .map_err(|e| Error::InvalidRequest(format!("body_base64: {e}"))),
            (None, None) => Ok(Bytes::new()),
        }
    }

    /// Whether the delivery came with GitCode's headers (`X-GitCode-*`, `X-Gitlab-*`).
    pub fn is_gitcode(&self) -> bool {
        self.headers
            .iter()
            .any(|(name, _)| name.starts_with("x-gitcode-") || name.starts_with("x-gitlab-"))
    }
}
