//! GitHub-dialect builders: AtomGit-Hookshot shapes (`X-AtomGit-Event: pull_request`, body
//! with `action`, `repository`, `sender`), 24-hex string ids, `0`/`1` booleans.

use serde_json::{Value, json};

use super::{
    ACTOR, EARLIER, Payload, TIME, WEB, ZERO_SHA, author, branch_head, full_ref, hex_of, id_of,
    pr_head, pr_head_before_push, repository, sha, user,
};

/// A `push` of one commit to `refs/heads/main` of `full_name` (`owner/name`).
///
/// The same as [`push_to`]`(full_name, "refs/heads/main")`.
pub fn push(full_name: &str) -> Payload {
    push_to(full_name, "refs/heads/main")
}

/// A `push` to `git_ref` of `full_name`: a full ref (`refs/heads/dev`, `refs/tags/v1`) or a
/// branch name (`dev`).
///
/// A branch push carries one commit. A tag push (`refs/tags/…`) creates the tag on the head
/// of `main` (`before` all zeros, `created: 1`, no `commits`, the tagged commit as
/// `head_commit`), as the platform sends it with the plain `push` event.
pub fn push_to(full_name: &str, git_ref: &str) -> Payload {
    let git_ref = full_ref(git_ref);
    let tag = git_ref.starts_with("refs/tags/");
    let (before, after) = if tag {
        (
            ZERO_SHA.to_owned(),
            branch_head(full_name, "refs/heads/main"),
        )
    } else {
        (
            sha(&format!("{}:before", super::ref_seed(full_name, &git_ref))),
            branch_head(full_name, &git_ref),
        )
    };
    let commit = json!({
        "id": after,
        "tree_id": sha(&format!("{full_name}:tree")),
        "message": "Update README.md",
        "timestamp": TIME,
        "url": format!("{WEB}/{full_name}/commit/{after}"),
        "author": author(),
        "committer": author(),
        "added": [],
        "removed": [],
        "modified": ["README.md"],
    });
    let compare = if tag {
        format!("{WEB}/{full_name}/compare/{git_ref}")
    } else {
        format!(
            "{WEB}/{full_name}/compare/{}...{}",
            &before[..12],
            &after[..12]
        )
    };
    Payload::new(
        "push",
        json!({
            "ref": git_ref,
            "before": before,
            "after": after,
            "created": u8::from(tag),
            "deleted": 0,
            "forced": false,
            "base_ref": if tag { json!("refs/heads/main") } else { Value::Null },
            "compare": compare,
            "commits": if tag { json!([]) } else { json!([commit.clone()]) },
            "head_commit": commit,
            "repository": repository(full_name),
            "pusher": { "name": ACTOR, "email": format!("{ACTOR}@example.com") },
            "sender": user(ACTOR),
        }),
    )
}

/// A tag push: [`push_to`]`(full_name, "refs/tags/<tag>")`.
pub fn tag_push(full_name: &str, tag: &str) -> Payload {
    push_to(full_name, &format!("refs/tags/{tag}"))
}

/// `issues` with action `opened`: [`issues`]`(full_name, number, title, "opened")`.
pub fn issue_opened(full_name: &str, number: u64, title: &str) -> Payload {
    issues(full_name, number, title, "opened")
}

/// `issues` with any `action`: issue `number` titled `title` in `full_name`.
///
/// The body follows the action: `closed` closes the issue (`state`, `closed_at`), `edited`
/// adds `changes.title.from`, `labeled`/`unlabeled` add the `label` (`bug`), and
/// `assigned`/`unassigned` the `assignee`. Other actions are sent as given on an open issue.
pub fn issues(full_name: &str, number: u64, title: &str, action: &str) -> Payload {
    let mut issue = issue(full_name, number, title);
    let mut extra = serde_json::Map::new();
    match action {
        "closed" => {
            issue["state"] = "closed".into();
            issue["closed_at"] = TIME.into();
        }
        "edited" => {
            extra.insert("changes".into(), json!({ "title": { "from": EARLIER } }));
        }
        "labeled" | "unlabeled" => {
            let label = label(full_name, "bug");
            if action == "labeled" {
                issue["labels"] = json!([label.clone()]);
            }
            extra.insert("label".into(), label);
        }
        "assigned" | "unassigned" => {
            if action == "assigned" {
                issue["assignees"] = json!([user(ACTOR)]);
            }
            extra.insert("assignee".into(), user(ACTOR));
        }
        _ => {}
    }
    let mut body = json!({
        "action": action,
        "issue": issue,
        "repository": repository(full_name),
        "sender": user(ACTOR),
    });
    if let Some(object) = body.as_object_mut() {
        object.extend(extra);
    }
    Payload::new("issues", body)
}

/// `issue_comment` with action `created`: [`issue_comment`]`(full_name, number, body, "created")`.
pub fn issue_comment_created(full_name: &str, number: u64, body: &str) -> Payload {
    issue_comment(full_name, number, body, "created")
}

/// `issue_comment` with any `action` (`created`, `edited`, `deleted`): a comment saying
/// `body` on issue `number`. `edited` adds `changes.body.from`.
pub fn issue_comment(full_name: &str, number: u64, body: &str, action: &str) -> Payload {
    let comment_id = id_of(&format!("{full_name}#{number}:comment:{body}"));
    let mut value = json!({
        "action": action,
        "issue": issue(full_name, number, &format!("Issue #{number}")),
        "comment": {
            "id": comment_id,
            "body": body,
            "html_url": format!("{WEB}/{full_name}/issues/{number}#note_{comment_id}"),
            "user": user(ACTOR),
            "created_at": TIME,
            "updated_at": TIME,
        },
        "repository": repository(full_name),
        "sender": user(ACTOR),
    });
    if action == "edited" {
        value["changes"] = json!({ "body": { "from": EARLIER } });
    }
    Payload::new("issue_comment", value)
}

/// `pull_request` with action `opened`: [`pull_request`]`(full_name, number, title, "opened")`.
pub fn pull_request_opened(full_name: &str, number: u64, title: &str) -> Payload {
    pull_request(full_name, number, title, "opened")
}

/// `pull_request` with any `action`: `feature` into `main`, number `number`.
///
/// The body follows the action: `synchronize` moves the head to a new commit (with `before`
/// and `after`), `edited` adds `changes.title.from`, `closed` closes it unmerged (see
/// [`pull_request_merged`] for a merge). Other actions (`opened`, `reopened`, …) are sent
/// as given on an open pull request.
pub fn pull_request(full_name: &str, number: u64, title: &str, action: &str) -> Payload {
    let mut pr = pull_request_object(full_name, number, title);
    let mut value = json!({ "action": action, "number": number });
    match action {
        "synchronize" => {
            let after = pr_head(full_name, number);
            value["before"] = pr_head_before_push(full_name, number).into();
            value["after"] = after.into();
        }
        "edited" => value["changes"] = json!({ "title": { "from": EARLIER } }),
        "closed" => {
            pr["state"] = "closed".into();
            pr["closed_at"] = TIME.into();
        }
        _ => {}
    }
    value["pull_request"] = pr;
    value["repository"] = repository(full_name);
    value["sender"] = user(ACTOR);
    Payload::new("pull_request", value)
}

/// `pull_request` with action `closed` and `pull_request.merged = 1`: pull request `number`
/// merged, with `merged_at`, `merged_by` and `merge_commit_sha`.
pub fn pull_request_merged(full_name: &str, number: u64, title: &str) -> Payload {
    let mut payload = pull_request(full_name, number, title, "closed");
    let merge_sha = sha(&format!("{full_name}!{number}:merge"));
    for (pointer, value) in [
        ("/pull_request/merged", json!(1)),
        ("/pull_request/merged_at", json!(TIME)),
        ("/pull_request/merged_by", user(ACTOR)),
        ("/pull_request/merge_commit_sha", json!(merge_sha)),
    ] {
        payload = payload.set(pointer, value);
    }
    payload
}

/// `pull_request_review_comment` with any `action` (the platform sends `created`): a
/// comment saying `body` on line 1 of `README.md` in pull request `number`.
pub fn pull_request_review_comment(
    full_name: &str,
    number: u64,
    body: &str,
    action: &str,
) -> Payload {
    let comment_id = id_of(&format!("{full_name}!{number}:comment:{body}"));
    Payload::new(
        "pull_request_review_comment",
        json!({
            "action": action,
            "comment": {
                "id": comment_id,
                "body": body,
                "path": "README.md",
                "line": 1,
                "diff_hunk": "@@ -1 +1 @@\n-# app\n+# App",
                "commit_id": pr_head(full_name, number),
                "html_url": format!("{WEB}/{full_name}/pull/{number}#discussion_r{comment_id}"),
                "pull_request_url": format!("{WEB}/{full_name}/pull/{number}"),
                "user": user(ACTOR),
                "created_at": TIME,
                "updated_at": TIME,
            },
            "pull_request": pull_request_object(full_name, number, &format!("Pull request !{number}")),
            "repository": repository(full_name),
            "sender": user(ACTOR),
        }),
    )
}

/// `commit_comment` with any `action` (the platform sends `created`): a comment saying
/// `body` on commit `commit_id` (e.g. `push(full_name)`'s `after`).
pub fn commit_comment(full_name: &str, commit_id: &str, body: &str, action: &str) -> Payload {
    let comment_id = id_of(&format!("{full_name}@{commit_id}:comment:{body}"));
    Payload::new(
        "commit_comment",
        json!({
            "action": action,
            "comment": {
                "id": comment_id,
                "body": body,
                "commit_id": commit_id,
                "path": null,
                "line": null,
                "position": null,
                "html_url": format!("{WEB}/{full_name}/commit/{commit_id}#note_{comment_id}"),
                "user": user(ACTOR),
                "created_at": TIME,
                "updated_at": TIME,
            },
            "repository": repository(full_name),
            "sender": user(ACTOR),
        }),
    )
}

/// `installation` with action `created`: [`installation`]`(installation_id, account_path, "created")`.
pub fn installation_created(installation_id: u64, account_path: &str) -> Payload {
    installation(installation_id, account_path, "created")
}

/// `installation` with any `action` (`created`, `deleted`, `suspend`, `unsuspend`, …): the
/// app on `account_path`, all repositories. `suspend` adds `suspended_at`/`suspended_by`.
/// Carries its `installation` object by nature.
pub fn installation(installation_id: u64, account_path: &str, action: &str) -> Payload {
    let mut object = installation_object(installation_id, account_path, "all");
    if action == "suspend" {
        object["suspended_at"] = TIME.into();
        object["suspended_by"] = user(ACTOR);
    }
    Payload::new(
        "installation",
        json!({
            "action": action,
            "installation": object,
            "repositories": [],
            "sender": user(ACTOR),
        }),
    )
}

/// `installation_repositories` with `action` `added` or `removed`: `repositories` (each
/// `owner/name`, or a bare name in `account_path`) listed in `repositories_removed` for
/// `removed` and in `repositories_added` otherwise.
pub fn installation_repositories(
    installation_id: u64,
    account_path: &str,
    action: &str,
    repositories: &[&str],
) -> Payload {
    let listed: Vec<Value> = repositories
        .iter()
        .map(|r| {
            let full_name = if r.contains('/') {
                (*r).to_owned()
            } else {
                format!("{account_path}/{r}")
            };
            let name = full_name.rsplit('/').next().unwrap_or_default().to_owned();
            json!({
                "id": hex_of(&full_name),
                "name": name,
                "full_name": full_name,
                "private": 0,
            })
        })
        .collect();
    let (added, removed) = if action == "removed" {
        (Vec::new(), listed)
    } else {
        (listed, Vec::new())
    };
    Payload::new(
        "installation_repositories",
        json!({
            "action": action,
            "installation": installation_object(installation_id, account_path, "selected"),
            "repository_selection": "selected",
            "repositories_added": added,
            "repositories_removed": removed,
            "sender": user(ACTOR),
        }),
    )
}

fn installation_object(installation_id: u64, account_path: &str, selection: &str) -> Value {
    json!({
        "id": installation_id,
        "app_id": 75,
        "app_slug": "atombot-sim",
        "account": {
            "id": hex_of(account_path),
            "login": account_path,
            "path": account_path,
            "type": "Organization",
        },
        "repository_selection": selection,
        "events": ["push", "issues", "issue_comment", "pull_request"],
        "permissions": { "issues": "write", "pull_requests": "write", "contents": "read" },
        "created_at": TIME,
        "updated_at": TIME,
    })
}

fn pull_request_object(full_name: &str, number: u64, title: &str) -> Value {
    let repo = repository(full_name);
    json!({
        "id": hex_of(&format!("{full_name}!{number}")),
        "number": number,
        "title": title,
        "body": "",
        "state": "open",
        "merged": 0,
        "draft": 0,
        "html_url": format!("{WEB}/{full_name}/pull/{number}"),
        "head": {
            "ref": "feature",
            "sha": pr_head(full_name, number),
            "repo": repo.clone(),
        },
        "base": {
            "ref": "main",
            "sha": branch_head(full_name, "refs/heads/main"),
            "repo": repo,
        },
        "user": user(ACTOR),
        "labels": [],
        "created_at": TIME,
        "updated_at": TIME,
        "merged_at": null,
        "merge_commit_sha": null,
    })
}

fn issue(full_name: &str, number: u64, title: &str) -> Value {
    json!({
        "id": hex_of(&format!("{full_name}#{number}")),
        "number": number,
        "title": title,
        "body": "",
        "state": "open",
        "html_url": format!("{WEB}/{full_name}/issues/{number}"),
        "user": user(ACTOR),
        "labels": [],
        "assignees": [],
        "created_at": TIME,
        "updated_at": TIME,
        "closed_at": null,
    })
}

fn label(full_name: &str, name: &str) -> Value {
    json!({
        "id": hex_of(&format!("{full_name}:label:{name}")),
        "name": name,
        "color": "d73a4a",
        "description": null,
    })
}
