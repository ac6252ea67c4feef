//! Real GitLab-shaped deliveries captured from the GitCode stack (`tests/fixtures/payloads/`).

use serde_json::Value;

use super::Payload;

const PUSH: &str = include_str!("../../../tests/fixtures/payloads/gogitcode-push.json");
const MR_OPEN: &str = include_str!("../../../tests/fixtures/payloads/gogitcode-mr-open.json");
const NOTE_ISSUE: &str = include_str!("../../../tests/fixtures/payloads/gogitcode-note-issue.json");

fn capture(event: &str, text: &str) -> Payload {
    let value: Value = serde_json::from_str(text).expect("the captured fixtures are valid JSON");
    Payload::new(event, value)
}

/// `Push Hook`: a branch created by a push (`before` is all zeros).
pub fn gitlab_push() -> Payload {
    capture("Push Hook", PUSH)
}

/// `Merge Request Hook`: a merge request opened (`object_attributes.action = open`).
pub fn gitlab_merge_request_open() -> Payload {
    capture("Merge Request Hook", MR_OPEN)
}

/// `Note Hook`: a comment on an issue (`noteable_type = Issue`).
pub fn gitlab_note_on_issue() -> Payload {
    capture("Note Hook", NOTE_ISSUE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_parse() {
        assert_eq!(gitlab_push().as_value()["object_kind"], "push");
        assert_eq!(
            gitlab_merge_request_open().as_value()["object_kind"],
            "merge_request"
        );
        assert_eq!(gitlab_note_on_issue().as_value()["object_kind"], "note");
    }
}
