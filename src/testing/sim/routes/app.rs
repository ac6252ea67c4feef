//! `/app/installations` and minting `ats_` tokens (app JWT required).

use std::sync::Arc;

use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use http::StatusCode;
use serde_json::{Value, json};

use super::{ApiError, PageQuery, paginate};
use crate::testing::sim::auth::mint_installation_token;
use crate::testing::sim::seed::{SimInstallation, hex_id};
use crate::testing::sim::server::Shared;

/// `GET /app/installations`: all installations; paged only when `per_page` is given.
pub(crate) async fn list_installations(
    State(shared): State<Arc<Shared>>,
    OriginalUri(uri): OriginalUri,
    Query(query): Query<PageQuery>,
) -> Response {
    let items: Vec<Value> = shared
        .lock()
        .installations
        .values()
        .map(|i| installation_json(&shared, i))
        .collect();
    if query.per_page.is_none() {
        return Json(items).into_response();
    }
    paginate(items, query, &uri, shared.web_url())
}

/// `POST /app/installations/{id}/access_tokens`: 201 with a fresh `ats_` token.
pub(crate) async fn create_access_token(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<u64>,
) -> Result<Response, ApiError> {
    let mut state = shared.lock();
    let permissions = state
        .installations
        .get(&id)
        .ok_or_else(ApiError::not_found)?
        .permissions
        .clone();
    let (token, expires_at) = mint_installation_token(&mut state, id);
    let body = json!({
        "expires_at": beijing_millis(expires_at),
        "permissions": permissions,
        "repository_selection": "ALL",
        "token": token,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// One installation, shaped like the platform's sample.
fn installation_json(shared: &Shared, inst: &SimInstallation) -> Value {
    let target_id = hex_id(&inst.account_path, 24);
    json!({
        "access_tokens_url": format!("{}app/installations/{}/access_tokens", shared.api_url(), inst.id),
        "account": {
            "id": inst.account_id,
            "org_name": inst.account_path,
            "organization_id": target_id,
            "path": inst.account_path,
        },
        "app_id": shared.app_id,
        "app_slug": shared.app_slug,
        "created_at": "2023-04-26T14:18:39+08:00",
        "events": inst.events,
        "id": inst.id,
        "permissions": inst.permissions,
        "repository_selection": "ALL",
        "target_id": target_id,
        "updated_at": "2023-04-26T16:12:05+08:00",
    })
}

/// RFC 3339 in +08:00 with milliseconds, as the platform writes `expires_at`.
fn beijing_millis(at: DateTime<Utc>) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    at.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_at_format() {
        let at = DateTime::parse_from_rfc3339("2023-05-06T20:02:40.758Z")
            .unwrap()
            .to_utc();
        assert_eq!(beijing_millis(at), "2023-05-07T04:02:40.758+08:00");
    }
}
