//! Property test: every model decodes from JSON where each id is a number, a numeric string
//! or a hex string, each boolean `true`/`false`/`0`/`1`/`"true"`, each timestamp ISO 8601,
//! `YYYY-MM-DD HH:MM:SS` or an epoch — and keeps ids as text.

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::webhook::{
    IssueCommentEvent, IssuesEvent, PullRequestEvent, PullRequestReviewCommentEvent, PushEvent,
};
use super::*;

/// Placeholders in the templates below.
const ID: &str = "$id";
const BOOL: &str = "$bool";
const TIME: &str = "$time";
const NUM: &str = "$num";

/// What a placeholder became, and at which JSON pointer.
enum Want {
    Id(String),
    Bool(bool),
    Time(i64),
    Num(u64),
}

/// Replaces each placeholder using the next `choices` entry; records what to expect.
fn fill(
    v: &Value,
    ptr: &str,
    choices: &mut impl Iterator<Item = u64>,
    wants: &mut Vec<(String, Want)>,
) -> Value {
    match v {
        Value::String(s) if s.starts_with('$') => {
            let c = choices.next().unwrap_or(0);
            let (json, want) = match s.as_str() {
                ID => match c % 3 {
                    0 => (json!(c % 1_000_000), Want::Id((c % 1_000_000).to_string())),
                    1 => (
                        json!((c % 1_000_000).to_string()),
                        Want::Id((c % 1_000_000).to_string()),
                    ),
                    _ => {
                        let hex = format!("{:024x}", u128::from(c) * 0x9e37_79b9_7f4a_7c15);
                        let hex = hex[hex.len() - 24..].to_owned();
                        (json!(hex), Want::Id(hex))
                    }
                },
                BOOL => {
                    let b = c.is_multiple_of(2);
                    let json = match (c / 2) % 4 {
                        0 => json!(b),
                        1 => json!(u8::from(b)),
                        2 => json!(b.to_string()),
                        _ => json!(u8::from(b).to_string()),
                    };
                    (json, Want::Bool(b))
                }
                TIME => {
                    let epoch = 1_600_000_000 + (c % 100_000_000) as i64;
                    let t = chrono::DateTime::from_timestamp(epoch, 0).unwrap();
                    let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
                    let json = match (c / 3) % 4 {
                        0 => json!(t.with_timezone(&cst).to_rfc3339()),
                        1 => json!(
                            t.with_timezone(&cst)
                                .format("%Y-%m-%d %H:%M:%S")
                                .to_string()
                        ),
                        2 => json!(epoch),
                        _ => json!(epoch * 1000),
                    };
                    (json, Want::Time(epoch))
                }
                NUM => {
                    let n = c % 10_000;
                    let json = if c.is_multiple_of(2) {
                        json!(n)
                    } else {
                        json!(n.to_string())
                    };
                    (json, Want::Num(n))
                }
                other => panic!("unknown placeholder {other}"),
            };
            wants.push((ptr.to_owned(), want));
            json
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill(v, &format!("{ptr}/{k}"), choices, wants)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| fill(v, &format!("{ptr}/{i}"), choices, wants))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Decodes `template` filled from `choices` as `T`, and checks every placeholder came
/// through (read back from `T`'s serialization at the same pointer).
fn check<T: DeserializeOwned + Serialize>(
    template: &Value,
    choices: &[u64],
) -> Result<(), TestCaseError> {
    let mut wants = Vec::new();
    let json = fill(
        template,
        "",
        &mut choices.iter().copied().cycle(),
        &mut wants,
    );
    let decoded: T = serde_path_to_error::deserialize(&json)
        .map_err(|e| TestCaseError::fail(format!("{} at {}: {json}", e.inner(), e.path())))?;
    let back = serde_json::to_value(&decoded).unwrap();
    for (ptr, want) in wants {
        let got = back.pointer(&ptr).unwrap_or(&Value::Null);
        match want {
            Want::Id(text) => prop_assert_eq!(got, &json!(text), "{}", ptr),
            Want::Bool(b) => prop_assert_eq!(got, &json!(b), "{}", ptr),
            Want::Num(n) => prop_assert_eq!(got, &json!(n), "{}", ptr),
            Want::Time(epoch) => {
                let t = got.as_str().and_then(Timestamp::parse);
                prop_assert_eq!(t.map(|t| t.to_utc().timestamp()), Some(epoch), "{}", ptr);
            }
        }
    }
    Ok(())
}

fn user() -> Value {
    json!({"id": ID, "login": "ann", "type": "User", "created_at": TIME})
}

fn repository() -> Value {
    json!({"id": ID, "name": "app", "full_name": "acme/app", "owner": user(),
           "private": BOOL, "archived": BOOL, "fork": BOOL, "created_at": TIME, "updated_at": TIME})
}

fn label() -> Value {
    json!({"id": ID, "name": "bug", "color": "#f00"})
}

fn issue() -> Value {
    json!({"id": ID, "number": NUM, "title": "t", "state": "open", "user": user(),
           "labels": [label()], "assignees": [user()], "locked": BOOL,
           "created_at": TIME, "updated_at": TIME, "closed_at": TIME})
}

fn comment() -> Value {
    json!({"id": ID, "body": "hi", "user": user(), "created_at": TIME, "updated_at": TIME})
}

fn pull_request() -> Value {
    json!({"id": ID, "number": NUM, "title": "t", "state": "open", "merged": BOOL, "draft": BOOL,
           "mergeable": BOOL, "user": user(), "labels": [label()], "assignees": [user()],
           "head": {"ref": "f", "sha": "abc", "repo": repository()}, "base": {"ref": "main"},
           "created_at": TIME, "merged_at": TIME})
}

fn installation() -> Value {
    // Installation ids are integers on the platform: numbers or numeric strings only.
    json!({"id": NUM, "app_id": NUM, "account": {"id": ID, "login": "acme", "path": "acme"},
           "target_id": ID, "created_at": TIME, "updated_at": TIME})
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn every_model_decodes_every_id_and_boolean_form(choices in prop::collection::vec(any::<u64>(), 1..64)) {
        check::<User>(&user(), &choices)?;
        check::<Repository>(&repository(), &choices)?;
        check::<Label>(&label(), &choices)?;
        check::<Issue>(&issue(), &choices)?;
        check::<Comment>(&comment(), &choices)?;
        check::<Reaction>(&json!({"id": ID, "content": "+1", "user": user(), "created_at": TIME}), &choices)?;
        check::<PullRequest>(&pull_request(), &choices)?;
        check::<PullRequestFile>(&json!({"filename": "a", "status": "added", "additions": NUM,
                                         "deletions": NUM, "changes": NUM}), &choices)?;
        check::<Commit>(&json!({"sha": "abc", "commit": {"message": "m",
                                "author": {"name": "a", "email": "e", "date": TIME}}, "author": user()}), &choices)?;
        check::<Review>(&json!({"id": ID, "state": "APPROVED", "user": user(), "submitted_at": TIME}), &choices)?;
        check::<MergeResult>(&json!({"sha": "abc", "merged": BOOL}), &choices)?;
        check::<Membership>(&json!({"role": "admin", "user": user()}), &choices)?;
        check::<CollaboratorPermission>(&json!({"permission": "write", "user": user()}), &choices)?;
        check::<Release>(&json!({"id": ID, "tag_name": "v1", "draft": BOOL, "prerelease": BOOL,
                                 "author": user(), "created_at": TIME}), &choices)?;
        check::<Branch>(&json!({"name": "main", "commit": {"sha": "abc"}, "protected": BOOL}), &choices)?;
        check::<Tag>(&json!({"name": "v1", "commit": {"id": "abc"}}), &choices)?;
        check::<CheckRun>(&json!({"id": ID, "name": "ci", "head_sha": "abc", "started_at": TIME}), &choices)?;
        check::<CommitStatus>(&json!({"id": ID, "state": "success", "required": BOOL, "created_at": TIME}), &choices)?;
        check::<Installation>(&installation(), &choices)?;

        check::<PushEvent>(&json!({"ref": "refs/heads/main", "created": BOOL, "deleted": BOOL,
                                   "forced": BOOL, "repository": repository(), "sender": user(),
                                   "commits": [{"id": "abc", "timestamp": TIME}],
                                   "installation": {"id": NUM}}), &choices)?;
        check::<IssuesEvent>(&json!({"action": "opened", "issue": issue(), "label": label(),
                                     "repository": repository(), "sender": user()}), &choices)?;
        check::<IssueCommentEvent>(&json!({"action": "created", "issue": issue(), "comment": comment(),
                                           "repository": repository(), "sender": user()}), &choices)?;
        check::<PullRequestEvent>(&json!({"action": "opened", "number": NUM, "pull_request": pull_request(),
                                          "repository": repository(), "sender": user()}), &choices)?;
        check::<PullRequestReviewCommentEvent>(&json!({"action": "created", "comment": comment(),
                                                       "pull_request": pull_request(),
                                                       "repository": repository(), "sender": user()}), &choices)?;
        check::<InstallationEvent>(&json!({"action": "created", "installation": installation(),
                                           "repositories": [repository()], "sender": user()}), &choices)?;
    }
}

#[test]
fn a_field_that_does_not_fit_names_its_path() {
    let json = json!({"issue": {"user": {"created_at": "not a time"}}});
    let err = serde_path_to_error::deserialize::<_, IssuesEvent>(&json).unwrap_err();
    assert_eq!(err.path().to_string(), "issue.user.created_at");
    let json = json!({"repository": {"private": 7}});
    let err = serde_path_to_error::deserialize::<_, PushEvent>(&json).unwrap_err();
    assert_eq!(err.path().to_string(), "repository.private");
}
