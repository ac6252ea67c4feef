//! Whole-pipeline tests of `parse_delivery`: outcomes, captured fixtures, a property test.

mod fixtures;
mod fuzz;
mod outcomes;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::*;

pub(super) const PUSH: &str = include_str!("../../../tests/fixtures/payloads/gogitcode-push.json");
pub(super) const MR_OPEN: &str =
    include_str!("../../../tests/fixtures/payloads/gogitcode-mr-open.json");
pub(super) const NOTE_ISSUE: &str =
    include_str!("../../../tests/fixtures/payloads/gogitcode-note-issue.json");

pub(super) const SECRET: &str = "correct-horse-battery";

pub(super) fn settings() -> WebhookSettings {
    WebhookSettings::default()
        .with_secret("retired-secret")
        .with_secret(SECRET)
}

pub(super) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

/// A request signed with the current secret.
pub(super) fn signed(event: Option<&str>, body: &str) -> (HeaderMap, Bytes) {
    let sig = sign(SECRET.as_bytes(), body.as_bytes());
    let mut pairs = vec![("X-Hub-Signature-256", sig.as_str())];
    if let Some(event) = event {
        pairs.push(("X-AtomGit-Event", event));
    }
    (headers(&pairs), Bytes::copy_from_slice(body.as_bytes()))
}

pub(super) fn parse(event: Option<&str>, body: &str) -> Result<Delivery, Rejection> {
    let (h, b) = signed(event, body);
    parse_delivery(&h, b, &settings())
}

pub(super) fn gitcode(event: &str, body: &str) -> Delivery {
    let sig = sign(SECRET.as_bytes(), body.as_bytes());
    let h = headers(&[
        ("X-GitCode-Event", event),
        ("X-GitCode-Delivery", "gc-delivery-1"),
        ("X-GitCode-Signature-256", &sig),
        ("User-Agent", "git-gitcode-hook"),
    ]);
    parse_delivery(&h, Bytes::copy_from_slice(body.as_bytes()), &settings()).unwrap()
}

pub(super) fn assert_clean(r: &Rejection, body: &str) {
    let text = r.body_text();
    assert!(
        !text.contains(SECRET) && !text.contains("retired-secret"),
        "{text}"
    );
    if body.len() > 8 {
        assert!(!text.contains(body), "{text}");
    }
}
