//! Repository lists, one repository, and file contents.

use std::sync::Arc;

use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::Response;
use axum::{Extension, Json};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, PageQuery, paginate};
use crate::testing::sim::auth::Caller;
use crate::testing::sim::seed::{AccountKind, hex_id};
use crate::testing::sim::server::Shared;
use crate::testing::sim::state::TokenOwner;

/// `GET /orgs/{org}/repos`: only for a token of the installation on `org`.
pub(crate) async fn org_repos(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(org): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let items = {
        let state = shared.lock();
        let allowed = match &caller.owner {
            TokenOwner::Installation(id) => state
                .installations
                .get(id)
                .is_some_and(|i| i.account_path == org),
            TokenOwner::User(_) => true,
        };
        if !allowed {
            return Err(ApiError::not_found());
        }
        list(&shared, &state.repos, &org, AccountKind::Organization)
    };
    Ok(paginate(items, query, &uri, shared.web_url()))
}

/// `GET /user/{username}/repos` and `GET /users/{username}/repos`.
pub(crate) async fn user_repos(
    State(shared): State<Arc<Shared>>,
    Path(user): Path<String>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<PageQuery>,
) -> Response {
    let items = list(&shared, &shared.lock().repos, &user, AccountKind::User);
    paginate(items, query, &uri, shared.web_url())
}

fn list(
    shared: &Shared,
    repos: &[crate::testing::sim::state::Repo],
    owner: &str,
    kind: AccountKind,
) -> Vec<Value> {
    repos
        .iter()
        .filter(|r| r.owner == owner && r.owner_kind == kind)
        .map(|r| r.to_json(shared.web_url()))
        .collect()
}

/// `GET /repos/{owner}/{repo}`.
pub(crate) async fn get_repo(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let state = shared.lock();
    let repo = state.repo(&owner, &repo).ok_or_else(ApiError::not_found)?;
    Ok(Json(repo.to_json(shared.web_url())))
}

/// Query of `GET /repos/{o}/{r}/contents`.
#[derive(Debug, Deserialize)]
pub(crate) struct ContentsQuery {
    path: Option<String>,
    #[serde(rename = "ref")]
    _git_ref: Option<String>,
}

/// `GET /repos/{owner}/{repo}/contents?path=…&ref=…` (the ref is accepted and ignored).
pub(crate) async fn contents(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo)): Path<(String, String)>,
    Query(query): Query<ContentsQuery>,
) -> Result<Json<Value>, ApiError> {
    file(&shared, owner, repo, query.path.unwrap_or_default())
}

/// `GET /repos/{owner}/{repo}/contents/{path}` (GitHub's form).
pub(crate) async fn contents_at(
    State(shared): State<Arc<Shared>>,
    Path((owner, repo, path)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    file(&shared, owner, repo, path)
}

fn file(
    shared: &Shared,
    owner: String,
    repo: String,
    path: String,
) -> Result<Json<Value>, ApiError> {
    let path = path.trim_start_matches('/').to_owned();
    let state = shared.lock();
    let bytes = state
        .files
        .get(&((owner, repo), path.clone()))
        .ok_or_else(ApiError::not_found)?;
    let name = path.rsplit('/').next().unwrap_or(&path);
    Ok(Json(json!({
        "type": "file",
        "encoding": "base64",
        "content": wrapped_base64(bytes),
        "path": path,
        "name": name,
        "sha": hex_id([path.as_bytes(), bytes].concat(), 40),
        "size": bytes.len(),
    })))
}

/// Base64 with a newline after every 60 characters, as GitHub sends it.
fn wrapped_base64(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_wraps_at_60() {
        let text = wrapped_base64(&[b'a'; 100]);
        assert!(text.lines().all(|l| l.len() <= 60));
        let joined: String = text.lines().collect();
        assert_eq!(STANDARD.decode(joined).unwrap(), vec![b'a'; 100]);
    }
}
