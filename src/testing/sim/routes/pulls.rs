//! Pull requests: list, read, files, commits, create, update, merge, reviews, comments.

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::comments::{CommentBody, new_comment};
use super::issues::{caller_login, user_json};
use super::{ApiError, PageQuery, paginate, parse_body};
use crate::testing::sim::auth::Caller;
use crate::testing::sim::seed::hex_id;
use crate::testing::sim::server::Shared;
use crate::testing::sim::state::{Pull, plain_now};

type PullPath = Path<(String, String, u64)>;

fn pull_json(shared: &Shared, owner: &str, repo: &str, number: u64, p: &Pull) -> Value {
    let side = |branch: &str| {
        let repo_json = shared.lock_repo_json(owner, repo).unwrap_or(Value::Null);
        json!({ "ref": branch, "sha": hex_id(format!("{owner}/{repo}:{branch}"), 40), "repo": repo_json })
    };
    json!({
        "id": p.id,
        "number": number,
        "title": p.title,
        "body": p.body,
        "state": p.state,
        "merged": u8::from(p.merged),
        "draft": u8::from(p.draft),
        "head": side(&p.head),
        "base": side(&p.base),
        "user": user_json(&p.user),
        "html_url": format!("{}{owner}/{repo}/pulls/{number}", shared.web_url()),
        "created_at": p.created_at,
    })
}

fn one(shared: &Shared, owner: &str, repo: &str, number: u64) -> Result<Value, ApiError> {
    let pull = shared
        .lock()
        .pull_mut(owner, repo, number)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    Ok(pull_json(shared, owner, repo, number, &pull))
}

/// Filters of `GET /repos/{o}/{r}/pulls`.
#[derive(Debug, Deserialize)]
pub(crate) struct PullFilters {
    state: Option<String>,
    base: Option<String>,
    page: Option<usize>,
    per_page: Option<usize>,
}

/// `GET /repos/{o}/{r}/pulls?state=&base=`, paged.
pub(crate) async fn list_pulls(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    Query(q): Query<PullFilters>,
) -> Result<Response, ApiError> {
    let pulls: Vec<(u64, Pull)> = {
        let state = shared.lock();
        state.repo(&owner, &repo).ok_or_else(ApiError::not_found)?;
        state
            .pulls
            .iter()
            .filter(|((k, _), _)| k.0 == owner && k.1 == repo)
            .map(|((_, n), p)| (*n, p.clone()))
            .collect()
    };
    let wanted = q.state.as_deref().unwrap_or("open");
    let items = pulls
        .iter()
        .filter(|(_, p)| match wanted {
            "all" => true,
            "merged" => p.merged,
            s => p.state == s,
        })
        .filter(|(_, p)| q.base.as_ref().is_none_or(|b| &p.base == b))
        .map(|(n, p)| pull_json(&shared, &owner, &repo, *n, p))
        .collect();
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

/// `GET /repos/{o}/{r}/pulls/{number}`.
pub(crate) async fn get_pull(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, number)): PullPath,
) -> Result<Json<Value>, ApiError> {
    one(&shared, &owner, &repo, number).map(Json)
}

/// `GET /repos/{o}/{r}/pulls/{number}/files` (a bare array).
pub(crate) async fn files(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, number)): PullPath,
) -> Result<Json<Vec<Value>>, ApiError> {
    let mut state = shared.lock();
    let p = state
        .pull_mut(&owner, &repo, number)
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(p.files.clone()))
}

/// `GET /repos/{o}/{r}/pulls/{number}/commits` (a bare array).
pub(crate) async fn commits(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, number)): PullPath,
) -> Result<Json<Vec<Value>>, ApiError> {
    let mut state = shared.lock();
    let p = state
        .pull_mut(&owner, &repo, number)
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(p.commits.clone()))
}

/// A new pull request or changes to one.
#[derive(Debug, Deserialize)]
struct PullBody {
    title: Option<String>,
    body: Option<String>,
    head: Option<String>,
    base: Option<String>,
    state: Option<String>,
    draft: Option<bool>,
}

/// `POST /repos/{o}/{r}/pulls` → 201.
pub(crate) async fn create_pull(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: PullBody = parse_body(&body)?;
    let (Some(title), Some(head), Some(base)) = (b.title, b.head, b.base) else {
        return Err(ApiError::unprocessable("title, head and base are required"));
    };
    let number = {
        let mut state = shared.lock();
        state.repo(&owner, &repo).ok_or_else(ApiError::not_found)?;
        let number = state.next_number(&owner, &repo);
        state.add_pull(&owner, &repo, number, &head, &base);
        let p = state
            .pull_mut(&owner, &repo, number)
            .ok_or_else(ApiError::not_found)?;
        p.title = title;
        p.body = b.body;
        p.draft = b.draft.unwrap_or(false);
        p.user = caller_login(&shared, &caller);
        number
    };
    Ok((
        StatusCode::CREATED,
        Json(one(&shared, &owner, &repo, number)?),
    )
        .into_response())
}

/// `PATCH /repos/{o}/{r}/pulls/{number}`.
pub(crate) async fn update_pull(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, number)): PullPath,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let b: PullBody = parse_body(&body)?;
    {
        let mut state = shared.lock();
        let p = state
            .pull_mut(&owner, &repo, number)
            .ok_or_else(ApiError::not_found)?;
        if let Some(s) = b.state {
            if s != "open" && s != "closed" {
                return Err(ApiError::unprocessable("state must be open or closed"));
            }
            p.state = s;
        }
        p.title = b.title.unwrap_or_else(|| p.title.clone());
        p.body = b.body.or_else(|| p.body.clone());
        p.base = b.base.unwrap_or_else(|| p.base.clone());
        p.draft = b.draft.unwrap_or(p.draft);
    }
    one(&shared, &owner, &repo, number).map(Json)
}

/// `PUT /repos/{o}/{r}/pulls/{number}/merge`: 200 with the merge commit, 405 when closed.
pub(crate) async fn merge(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, number)): PullPath,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let _: serde_json::Map<String, Value> =
        parse_body(if body.is_empty() { b"{}" } else { &body })?;
    let mut state = shared.lock();
    let p = state
        .pull_mut(&owner, &repo, number)
        .ok_or_else(ApiError::not_found)?;
    if p.state != "open" {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Pull Request is not mergeable",
        ));
    }
    p.state = "closed".to_owned();
    p.merged = true;
    let sha = hex_id(format!("{owner}/{repo}!{number}:merge"), 40);
    Ok(Json(
        json!({ "sha": sha, "merged": 1, "message": "Pull Request successfully merged" }),
    ))
}

/// A review.
#[derive(Debug, Deserialize)]
struct ReviewBody {
    event: String,
    body: Option<String>,
}

/// `POST /repos/{o}/{r}/pulls/{number}/reviews`: `APPROVE` only (as on `/api/v5`).
pub(crate) async fn review(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo, number)): PullPath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let r: ReviewBody = parse_body(&body)?;
    if r.event != "APPROVE" {
        return Err(ApiError::unprocessable(
            "only APPROVE reviews are supported",
        ));
    }
    let login = caller_login(&shared, &caller);
    let mut state = shared.lock();
    let id = state.next_id();
    let p = state
        .pull_mut(&owner, &repo, number)
        .ok_or_else(ApiError::not_found)?;
    let review = json!({ "id": id.to_string(), "state": "APPROVED", "body": r.body,
                         "user": user_json(&login), "submitted_at": plain_now() });
    p.reviews.push(review.clone());
    Ok((StatusCode::CREATED, Json(review)).into_response())
}

/// `GET` (paged) and `POST` `/repos/{o}/{r}/pulls/{number}/comments`.
pub(crate) async fn comments(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    method: http::Method,
    Path((owner, repo, number)): PullPath,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<PageQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if method == http::Method::GET {
        let list = {
            let mut state = shared.lock();
            let p = state
                .pull_mut(&owner, &repo, number)
                .ok_or_else(ApiError::not_found)?;
            p.comments.clone()
        };
        return Ok(paginate(list, query, &uri, shared.web_url()));
    }
    let CommentBody { body } = parse_body(&body)?;
    let login = caller_login(&shared, &caller);
    let mut state = shared.lock();
    let id = state.next_id();
    let p = state
        .pull_mut(&owner, &repo, number)
        .ok_or_else(ApiError::not_found)?;
    let comment = new_comment(
        &shared,
        id,
        &login,
        body,
        format!("{owner}/{repo}/pulls/{number}"),
    );
    p.comments.push(comment.clone());
    Ok((StatusCode::CREATED, Json(comment)).into_response())
}
