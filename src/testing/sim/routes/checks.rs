//! Commit statuses and check runs.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{SecondsFormat, Utc};
use http::StatusCode;
use serde_json::{Map, Value, json};

use super::{ApiError, parse_body};
use crate::testing::sim::server::Shared;

const STATUS_STATES: [&str; 4] = ["error", "failure", "pending", "success"];
const CHECK_STATUSES: [&str; 3] = ["queued", "in_progress", "completed"];

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `POST /repos/{o}/{r}/statuses/{sha}` → 201 with the status.
pub(crate) async fn create_status(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: Map<String, Value> = parse_body(&body)?;
    let state_field = input
        .get("state")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !STATUS_STATES.contains(&state_field) {
        return Err(ApiError::unprocessable(
            "state must be one of error, failure, pending, success",
        ));
    }
    let mut state = shared.lock();
    if state.repo(&owner, &repo).is_none() {
        return Err(ApiError::not_found());
    }
    let status = json!({
        "id": state.next_id(),
        "state": state_field,
        "target_url": input.get("target_url").cloned().unwrap_or(Value::Null),
        "description": input.get("description").cloned().unwrap_or(Value::Null),
        "context": input.get("context").and_then(Value::as_str).unwrap_or("default"),
        "created_at": now(),
        "required": false,
    });
    state.statuses.push(((owner, repo), sha, status.clone()));
    Ok((StatusCode::CREATED, Json(status)).into_response())
}

/// `POST /repos/{o}/{r}/check-runs` → 201 with the check run.
pub(crate) async fn create_check_run(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut run: Map<String, Value> = parse_body(&body)?;
    for field in ["name", "head_sha"] {
        if !run.get(field).is_some_and(Value::is_string) {
            return Err(ApiError::unprocessable(format!("{field} is required")));
        }
    }
    run.entry("status").or_insert_with(|| json!("queued"));
    run.entry("started_at").or_insert_with(|| json!(now()));
    normalize(&mut run)?;
    let mut state = shared.lock();
    if state.repo(&owner, &repo).is_none() {
        return Err(ApiError::not_found());
    }
    let id = state.next_id();
    run.insert("id".to_owned(), json!(id));
    let run = Value::Object(run);
    state.check_runs.insert(id, ((owner, repo), run.clone()));
    Ok((StatusCode::CREATED, Json(run)).into_response())
}

/// `PATCH /repos/{o}/{r}/check-runs/{id}` → 200 with the updated check run.
pub(crate) async fn update_check_run(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let changes: Map<String, Value> = parse_body(&body)?;
    let mut state = shared.lock();
    let Some((key, Value::Object(run))) = state.check_runs.get_mut(&id) else {
        return Err(ApiError::not_found());
    };
    if key.0 != owner || key.1 != repo {
        return Err(ApiError::not_found());
    }
    let mut updated = run.clone();
    updated.extend(changes.into_iter().filter(|(k, _)| k != "id"));
    normalize(&mut updated)?;
    *run = updated.clone();
    Ok(Json(Value::Object(updated)))
}

/// Checks `status`; a `conclusion` completes the run (as the platform documents).
fn normalize(run: &mut Map<String, Value>) -> Result<(), ApiError> {
    if run.get("conclusion").is_some_and(|c| !c.is_null()) {
        run.insert("status".to_owned(), json!("completed"));
        run.entry("completed_at").or_insert_with(|| json!(now()));
    }
    let status = run
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !CHECK_STATUSES.contains(&status) {
        return Err(ApiError::unprocessable(
            "status must be one of queued, in_progress, completed",
        ));
    }
    Ok(())
}
