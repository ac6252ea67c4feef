//! Credentials: app JWT verification, `ats_` token minting, bearer-token checks.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::routes::ApiError;
use super::server::Shared;
use super::state::{State as SimState, TokenKind, TokenOwner, TokenRecord};

/// Longest accepted `exp - iat`, in seconds.
const MAX_JWT_LIFETIME: i64 = 11 * 60;
/// Largest accepted `iat` ahead of the simulator's clock, in seconds.
const MAX_IAT_SKEW: i64 = 60;

/// The verified caller of a token-protected route, available as an extension.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    #[allow(dead_code)] // read once user tokens exist
    pub(crate) kind: TokenKind,
    pub(crate) owner: TokenOwner,
}

/// The bearer value of `Authorization: Bearer …`, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// Checks an app JWT: RS256 signature, `iss`, `exp`, `iat` and its lifetime.
pub(crate) fn verify_jwt(key: &DecodingKey, app_id: u64, jwt: &str) -> Result<(), ApiError> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Map<String, Value>>(jwt, key, &validation).map_err(|e| {
        ApiError::unauthorized(format!("A JSON web token could not be decoded: {e}"))
    })?;
    let claims = data.claims;
    let now = Utc::now().timestamp();
    let int = |name: &str| {
        claims.get(name).and_then(Value::as_i64).ok_or_else(|| {
            ApiError::unauthorized(format!("'{name}' claim missing or not an integer"))
        })
    };
    let (exp, iat) = (int("exp")?, int("iat")?);
    if exp <= now {
        return Err(ApiError::unauthorized(
            "'exp' claim is in the past: the JWT has expired",
        ));
    }
    if iat > now + MAX_IAT_SKEW {
        return Err(ApiError::unauthorized(
            "'iat' claim is too far in the future",
        ));
    }
    if exp - iat > MAX_JWT_LIFETIME {
        return Err(ApiError::unauthorized(
            "'exp' is too far in the future (more than 10 minutes after 'iat')",
        ));
    }
    match claims.get("iss") {
        Some(Value::String(iss)) if *iss == app_id.to_string() => Ok(()),
        _ => Err(ApiError::unauthorized(format!(
            "'iss' claim must be the app id \"{app_id}\""
        ))),
    }
}

/// Mints an `ats_` token for an installation over HTTP: issues it and counts the mint.
pub(crate) fn mint_installation_token(
    state: &mut SimState,
    installation_id: u64,
) -> (String, DateTime<Utc>) {
    *state.mints.entry(installation_id).or_default() += 1;
    issue_installation_token(state, installation_id)
}

/// Adds a fresh `ats_` token to the token table without counting it as a mint.
pub(crate) fn issue_installation_token(
    state: &mut SimState,
    installation_id: u64,
) -> (String, DateTime<Utc>) {
    let token = format!("ats_{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    let lifetime =
        chrono::Duration::from_std(state.token_lifetime).unwrap_or(chrono::Duration::MAX);
    let expires_at = Utc::now()
        .checked_add_signed(lifetime)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let record = TokenRecord {
        kind: TokenKind::Installation,
        owner: TokenOwner::Installation(installation_id),
        expires_at,
        revoked: false,
    };
    state.tokens.insert(token.clone(), record);
    (token, expires_at)
}

/// Looks a bearer token up: known, not expired, not revoked.
pub(crate) fn verify_token(state: &SimState, token: &str) -> Result<Caller, ApiError> {
    match state.tokens.get(token) {
        Some(r) if !r.revoked && r.expires_at > Utc::now() => Ok(Caller {
            kind: r.kind,
            owner: r.owner.clone(),
        }),
        _ => Err(ApiError::bad_credentials()),
    }
}

/// Middleware for `/app/*`: a valid app JWT or 401.
pub(crate) async fn require_app_jwt(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let jwt = bearer(request.headers()).ok_or_else(ApiError::missing_jwt)?;
    verify_jwt(&shared.key, shared.app_id, jwt)?;
    Ok(next.run(request).await)
}

/// Middleware for every other API route: a live minted token or 401; adds [`Caller`].
pub(crate) async fn require_token(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = bearer(request.headers()).ok_or_else(ApiError::requires_authentication)?;
    let caller = verify_token(&shared.lock(), token)?;
    request.extensions_mut().insert(caller);
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::HeaderValue;

    use super::*;

    #[test]
    fn bearer_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert("authorization", HeaderValue::from_static("Bearer ats_1"));
        assert_eq!(bearer(&h), Some("ats_1"));
        h.insert("authorization", HeaderValue::from_static("token ats_1"));
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn minted_tokens_verify_until_revoked_or_expired() {
        let mut s = SimState::new(Duration::from_secs(60));
        let (token, _) = mint_installation_token(&mut s, 14);
        assert!(token.starts_with("ats_") && token.len() == 36);
        assert_eq!(
            verify_token(&s, &token).unwrap().owner,
            TokenOwner::Installation(14)
        );
        assert!(verify_token(&s, "ats_nope").is_err());
        s.tokens.get_mut(&token).unwrap().revoked = true;
        assert!(verify_token(&s, &token).is_err());
        s.token_lifetime = Duration::ZERO;
        let (short, _) = mint_installation_token(&mut s, 14);
        assert!(verify_token(&s, &short).is_err());
        assert_eq!(s.mints[&14], 2);
    }
}
