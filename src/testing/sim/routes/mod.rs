//! The simulated OpenAPI: one file per resource, errors as JSON `{"message": …}`, paging.

mod app;
mod checks;
mod comments;
mod issues;
mod oauth;
mod pulls;
mod repo_files;
mod repos;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use http::{HeaderValue, StatusCode, Uri};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::auth::{require_app_jwt, require_token};
use super::server::Shared;

/// Default and largest `per_page`.
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;

/// All API routes, without prefix: `/app/*` behind the app JWT, the rest behind a token.
pub(crate) fn api(shared: Arc<Shared>) -> Router {
    let app_routes = Router::new()
        .route("/app/installations", get(app::list_installations))
        .route(
            "/app/installations/{id}/access_tokens",
            post(app::create_access_token),
        )
        .route_layer(from_fn_with_state(Arc::clone(&shared), require_app_jwt));
    let repo = "/repos/{owner}/{repo}";
    let token_routes = Router::new()
        .route("/orgs/{org}/repos", get(repos::org_repos))
        .route("/user/{username}/repos", get(repos::user_repos))
        .route("/users/{username}/repos", get(repos::user_repos))
        .route(repo, get(repos::get_repo))
        .route(&format!("{repo}/contents"), get(repos::contents))
        .route(
            &format!("{repo}/contents/{{*path}}"),
            get(repos::contents_at)
                .post(repo_files::write)
                .put(repo_files::write),
        )
        .route(&format!("{repo}/branches"), get(repo_files::branches))
        .route(
            &format!("{repo}/branches/{{branch}}"),
            get(repo_files::branch),
        )
        .route(&format!("{repo}/tags"), get(repo_files::tags))
        .route(&format!("{repo}/raw/{{*path}}"), get(repo_files::raw))
        .route(&format!("{repo}/file_list"), get(repo_files::file_list))
        .route(
            &format!("{repo}/collaborators/{{username}}/permission"),
            get(repo_files::permission),
        )
        .route("/orgs/{org}/members/{username}", get(repo_files::member))
        .route(
            "/orgs/{org}/memberships/{username}",
            get(repo_files::membership),
        )
        .route(
            &format!("{repo}/releases"),
            get(repo_files::releases).post(repo_files::releases),
        )
        .route(
            &format!("{repo}/releases/tags/{{tag}}"),
            get(repo_files::release_by_tag),
        )
        .route(
            &format!("{repo}/issues"),
            get(issues::list_issues).post(issues::create_issue),
        )
        .route(
            &format!("{repo}/issues/{{number}}"),
            get(issues::get_issue).patch(issues::update_issue),
        )
        .route(
            "/repos/{owner}/issues/{number}",
            patch(issues::update_issue_v5),
        )
        .route(
            &format!("{repo}/issues/{{number}}/assignees"),
            post(issues::assignees).delete(issues::assignees),
        )
        .route(
            &format!("{repo}/issues/{{number}}/comments"),
            get(comments::list_comments).post(comments::create_comment),
        )
        .route(
            &format!("{repo}/issues/comments/{{id}}"),
            get(comments::one_comment)
                .patch(comments::one_comment)
                .delete(comments::one_comment),
        )
        .route(
            &format!("{repo}/issues/{{number}}/labels"),
            post(issues::labels).put(issues::labels),
        )
        .route(
            &format!("{repo}/issues/{{number}}/labels/{{name}}"),
            axum::routing::delete(issues::remove_label),
        )
        .route(
            &format!("{repo}/pulls"),
            get(pulls::list_pulls).post(pulls::create_pull),
        )
        .route(
            &format!("{repo}/pulls/{{number}}"),
            get(pulls::get_pull).patch(pulls::update_pull),
        )
        .route(&format!("{repo}/pulls/{{number}}/files"), get(pulls::files))
        .route(
            &format!("{repo}/pulls/{{number}}/commits"),
            get(pulls::commits),
        )
        .route(&format!("{repo}/pulls/{{number}}/merge"), put(pulls::merge))
        .route(
            &format!("{repo}/pulls/{{number}}/reviews"),
            post(pulls::review),
        )
        .route(
            &format!("{repo}/pulls/{{number}}/comments"),
            get(pulls::comments).post(pulls::comments),
        )
        .route(
            &format!("{repo}/statuses/{{sha}}"),
            post(checks::create_status),
        )
        .route(
            &format!("{repo}/check-runs"),
            post(checks::create_check_run),
        )
        .route(
            &format!("{repo}/check-runs/{{id}}"),
            patch(checks::update_check_run),
        )
        .route_layer(from_fn_with_state(Arc::clone(&shared), require_token));
    // OAuth: the token endpoint needs no bearer token; `/user/info` needs a user token.
    let oauth_routes = Router::new()
        .route("/login/oauth/access_token", post(oauth::access_token))
        .merge(
            Router::new()
                .route("/user/info", get(oauth::user_info))
                .route("/user", get(oauth::user_info))
                .route_layer(from_fn_with_state(Arc::clone(&shared), require_token)),
        );
    app_routes
        .merge(token_routes)
        .merge(oauth_routes)
        .with_state(shared)
}

/// Web-host routes (never under the API prefix): the OAuth authorize page.
pub(crate) fn web(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/login/oauth/authorize", get(oauth::authorize))
        .with_state(shared)
}

/// An error answer: a status and a JSON `{"message": …}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub(crate) fn bad_credentials() -> Self {
        Self::unauthorized("Bad credentials")
    }

    pub(crate) fn requires_authentication() -> Self {
        Self::unauthorized("Requires authentication")
    }

    pub(crate) fn missing_jwt() -> Self {
        Self::unauthorized("A JSON web token is required to access this endpoint")
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Not Found")
    }

    pub(crate) fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "message": self.message }))).into_response()
    }
}

/// Decodes a JSON request body, answering 400 when it is not the expected shape.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("Problems parsing JSON: {e}"),
        )
    })
}

/// `page` / `per_page` query parameters (other parameters are kept in `Link`).
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(crate) struct PageQuery {
    pub(crate) page: Option<usize>,
    pub(crate) per_page: Option<usize>,
}

/// Answers 200 with one page of `items`, plus `Link: <…>; rel="next"` when more remain.
///
/// `uri` is the request URI as received (with any prefix, from `OriginalUri`); `root_url`
/// is the server's root URL.
pub(crate) fn paginate(items: Vec<Value>, query: PageQuery, uri: &Uri, root_url: &str) -> Response {
    let per_page = query
        .per_page
        .unwrap_or(DEFAULT_PER_PAGE)
        .clamp(1, MAX_PER_PAGE);
    let page = query.page.unwrap_or(1).max(1);
    let start = (page - 1).saturating_mul(per_page);
    let slice: Vec<Value> = items.iter().skip(start).take(per_page).cloned().collect();
    let mut response = Json(slice).into_response();
    if start.saturating_add(per_page) < items.len() {
        let link = format!(
            "<{}>; rel=\"next\"",
            page_url(uri, root_url, page + 1, per_page)
        );
        if let Ok(value) = HeaderValue::try_from(link) {
            response.headers_mut().insert(http::header::LINK, value);
        }
    }
    response
}

/// The absolute URL of `uri` with `page` and `per_page` replaced.
fn page_url(uri: &Uri, root_url: &str, page: usize, per_page: usize) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    let old = url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes());
    for (key, value) in old.filter(|(k, _)| k != "page" && k != "per_page") {
        query.append_pair(&key, &value);
    }
    query.append_pair("page", &page.to_string());
    query.append_pair("per_page", &per_page.to_string());
    format!(
        "{}{}?{}",
        root_url.trim_end_matches('/'),
        uri.path(),
        query.finish()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_urls_keep_other_parameters() {
        let uri: Uri = "/api/v5/orgs/a/repos?search=x&page=1&per_page=2"
            .parse()
            .unwrap();
        let url = page_url(&uri, "http://h/", 2, 2);
        assert_eq!(
            url,
            "http://h/api/v5/orgs/a/repos?search=x&page=2&per_page=2"
        );
    }

    #[test]
    fn paging_sets_link_only_when_more_remain() {
        let uri: Uri = "/x".parse().unwrap();
        let items: Vec<Value> = (0..3).map(|i| json!(i)).collect();
        let q = |page| PageQuery {
            page: Some(page),
            per_page: Some(2),
        };
        assert!(
            paginate(items.clone(), q(1), &uri, "http://h/")
                .headers()
                .contains_key("link")
        );
        assert!(
            !paginate(items, q(2), &uri, "http://h/")
                .headers()
                .contains_key("link")
        );
    }
}
