//! Issue comments and labels.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::Bytes;
use chrono::{SecondsFormat, Utc};
use http::StatusCode;
use http::Uri;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, PageQuery, paginate, parse_body};
use crate::testing::sim::auth::Caller;
use crate::testing::sim::seed::hex_id;
use crate::testing::sim::server::Shared;
use crate::testing::sim::state::TokenOwner;

/// Path of issue routes: owner, repo, issue number.
type IssuePath = Path<(String, String, u64)>;

/// `GET /repos/{o}/{r}/issues/{number}/comments`, paged.
pub(crate) async fn list_comments(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, number)): IssuePath,
    uri: Uri,
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
    Ok(paginate(comments, query, &uri, &shared.api_url()))
}

/// Body of a new comment.
#[derive(Debug, Deserialize)]
struct NewComment {
    body: String,
}

/// `POST /repos/{o}/{r}/issues/{number}/comments` → 201 with the comment.
pub(crate) async fn create_comment(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((owner, repo, number)): IssuePath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let NewComment { body } = parse_body(&body)?;
    let login = match caller.owner {
        TokenOwner::Installation(_) => format!("{}[bot]", shared.app_slug),
        TokenOwner::User(name) => name,
    };
    let mut state = shared.lock();
    let id = state.next_id();
    let issue = state
        .issue_mut(&owner, &repo, number)
        .ok_or_else(ApiError::not_found)?;
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let comment = json!({
        "id": id.to_string(),
        "body": body,
        "user": { "login": login, "id": hex_id(&login, 24), "type": "Bot" },
        "created_at": now,
        "updated_at": now,
        "html_url": format!("{}{owner}/{repo}/issues/{number}#note_{id}", shared.web_url()),
    });
    issue.comments.push(comment.clone());
    Ok((StatusCode::CREATED, Json(comment)).into_response())
}

/// `POST /repos/{o}/{r}/issues/{number}/labels` with a JSON array of names → all labels.
pub(crate) async fn add_labels(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, number)): IssuePath,
    body: Bytes,
) -> Result<Json<Vec<Value>>, ApiError> {
    let names: Vec<String> = parse_body(&body)?;
    let mut state = shared.lock();
    let ids: Vec<u64> = names.iter().map(|_| state.next_id()).collect();
    let issue = state
        .issue_mut(&owner, &repo, number)
        .ok_or_else(ApiError::not_found)?;
    for (name, id) in names.into_iter().zip(ids) {
        if !issue.labels.iter().any(|l| l["name"] == name.as_str()) {
            let color = format!("#{}", hex_id(&name, 6));
            issue
                .labels
                .push(json!({ "id": id, "name": name, "color": color }));
        }
    }
    Ok(Json(issue.labels.clone()))
}
