//! The objects GitLab-shaped bodies are made of: `project`, `repository`, `user`, merge
//! request and issue `object_attributes`, commits.

use serde_json::{Value, json};

use super::super::{ACTOR, TIME, WEB, id_of, pr_head, sha};

pub(super) fn merge_request_object(full_name: &str, number: u64, title: &str) -> Value {
    let project = project(full_name);
    let head = pr_head(full_name, number);
    let project_id = id_of(full_name);
    json!({
        "id": id_of(&format!("{full_name}!{number}")),
        "iid": number,
        "title": title,
        "description": "",
        "state": "opened",
        "action": null,
        "source_branch": "feature",
        "target_branch": "main",
        "source_project_id": project_id,
        "target_project_id": project_id,
        "source": project.clone(),
        "target": project,
        "author_id": id_of(ACTOR),
        "author": user(),
        "last_commit": {
            "id": head,
            "message": "Update README.md",
            "url": format!("{WEB}/{full_name}/commits/detail/{head}"),
            "timestamp": TIME,
            "author": { "name": ACTOR, "email": format!("{ACTOR}@example.com") },
        },
        "oldrev": "",
        "merge_status": "can_be_merged",
        "merge_commit_sha": null,
        "merge_user_id": null,
        "merge_when_pipeline_succeeds": false,
        "work_in_progress": false,
        "conflict": false,
        "need_review": false,
        "need_test": false,
        "assignee_id": null,
        "assignee_list": [],
        "reviewer_list": [],
        "milestone_id": null,
        "url": format!("{WEB}/{full_name}/merge_requests/{number}"),
        "created_at": TIME,
        "updated_at": TIME,
        "last_edited_at": null,
    })
}

pub(super) fn issue_object(full_name: &str, number: u64, title: &str, closed: bool) -> Value {
    json!({
        "id": id_of(&format!("{full_name}#{number}")),
        "iid": number,
        "title": title,
        "description": "",
        "state": if closed { "closed" } else { "opened" },
        "author_id": id_of(ACTOR),
        "author": user(),
        "project_id": id_of(full_name),
        "confidential": false,
        "assignee_id": null,
        "assignee_ids": [],
        "milestone_id": null,
        "due_date": null,
        "url": format!("{WEB}/{full_name}/issues/{number}"),
        "created_at": TIME,
        "updated_at": TIME,
        "closed_at": if closed { json!(TIME) } else { Value::Null },
        "last_edited_at": null,
    })
}

pub(super) fn commit(full_name: &str, id: &str, message: &str) -> Value {
    json!({
        "id": id,
        "message": message,
        "timestamp": TIME,
        "url": format!("{WEB}/{full_name}/commits/detail/{id}"),
        "author": { "name": ACTOR, "email": format!("{ACTOR}@example.com") },
    })
}

/// A GitLab `project` for `owner/name` (no `/`: namespace and name are both the input).
pub(super) fn project(full_name: &str) -> Value {
    let (namespace, name) = full_name.split_once('/').unwrap_or((full_name, full_name));
    json!({
        "id": id_of(full_name),
        "name": name,
        "description": null,
        "web_url": format!("{WEB}/{full_name}"),
        "avatar_url": null,
        "git_ssh_url": format!("git@atomgit.com:{full_name}.git"),
        "git_http_url": format!("{WEB}/{full_name}.git"),
        "namespace": namespace,
        "visibility_level": 20,
        "path_with_namespace": full_name,
        "default_branch": "main",
        "ci_config_path": null,
        "homepage": format!("{WEB}/{full_name}"),
        "url": format!("git@atomgit.com:{full_name}.git"),
        "ssh_url": format!("git@atomgit.com:{full_name}.git"),
        "http_url": format!("{WEB}/{full_name}.git"),
    })
}

/// The short `repository` object GitCode sends beside `project`.
pub(super) fn repository(full_name: &str) -> Value {
    let name = full_name.rsplit('/').next().unwrap_or(full_name);
    json!({
        "name": name,
        "url": format!("git@atomgit.com:{full_name}.git"),
        "description": null,
        "homepage": format!("{WEB}/{full_name}"),
        "git_http_url": format!("{WEB}/{full_name}.git"),
        "git_ssh_url": format!("git@atomgit.com:{full_name}.git"),
        "visibility_level": 20,
    })
}

pub(super) fn user() -> Value {
    json!({
        "id": id_of(ACTOR),
        "name": ACTOR,
        "username": ACTOR,
        "avatar_url": null,
        "email": format!("{ACTOR}@example.com"),
    })
}

/// A UUID-formatted string derived from `seed`.
pub(super) fn uuid(seed: &str) -> String {
    let hex = sha(&format!("uuid:{seed}"));
    // `sha` gives 40 ASCII hex digits, so these ranges exist.
    let part = |from: usize, to: usize| hex.get(from..to).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}
