//! Branches, tags, raw files, file lists, file writes and collaborator permissions.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::issues::user_json;
use super::{ApiError, parse_body};
use crate::testing::sim::seed::hex_id;
use crate::testing::sim::server::Shared;

type RepoPath = Path<(String, String)>;

fn commit(owner: &str, repo: &str, name: &str) -> Value {
    json!({ "sha": hex_id(format!("{owner}/{repo}:{name}"), 40) })
}

/// The repository's branches: `main` and every pull request's head.
fn branch_names(shared: &Shared, owner: &str, repo: &str) -> Result<Vec<String>, ApiError> {
    let state = shared.lock();
    state.repo(owner, repo).ok_or_else(ApiError::not_found)?;
    let mut names = vec!["main".to_owned()];
    for ((k, _), p) in &state.pulls {
        if k.0 == owner && k.1 == repo && !names.contains(&p.head) {
            names.push(p.head.clone());
        }
    }
    Ok(names)
}

fn branch_json(owner: &str, repo: &str, name: &str) -> Value {
    json!({ "name": name, "commit": commit(owner, repo, name), "protected": u8::from(name == "main") })
}

/// `GET /repos/{o}/{r}/branches` (a bare array).
pub(crate) async fn branches(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo)): RepoPath,
) -> Result<Json<Vec<Value>>, ApiError> {
    let names = branch_names(&shared, &owner, &repo)?;
    Ok(Json(
        names
            .iter()
            .map(|n| branch_json(&owner, &repo, n))
            .collect(),
    ))
}

/// `GET /repos/{o}/{r}/branches/{branch}`.
pub(crate) async fn branch(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let names = branch_names(&shared, &owner, &repo)?;
    if !names.contains(&name) {
        return Err(ApiError::not_found());
    }
    Ok(Json(branch_json(&owner, &repo, &name)))
}

/// `GET /repos/{o}/{r}/tags`: one per release.
pub(crate) async fn tags(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo)): RepoPath,
) -> Result<Json<Vec<Value>>, ApiError> {
    let state = shared.lock();
    state.repo(&owner, &repo).ok_or_else(ApiError::not_found)?;
    let tags = state
        .releases
        .iter()
        .filter(|(k, _)| k.0 == owner && k.1 == repo)
        .filter_map(|(_, r)| r["tag_name"].as_str().map(str::to_owned))
        .map(
            |t| json!({ "name": t, "commit": { "id": hex_id(format!("{owner}/{repo}:{t}"), 40) } }),
        )
        .collect();
    Ok(Json(tags))
}

/// `GET /repos/{o}/{r}/raw/{path}?ref=`: the file's bytes.
pub(crate) async fn raw(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, path)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let state = shared.lock();
    let bytes = state
        .files
        .get(&((owner, repo), path.trim_start_matches('/').to_owned()))
        .ok_or_else(ApiError::not_found)?;
    Ok((
        [(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        bytes.clone(),
    )
        .into_response())
}

/// `GET /repos/{o}/{r}/file_list?ref=`: a bare array of paths.
pub(crate) async fn file_list(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo)): RepoPath,
) -> Result<Json<Vec<String>>, ApiError> {
    let state = shared.lock();
    state.repo(&owner, &repo).ok_or_else(ApiError::not_found)?;
    let key = (owner, repo);
    Ok(Json(
        state
            .files
            .keys()
            .filter(|(k, _)| *k == key)
            .map(|(_, p)| p.clone())
            .collect(),
    ))
}

/// Body of a file write.
#[derive(Debug, Deserialize)]
struct Write {
    message: String,
    content: String,
    sha: Option<String>,
}

/// The blob sha the simulator reports for a file.
pub(crate) fn blob_sha(path: &str, bytes: &[u8]) -> String {
    hex_id([path.as_bytes(), bytes].concat(), 40)
}

/// `POST` (create; 422 if it exists) and `PUT` (update; 409 unless `sha` is the current
/// blob) `/repos/{o}/{r}/contents/{path}`.
pub(crate) async fn write(
    State(shared): State<Arc<Shared>>,
    method: http::Method,
    Path((owner, repo, path)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let w: Write = parse_body(&body)?;
    let bytes = STANDARD
        .decode(w.content.replace(['\n', '\r'], ""))
        .map_err(|_| ApiError::unprocessable("content must be base64"))?;
    if w.message.trim().is_empty() {
        return Err(ApiError::unprocessable("message must not be blank"));
    }
    let path = path.trim_start_matches('/').to_owned();
    let mut state = shared.lock();
    state.repo(&owner, &repo).ok_or_else(ApiError::not_found)?;
    let key = ((owner.clone(), repo.clone()), path.clone());
    let current = state.files.get(&key).map(|b| blob_sha(&path, b));
    let status = match (&method, current) {
        (&http::Method::POST, Some(_)) => {
            return Err(ApiError::unprocessable("file already exists"));
        }
        (&http::Method::POST, None) => StatusCode::CREATED,
        (_, None) => return Err(ApiError::not_found()),
        (_, Some(sha)) if w.sha.as_deref() != Some(sha.as_str()) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "sha does not match the file",
            ));
        }
        _ => StatusCode::OK,
    };
    let sha = blob_sha(&path, &bytes);
    state.files.insert(key, Bytes::from(bytes));
    let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
    let answer = json!({
        "content": { "type": "file", "path": path, "name": name, "sha": sha },
        "commit": { "sha": hex_id(format!("{owner}/{repo}:{}:{sha}", w.message), 40) },
    });
    Ok((status, Json(answer)).into_response())
}

/// `GET /repos/{o}/{r}/collaborators/{username}/permission`: the seeded permission, else
/// `admin` for members of the owning organisation, else `none`.
pub(crate) async fn permission(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, user)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let state = shared.lock();
    state.repo(&owner, &repo).ok_or_else(ApiError::not_found)?;
    let permission = state
        .permissions
        .get(&((owner.clone(), repo), user.clone()))
        .cloned()
        .or_else(|| {
            state
                .members
                .get(&owner)
                .and_then(|m| m.get(&user))
                .map(|_| "admin".to_owned())
        })
        .unwrap_or_else(|| "none".to_owned());
    Ok(Json(
        json!({ "permission": permission, "user": user_json(&user) }),
    ))
}

/// Query of `GET /orgs/{org}/members/{user}`: nothing, but keeps the extractor symmetric.
#[derive(Debug, Deserialize)]
pub(crate) struct NoQuery {}

/// `GET /orgs/{org}/members/{username}`: 204 for a member, 404 otherwise.
pub(crate) async fn member(
    State(shared): State<Arc<Shared>>,
    Path((org, user)): Path<(String, String)>,
    Query(_): Query<NoQuery>,
) -> Result<StatusCode, ApiError> {
    let state = shared.lock();
    let is_member = state
        .members
        .get(&org)
        .is_some_and(|m| m.contains_key(&user));
    is_member
        .then_some(StatusCode::NO_CONTENT)
        .ok_or_else(ApiError::not_found)
}

/// `GET /orgs/{org}/memberships/{username}`: the role, 404 for non-members.
pub(crate) async fn membership(
    State(shared): State<Arc<Shared>>,
    Path((org, user)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let state = shared.lock();
    let role = state
        .members
        .get(&org)
        .and_then(|m| m.get(&user))
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(
        json!({ "role": role, "state": "active", "user": user_json(&user) }),
    ))
}

/// Body of a new release.
#[derive(Debug, Deserialize)]
struct NewRelease {
    tag_name: String,
    name: Option<String>,
    body: Option<String>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    prerelease: bool,
}

/// `GET` (all) and `POST` (create; 422 for a tag that has one) `/repos/{o}/{r}/releases`.
pub(crate) async fn releases(
    State(shared): State<Arc<Shared>>,
    method: http::Method,
    Path((owner, repo)): RepoPath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = (owner.clone(), repo.clone());
    if method == http::Method::GET {
        let state = shared.lock();
        state.repo(&owner, &repo).ok_or_else(ApiError::not_found)?;
        let list: Vec<Value> = state
            .releases
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, r)| r.clone())
            .collect();
        return Ok(Json(list).into_response());
    }
    let new: NewRelease = parse_body(&body)?;
    let mut state = shared.lock();
    state.repo(&owner, &repo).ok_or_else(ApiError::not_found)?;
    if state
        .releases
        .iter()
        .any(|(k, r)| *k == key && r["tag_name"] == new.tag_name.as_str())
    {
        return Err(ApiError::unprocessable("a release of this tag exists"));
    }
    let id = state.next_id();
    let release = json!({
        "id": hex_id(format!("release:{id}"), 24),
        "tag_name": new.tag_name,
        "name": new.name,
        "body": new.body,
        "draft": u8::from(new.draft),
        "prerelease": u8::from(new.prerelease),
        "author": user_json(&format!("{}[bot]", shared.app_slug)),
        "created_at": crate::testing::sim::state::plain_now(),
    });
    state.releases.push((key, release.clone()));
    Ok((StatusCode::CREATED, Json(release)).into_response())
}

/// `GET /repos/{o}/{r}/releases/tags/{tag}`.
pub(crate) async fn release_by_tag(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, tag)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let state = shared.lock();
    state
        .releases
        .iter()
        .find(|(k, r)| k.0 == owner && k.1 == repo && r["tag_name"] == tag.as_str())
        .map(|(_, r)| Json(r.clone()))
        .ok_or_else(ApiError::not_found)
}
