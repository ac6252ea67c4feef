//! The authorize page (web host), the token endpoint and `GET /user/info` (API host).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use bytes::Bytes;
use chrono::Utc;
use http::StatusCode;
use serde_json::{Value, json};

use super::ApiError;
use crate::testing::sim::auth::Caller;
use crate::testing::sim::oauth::{
    Code, SIM_CLIENT_ID, SIM_CLIENT_SECRET, after, expiry_value, issue_refresh_token,
    issue_user_token, random_hex,
};
use crate::testing::sim::seed::hex_id;
use crate::testing::sim::server::Shared;
use crate::testing::sim::state::TokenOwner;

fn html_error(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><title>Authorization error</title><h1>{}</h1>",
            message
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        )),
    )
        .into_response()
}

/// `GET /login/oauth/authorize`: approves at once (redirect with `code` and `state`);
/// `deny=1` answers `error=access_denied`; `login=` picks the user.
pub(crate) async fn authorize(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if query.get("client_id").map(String::as_str) != Some(SIM_CLIENT_ID) {
        return html_error("unknown client_id");
    }
    let Some(redirect) = query.get("redirect_uri") else {
        return html_error("redirect_uri is required by the simulator");
    };
    let Ok(mut url) = url::Url::parse(redirect) else {
        return html_error("redirect_uri is not a URL");
    };
    {
        let mut pairs = url.query_pairs_mut();
        if query.get("deny").is_some_and(|d| d == "1") {
            pairs.append_pair("error", "access_denied");
        } else {
            let mut state = shared.lock();
            let user = query
                .get("login")
                .cloned()
                .unwrap_or_else(|| state.oauth.user.clone());
            let code = random_hex("");
            let expires_at = after(state.oauth.code_lifetime);
            state
                .oauth
                .codes
                .insert(code.clone(), Code { user, expires_at });
            pairs.append_pair("code", &code);
        }
        if let Some(s) = query.get("state") {
            pairs.append_pair("state", s);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

fn grant_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description, "message": description});
    (status, Json(body)).into_response()
}

/// `POST /login/oauth/access_token`: a code exchange, or `grant_type=refresh_token`.
pub(crate) async fn access_token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return ApiError::new(StatusCode::BAD_REQUEST, format!("bad JSON: {e}"))
                .into_response();
        }
    };
    let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or("");
    if field("client_id") != SIM_CLIENT_ID || field("client_secret") != SIM_CLIENT_SECRET {
        return grant_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "bad client credentials",
        );
    }
    let mut state = shared.lock();
    let now = Utc::now();
    let (user, refresh) = if field("grant_type") == "refresh_token" {
        let presented = field("refresh_token").to_owned();
        let user = match state.oauth.refresh_tokens.get(&presented) {
            Some(r) if !r.revoked && r.expires_at > now => r.user.clone(),
            Some(r) if r.revoked => {
                return grant_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "refresh token revoked",
                );
            }
            Some(_) => {
                return grant_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "refresh token expired",
                );
            }
            None => {
                return grant_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "unknown refresh token",
                );
            }
        };
        state.oauth.refreshes += 1;
        let refresh = if state.oauth.rotate_refresh {
            if let Some(old) = state.oauth.refresh_tokens.get_mut(&presented) {
                old.revoked = true;
            }
            issue_refresh_token(&mut state, &user)
        } else {
            let expires = state.oauth.refresh_tokens[&presented].expires_at;
            (presented, expires)
        };
        (user, refresh)
    } else {
        let code = field("code");
        let Some(grant) = state.oauth.codes.remove(code) else {
            return grant_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "unknown or used code",
            );
        };
        if grant.expires_at <= now {
            return grant_error(StatusCode::BAD_REQUEST, "invalid_grant", "code expired");
        }
        state.oauth.exchanges += 1;
        let refresh = issue_refresh_token(&mut state, &grant.user);
        (grant.user, refresh)
    };
    let (access, expires_at) = issue_user_token(&mut state, &user);
    let form = state.oauth.expiry_form;
    Json(json!({
        "access_token": access,
        "expires_in": expiry_value(form, expires_at),
        "refresh_token": refresh.0,
        "refresh_token_expires_in": expiry_value(form, refresh.1),
    }))
    .into_response()
}

/// `GET /user/info` (and `GET /user`): the user an `atu_` token belongs to.
pub(crate) async fn user_info(
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    match caller.owner {
        TokenOwner::User(login) => Ok(Json(json!({
            "id": hex_id(&login, 24),
            "login": login,
            "name": login,
            "type": "User",
        }))),
        TokenOwner::Installation(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "This endpoint needs a user token",
        )),
    }
}
