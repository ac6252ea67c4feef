//! Property test: any headers and bytes give a delivery or a documented rejection.

use super::*;
use crate::models::webhook::{IssueCommentEvent, PullRequestEvent, PushEvent};
use proptest::prelude::*;

const LIMIT: usize = 512;

fn header_name() -> impl Strategy<Value = String> {
    let real = prop::sample::select(vec![
        "X-AtomGit-Event",
        "X-GitCode-Event",
        "X-GitHub-Event",
        "X-AtomGit-Delivery",
        "X-GitCode-Delivery",
        "X-GitHub-Delivery",
        "X-Hub-Signature-256",
        "X-GitCode-Signature-256",
        "X-AtomGit-Signature-256",
        "X-GitCode-Token",
        "X-AtomGit-Token",
    ])
    .prop_map(str::to_owned);
    prop_oneof![4 => real, 1 => "[a-zA-Z0-9-]{1,20}"]
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            "push",
            "Push Hook",
            "Note Hook",
            "Merge Request Hook",
            "issues",
            "tag_push",
            "merge_request",
            "note",
            "issue",
            "TAG PUSH HOOK",
            "merge_request_open",
            "",
            " ",
            "sha256=",
            "sha256=zz",
            SECRET,
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        "sha256=[0-9a-f]{0,70}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let fixture = prop::sample::select(vec![PUSH, MR_OPEN, NOTE_ISSUE]);
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..(LIMIT * 2)),
        // Fixtures, whole and truncated; most are over the limit.
        (fixture.clone(), any::<prop::sample::Index>())
            .prop_map(|(f, i)| f.as_bytes()[..i.index(f.len() + 1)].to_vec()),
        // Small JSON documents that fit the limit.
        prop::sample::select(vec![
            "{}",
            "[]",
            "null",
            "1",
            "\"s\"",
            r#"{"object_kind":"note"}"#,
            r#"{"object_kind":"merge_request","object_attributes":{"action":"merge"}}"#,
            r#"{"object_kind":"push","installation":{"id":"x"},"uuid":""}"#,
            r#"{"object_kind":7,"action":[]}"#,
            r#"{"object_kind":""}"#,
            r#"{"object_kind":"issue","object_attributes":null,"project":[]}"#,
            r#"{"event_name":"merge_request_merge","object_attributes":{"iid":"7","action":"update"}}"#,
            r#"{"event_name":"merge_request_","changes":{"oldrev":1}}"#,
            r#"{"event_name":7,"object_attributes":[]}"#,
            r#"{"ref":"refs/heads/x","project":{"path_with_namespace":"a/b","private":"0","id":"6638af02bbeee41d0fe74c35"}}"#,
            r#"{"ref":"x","project":{"namespace":"a","path":"b","public":1},"repository":{"name":null}}"#,
            r#"{"repository":{"id":"6638af02bbeee41d0fe74c35","private":0,"owner":"acme"},"sender":{"id":"63db126c0566d2f7d2c9498c"}}"#,
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        "\\{\"[a-z_]{1,12}\":\"[ -~]{0,30}\"\\}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn parse_delivery_never_panics(
        pairs in prop::collection::vec((header_name(), header_value()), 0..8),
        body in body(),
        sign_it in any::<bool>(),
        allow_unsigned in any::<bool>(),
    ) {
        let mut headers = HeaderMap::new();
        for (name, value) in &pairs {
            let (Ok(name), Ok(value)) =
                (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value))
            else {
                continue;
            };
            headers.append(name, value);
        }
        if sign_it {
            let sig = sign(SECRET.as_bytes(), &body);
            headers.insert("x-gitcode-signature-256", sig.parse().unwrap());
        }
        let settings = settings()
            .with_max_body_bytes(LIMIT)
            .with_allow_unsigned(allow_unsigned);
        match parse_delivery(&headers, Bytes::from(body.clone()), &settings) {
            Ok(d) => {
                prop_assert!(body.len() <= LIMIT);
                prop_assert!(!d.event().is_empty());
                prop_assert!(!d.id().is_empty());
                prop_assert!(d.json().is_object());
                let _ = d.installation_id();
                let _ = d.owner_path();
                let _ = d.payload::<PushEvent>();
                let _ = d.payload::<PullRequestEvent>();
                let _ = d.payload::<IssueCommentEvent>();
                let _ = d.repository_full_name();
                let _ = d.is_tag_push();
                let _ = d.typed_payload();
            }
            Err(r) => {
                let status = r.status().as_u16();
                prop_assert!([400, 401, 413].contains(&status), "status {}", status);
                prop_assert_eq!(r.clone().into_response().status(), r.status());
                let text = r.body_text();
                prop_assert!(!text.contains(SECRET));
                prop_assert!(!text.contains("retired-secret"));
                if body.len() > LIMIT {
                    prop_assert_eq!(status, 413);
                }
            }
        }
    }
}

use axum::response::IntoResponse;
