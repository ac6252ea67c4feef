//! Issue comments: list, create, read, edit, delete.

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::issues::{caller_login, user_json};
use super::{ApiError, PageQuery, paginate, parse_body};
use crate::testing::sim::auth::Caller;
use crate::testing::sim::server::Shared;
use crate::testing::sim::state::plain_now;

/// Path of issue routes: owner, repo, issue number.
type IssuePath = Path<(String, String, u64)>;

/// `GET /repos/{o}/{r}/issues/{number}/comments`, paged.
pub(crate) async fn list_comments(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, number)): IssuePath,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let comments = {
        let mut state = shared.lock();
        state
            .issue_mut(&owner, &repo, number)
            .ok_or_else(ApiError::not_found)?
            .comments
            .clone()
    };
    Ok(paginate(comments, query, &uri, shared.web_url()))
}

/// Body of a new or edited comment.
#[derive(Debug, Deserialize)]
pub(crate) struct CommentBody {
    pub(crate) body: String,
}

/// A comment by `login`, with a fresh id.
pub(crate) fn new_comment(
    shared: &Shared,
    id: u64,
    login: &str,
    body: String,
    url: String,
) -> Value {
    let now = plain_now();
    json!({
        "id": id.to_string(),
        "body": body,
        "user": user_json(login),
        "created_at": now,
        "updated_at": now,
        "html_url": format!("{}{url}#note_{id}", shared.web_url()),
    })
}

/// `POST /repos/{o}/{r}/issues/{number}/comments` → 201 with the comment.
pub(crate) async fn create_comment(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo, number)): IssuePath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let CommentBody { body } = parse_body(&body)?;
    let login = caller_login(&shared, &caller);
    let mut state = shared.lock();
    let id = state.next_id();
    let issue = state
        .issue_mut(&owner, &repo, number)
        .ok_or_else(ApiError::not_found)?;
    let comment = new_comment(
        &shared,
        id,
        &login,
        body,
        format!("{owner}/{repo}/issues/{number}"),
    );
    issue.comments.push(comment.clone());
    Ok((StatusCode::CREATED, Json(comment)).into_response())
}

/// `GET`, `PATCH` (edit) and `DELETE` `/repos/{o}/{r}/issues/comments/{id}`.
pub(crate) async fn one_comment(
    State(shared): State<Arc<Shared>>,
    method: http::Method,
    Path((owner, repo, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let edit: Option<CommentBody> = if method == http::Method::PATCH {
        Some(parse_body(&body)?)
    } else {
        None
    };
    let mut state = shared.lock();
    let comments = state
        .issues
        .iter_mut()
        .filter(|((k, _), _)| k.0 == owner && k.1 == repo)
        .map(|(_, issue)| &mut issue.comments);
    for list in comments {
        let Some(pos) = list.iter().position(|c| c["id"] == id.as_str()) else {
            continue;
        };
        if method == http::Method::DELETE {
            list.remove(pos);
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        if let (Some(edit), Value::Object(c)) = (edit, &mut list[pos]) {
            c.insert("body".into(), edit.body.into());
            c.insert("updated_at".into(), plain_now().into());
        }
        return Ok(Json(list[pos].clone()).into_response());
    }
    Err(ApiError::not_found())
}
