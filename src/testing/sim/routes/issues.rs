//! Issues: read, list, create, update (both path families), assignees, labels, comments.

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, PageQuery, paginate, parse_body};
use crate::testing::sim::auth::Caller;
use crate::testing::sim::seed::hex_id;
use crate::testing::sim::server::Shared;
use crate::testing::sim::state::{Issue, TokenOwner, plain_now};

/// Path of issue routes: owner, repo, issue number.
type IssuePath = Path<(String, String, u64)>;

/// The login a token acts as: the app's bot user, or the OAuth user.
pub(crate) fn caller_login(shared: &Shared, caller: &Caller) -> String {
    match &caller.owner {
        TokenOwner::Installation(_) => format!("{}[bot]", shared.app_slug),
        TokenOwner::User(name) => name.clone(),
    }
}

/// A user as the platform sends it: 24-hex id, `type` `Bot` for `…[bot]` logins.
pub(crate) fn user_json(login: &str) -> Value {
    let kind = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    json!({ "id": hex_id(login, 24), "login": login, "name": login, "type": kind })
}

fn issue_json(shared: &Shared, owner: &str, repo: &str, number: u64, issue: &Issue) -> Value {
    json!({
        "id": issue.id,
        // The platform sends `number` as a string on some pages.
        "number": number.to_string(),
        "title": issue.title,
        "body": issue.body,
        "state": issue.state,
        "locked": 0,
        "user": user_json(&issue.user),
        "assignees": issue.assignees.iter().map(|a| user_json(a)).collect::<Vec<_>>(),
        "labels": issue.labels,
        "html_url": format!("{}{owner}/{repo}/issues/{number}", shared.web_url()),
        "created_at": issue.created_at,
        "updated_at": plain_now(),
    })
}

fn one(shared: &Shared, owner: &str, repo: &str, number: u64) -> Result<Json<Value>, ApiError> {
    let mut state = shared.lock();
    let issue = state
        .issue_mut(owner, repo, number)
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(issue_json(shared, owner, repo, number, issue)))
}

/// `GET /repos/{o}/{r}/issues/{number}`.
pub(crate) async fn get_issue(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, number)): IssuePath,
) -> Result<Json<Value>, ApiError> {
    one(&shared, &owner, &repo, number)
}

/// Filters of `GET /repos/{o}/{r}/issues`.
#[derive(Debug, Deserialize)]
pub(crate) struct IssueFilters {
    state: Option<String>,
    creator: Option<String>,
    assignee: Option<String>,
    labels: Option<String>,
    page: Option<usize>,
    per_page: Option<usize>,
}

/// `GET /repos/{o}/{r}/issues?state=&creator=&assignee=&labels=`, paged.
pub(crate) async fn list_issues(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<IssueFilters>,
) -> Result<Response, ApiError> {
    let items = {
        let state = shared.lock();
        state.repo(&owner, &repo).ok_or_else(ApiError::not_found)?;
        let wanted_state = q.state.as_deref().unwrap_or("open");
        let labels: Vec<&str> = q
            .labels
            .as_deref()
            .map(|l| l.split(',').collect())
            .unwrap_or_default();
        state
            .issues
            .iter()
            .filter(|((k, _), _)| k.0 == owner && k.1 == repo)
            .filter(|(_, i)| wanted_state == "all" || i.state == wanted_state)
            .filter(|(_, i)| q.creator.as_ref().is_none_or(|c| &i.user == c))
            .filter(|(_, i)| q.assignee.as_ref().is_none_or(|a| i.assignees.contains(a)))
            .filter(|(_, i)| {
                labels
                    .iter()
                    .all(|l| i.labels.iter().any(|x| x["name"] == *l))
            })
            .map(|((_, n), i)| issue_json(&shared, &owner, &repo, *n, i))
            .collect()
    };
    Ok(paginate(
        items,
        PageQuery {
            page: q.page,
            per_page: q.per_page,
        },
        &uri,
        shared.web_url(),
    ))
}

/// Body of a new issue.
#[derive(Debug, Deserialize)]
struct NewIssue {
    title: String,
    body: Option<String>,
    #[serde(default)]
    assignees: Vec<String>,
    #[serde(default)]
    labels: Vec<String>,
}

/// `POST /repos/{o}/{r}/issues` → 201 with the issue.
pub(crate) async fn create_issue(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new: NewIssue = parse_body(&body)?;
    if new.title.trim().is_empty() {
        return Err(ApiError::unprocessable("title must not be blank"));
    }
    let login = caller_login(&shared, &caller);
    let number = {
        let mut state = shared.lock();
        state.repo(&owner, &repo).ok_or_else(ApiError::not_found)?;
        let number = state.next_number(&owner, &repo);
        state.add_issue(&owner, &repo, number);
        let ids: Vec<u64> = new.labels.iter().map(|_| state.next_id()).collect();
        let issue = state
            .issue_mut(&owner, &repo, number)
            .ok_or_else(ApiError::not_found)?;
        issue.title = new.title;
        issue.body = new.body;
        issue.user = login;
        issue.assignees = new.assignees;
        issue.labels = new
            .labels
            .iter()
            .zip(ids)
            .map(|(n, id)| label(n, id))
            .collect();
        number
    };
    let Json(issue) = one(&shared, &owner, &repo, number)?;
    Ok((StatusCode::CREATED, Json(issue)).into_response())
}

/// Changes to an issue.
#[derive(Debug, Deserialize)]
struct IssueChanges {
    repo: Option<String>,
    title: Option<String>,
    body: Option<String>,
    state: Option<String>,
}

fn update(
    shared: &Shared,
    owner: &str,
    repo: &str,
    number: u64,
    body: &[u8],
) -> Result<Json<Value>, ApiError> {
    let changes: IssueChanges = parse_body(body)?;
    {
        let mut state = shared.lock();
        let issue = state
            .issue_mut(owner, repo, number)
            .ok_or_else(ApiError::not_found)?;
        if let Some(s) = changes.state {
            if s != "open" && s != "closed" {
                return Err(ApiError::unprocessable("state must be open or closed"));
            }
            issue.state = s;
        }
        if let Some(t) = changes.title {
            issue.title = t;
        }
        if let Some(b) = changes.body {
            issue.body = Some(b);
        }
    }
    one(shared, owner, repo, number)
}

/// `PATCH /repos/{o}/{r}/issues/{number}` (the unprefixed family).
pub(crate) async fn update_issue(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, number)): IssuePath,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    update(&shared, &owner, &repo, number, &body)
}

/// `PATCH /api/v5/repos/{owner}/issues/{number}` with the repository in the body's `repo`.
pub(crate) async fn update_issue_v5(
    State(shared): State<Arc<Shared>>,
    Path((owner, number)): Path<(String, u64)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let changes: IssueChanges = parse_body(&body)?;
    let repo = changes
        .repo
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "repo must not be blank"))?;
    update(&shared, &owner, &repo, number, &body)
}

/// Body of the assignee routes.
#[derive(Debug, Deserialize)]
struct Assignees {
    assignees: Vec<String>,
}

/// `POST` (add) and `DELETE` (remove) `/repos/{o}/{r}/issues/{number}/assignees`.
pub(crate) async fn assignees(
    State(shared): State<Arc<Shared>>,
    method: http::Method,
    Path((owner, repo, number)): IssuePath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Assignees { assignees } = parse_body(&body)?;
    {
        let mut state = shared.lock();
        let issue = state
            .issue_mut(&owner, &repo, number)
            .ok_or_else(ApiError::not_found)?;
        if method == http::Method::DELETE {
            issue.assignees.retain(|a| !assignees.contains(a));
        } else {
            for a in assignees {
                if !issue.assignees.contains(&a) {
                    issue.assignees.push(a);
                }
            }
        }
    }
    let status = if method == http::Method::DELETE {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, one(&shared, &owner, &repo, number)?).into_response())
}

fn label(name: &str, id: u64) -> Value {
    json!({ "id": id, "name": name, "color": format!("#{}", hex_id(name, 6)) })
}

/// `POST` (add) and `PUT` (replace) `/repos/{o}/{r}/issues/{number}/labels` with a JSON
/// array of names → all labels.
pub(crate) async fn labels(
    State(shared): State<Arc<Shared>>,
    method: http::Method,
    Path((owner, repo, number)): IssuePath,
    body: Bytes,
) -> Result<Json<Vec<Value>>, ApiError> {
    let names: Vec<String> = parse_body(&body)?;
    let mut state = shared.lock();
    let ids: Vec<u64> = names.iter().map(|_| state.next_id()).collect();
    let issue = state
        .issue_mut(&owner, &repo, number)
        .ok_or_else(ApiError::not_found)?;
    if method == http::Method::PUT {
        issue.labels.clear();
    }
    for (name, id) in names.into_iter().zip(ids) {
        if !issue.labels.iter().any(|l| l["name"] == name.as_str()) {
            issue.labels.push(label(&name, id));
        }
    }
    Ok(Json(issue.labels.clone()))
}

/// `DELETE /repos/{o}/{r}/issues/{number}/labels/{name}` → 204, or 404 without that label.
pub(crate) async fn remove_label(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, number, name)): Path<(String, String, u64, String)>,
) -> Result<StatusCode, ApiError> {
    let mut state = shared.lock();
    let issue = state
        .issue_mut(&owner, &repo, number)
        .ok_or_else(ApiError::not_found)?;
    let before = issue.labels.len();
    issue.labels.retain(|l| l["name"] != name.as_str());
    if issue.labels.len() == before {
        return Err(ApiError::not_found());
    }
    Ok(StatusCode::NO_CONTENT)
}
