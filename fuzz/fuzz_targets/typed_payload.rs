//! Typed payload decoding: an unsigned delivery of any canonical event with any JSON body
//! decodes into its typed payload or fails with an error naming the field, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

const EVENTS: [&str; 12] = [
    "push", "issues", "issue_comment", "pull_request", "merge_request", "note",
    "Push Hook", "Merge Request Hook", "Note Hook", "Issue Hook", "tag_push", "installation",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let mut headers = http::HeaderMap::new();
    headers.insert(
        "x-atomgit-event",
        http::HeaderValue::from_static(EVENTS[usize::from(pick) % EVENTS.len()]),
    );
    let settings = atombot::webhook::WebhookSettings::default().with_allow_unsigned(true);
    if let Ok(delivery) =
        atombot::webhook::parse_delivery(&headers, bytes::Bytes::copy_from_slice(body), &settings)
    {
        use atombot::models::webhook::*;
        let _ = delivery.typed_payload();
        let _ = delivery.payload::<PushEvent>();
        let _ = delivery.payload::<IssuesEvent>();
        let _ = delivery.payload::<PullRequestEvent>();
    }
});
