//! `GET /login`, `GET /oauth/callback`, `POST /logout`, answering with small HTML pages.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, StatusCode, header::SET_COOKIE};

use super::state::{StateRejection, cookie};
use super::{OAuth, OAuthError, SESSION_COOKIE, STATE_COOKIE};

/// The callback's path.
pub(crate) const CALLBACK_PATH: &str = "/oauth/callback";

pub(crate) fn router(oauth: OAuth) -> Router {
    Router::new()
        .route("/login", get(login))
        .route(CALLBACK_PATH, get(callback))
        .route("/logout", post(logout))
        .with_state(oauth)
}

impl IntoResponse for StateRejection {
    fn into_response(self) -> Response {
        page(
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            &format!("{self}. Please <a href=\"/login\">sign in again</a>."),
        )
    }
}

/// An HTML page; `body` is trusted markup, everything user-supplied goes through [`escape`].
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>{body}</p></body></html>",
        t = escape(title)
    );
    (status, Html(html)).into_response()
}

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn set_cookie(response: &mut Response, value: String) {
    match HeaderValue::try_from(value) {
        Ok(v) => {
            response.headers_mut().append(SET_COOKIE, v);
        }
        Err(_) => tracing::error!("could not encode a cookie"),
    }
}

fn cookie_attrs(path: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

fn secure(oauth: &OAuth) -> bool {
    oauth.inner.secure
}

fn unavailable() -> Response {
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in unavailable",
        "Please try again in a moment.",
    )
}

/// `GET /login`: a fresh state in a cookie, then off to the authorize page.
async fn login(State(oauth): State<OAuth>) -> Response {
    let Some(redirect) = oauth.inner.redirect.as_deref() else {
        tracing::error!(
            setting = crate::config::env::PUBLIC_URL,
            "login refused: the bot's public URL is not configured"
        );
        return page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in unavailable",
            "The bot's public URL is not configured (set <code>ATOMBOT_PUBLIC_URL</code>).",
        );
    };
    let state = match oauth.inner.logins.issue().await {
        Ok(Some(state)) => state,
        Ok(None) => {
            tracing::warn!("login refused: too many logins pending");
            return unavailable();
        }
        Err(error) => {
            tracing::error!(%error, "login refused: the login store failed");
            return unavailable();
        }
    };
    let url = oauth.authorize_url(&state, redirect);
    let mut response = Redirect::to(&url).into_response();
    let ttl = oauth.inner.settings.state_ttl.as_secs();
    set_cookie(
        &mut response,
        format!(
            "{STATE_COOKIE}={state}; {}",
            cookie_attrs("/oauth", ttl, secure(&oauth))
        ),
    );
    tracing::debug!("login: sent the browser to the authorize page");
    response
}

/// `GET /oauth/callback`: state first, then the code exchange, then a session.
async fn callback(
    State(oauth): State<OAuth>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let browser_state = cookie(&headers, STATE_COOKIE);
    match oauth
        .inner
        .logins
        .take(query.get("state").map(String::as_str), browser_state)
        .await
    {
        Ok(Ok(())) => {}
        Ok(Err(rejection)) => {
            tracing::warn!(%rejection, "OAuth callback refused before the code exchange");
            return rejection.into_response();
        }
        Err(error) => {
            tracing::error!(%error, "OAuth callback refused: the login store failed");
            return unavailable();
        }
    }
    let clear_state = format!(
        "{STATE_COOKIE}=; {}",
        cookie_attrs("/oauth", 0, secure(&oauth))
    );
    if let Some(error) = query.get("error") {
        tracing::info!(%error, "the user did not authorize the app");
        let mut response = page(
            StatusCode::FORBIDDEN,
            "Sign-in cancelled",
            &format!(
                "The platform answered <code>{}</code>. <a href=\"/login\">Try again</a>.",
                escape(error)
            ),
        );
        set_cookie(&mut response, clear_state);
        return response;
    }
    let Some(code) = query.get("code").filter(|c| !c.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            "The callback carries no code.",
        );
    };
    let token = match oauth.sign_in(code).await {
        Ok(token) => token,
        Err(error) => {
            if let Some(OAuthError::Exchange { status, message }) =
                error.find_source::<OAuthError>()
            {
                tracing::warn!(%status, %message, "the code exchange was refused");
                return page(
                    StatusCode::BAD_REQUEST,
                    "Sign-in failed",
                    "The platform refused the authorization code. \
                     <a href=\"/login\">Sign in again</a>.",
                );
            }
            tracing::error!(%error, "sign-in failed");
            return page(
                StatusCode::BAD_GATEWAY,
                "Sign-in failed",
                "The platform could not be reached. Please try again later.",
            );
        }
    };
    let session = match oauth.inner.logins.start(&token.user).await {
        Ok(session) => session,
        Err(error) => {
            tracing::error!(%error, "could not start a session");
            return unavailable();
        }
    };
    let mut response = Redirect::to(&oauth.inner.settings.after_login).into_response();
    set_cookie(&mut response, clear_state);
    set_cookie(
        &mut response,
        format!(
            "{SESSION_COOKIE}={session}; {}",
            cookie_attrs(
                "/",
                oauth.inner.settings.session_ttl.as_secs(),
                secure(&oauth)
            )
        ),
    );
    response
}

/// `POST /logout`: ends the session (and by default forgets the user's tokens).
async fn logout(State(oauth): State<OAuth>, headers: HeaderMap) -> Response {
    let ended = match cookie(&headers, SESSION_COOKIE) {
        Some(id) if !id.is_empty() => oauth.inner.logins.end(id).await,
        _ => Ok(None),
    };
    if let Err(error) = &ended {
        tracing::error!(%error, "could not end a session");
    }
    if let Ok(Some(user)) = ended {
        if oauth.inner.settings.forget_tokens_on_logout
            && let Err(error) = oauth.sign_out(&user).await
        {
            tracing::error!(%error, "could not delete a signed-out user's tokens");
        }
        tracing::info!(user = %user, "user signed out");
    }
    let mut response = Redirect::to(&oauth.inner.settings.after_logout).into_response();
    set_cookie(
        &mut response,
        format!(
            "{SESSION_COOKIE}=; {}",
            cookie_attrs("/", 0, secure(&oauth))
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
    }
}
