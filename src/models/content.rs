//! File contents.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::{CommitRef, de};

/// A file read through `GET /repos/{o}/{r}/contents`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Content {
    /// `file` or `dir`.
    #[serde(rename = "type", deserialize_with = "de::string")]
    pub kind: String,
    /// Content encoding, `base64` for files.
    pub encoding: Option<String>,
    /// The encoded content (base64 may contain line breaks).
    pub content: Option<String>,
    /// Path in the repository.
    #[serde(deserialize_with = "de::string")]
    pub path: String,
    /// File name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// Blob sha.
    pub sha: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
}

/// The answer to creating or updating a file (`PUT /repos/{o}/{r}/contents/{path}`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FileCommit {
    /// The file as written, when sent.
    pub content: Option<Content>,
    /// The commit that wrote it.
    #[serde(deserialize_with = "de::or_default")]
    pub commit: CommitRef,
}

impl Content {
    /// The decoded bytes; `None` when there is no content or it is not valid base64.
    pub fn decoded(&self) -> Option<Vec<u8>> {
        let raw = self.content.as_deref()?;
        if self.encoding.as_deref().is_some_and(|e| e != "base64") {
            return Some(raw.as_bytes().to_vec());
        }
        let compact: String = raw.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .ok()
    }

    /// The decoded content as UTF-8 text.
    pub fn text(&self) -> Option<String> {
        String::from_utf8(self.decoded()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64_with_line_breaks() {
        let c: Content = serde_json::from_str(
            r#"{"type":"file","encoding":"base64","content":"aGVs\nbG8=\n","path":"a","name":"a"}"#,
        )
        .unwrap();
        assert_eq!(c.text().as_deref(), Some("hello"));
    }
}
