//! Workspaces: `GET /api/v1/workspaces` (cursor pagination, `name_contains`) and
//! `POST /api/v1/workspaces` (409 on a duplicate name).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::extract::{Authed, JsonBody};
use crate::error::ApiError;
use crate::storage::Workspace;

/// Workspaces per page unless `limit` says otherwise.
const DEFAULT_PAGE: usize = 20;
/// Largest page.
const MAX_PAGE: usize = 100;
/// Longest workspace name.
pub(crate) const MAX_NAME: usize = 200;

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    name_contains: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// A base64url cursor's text (400 when it is not one this server issued).
pub(crate) fn decode_cursor(c: &str) -> Result<String, ApiError> {
    B64URL
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| ApiError::bad_request("invalid cursor"))
}

/// The base64url cursor of `text`.
pub(crate) fn encode_cursor(text: &str) -> String {
    B64URL.encode(text.as_bytes())
}

pub(crate) fn workspace_json(w: &Workspace) -> Value {
    json!({"id": w.id, "name": w.name, "organization_id": w.organization_id})
}

pub(crate) async fn list(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let after = q.cursor.as_deref().map(decode_cursor).transpose()?;
    if let Some(scope) = &auth.workspace_id {
        // A scoped token sees its own workspace only.
        let own = st
            .store
            .workspace_by_id(&auth.organization_id, scope)
            .await?
            .filter(|w| {
                q.name_contains
                    .as_deref()
                    .is_none_or(|part| w.name.contains(part))
                    && after.as_deref().is_none_or(|a| w.name.as_str() > a)
            });
        return Ok(Json(json!({
            "data": own.iter().map(workspace_json).collect::<Vec<_>>(),
            "has_more": false,
            "next_cursor": null,
        })));
    }
    let page = st
        .store
        .list_workspaces(
            &auth.organization_id,
            q.name_contains.as_deref(),
            after.as_deref(),
            limit,
        )
        .await?;
    let next = match (page.has_more, page.items.last()) {
        (true, Some(last)) => json!(encode_cursor(&last.name)),
        _ => Value::Null,
    };
    Ok(Json(json!({
        "data": page.items.iter().map(workspace_json).collect::<Vec<_>>(),
        "has_more": page.has_more,
        "next_cursor": next,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRequest {
    name: String,
}

/// A workspace name must be non-blank and at most [`MAX_NAME`] characters.
pub(crate) fn check_name(name: &str) -> Result<(), ApiError> {
    if name.trim().is_empty() {
        return Err(ApiError::unprocessable("name must not be empty"));
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(format!(
            "name must be at most {MAX_NAME} printable characters"
        )));
    }
    Ok(())
}

pub(crate) async fn create(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    JsonBody(req): JsonBody<CreateRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require_application()?;
    check_name(&req.name)?;
    match st
        .store
        .create_workspace(&auth.organization_id, &req.name)
        .await?
    {
        Some(w) => Ok((StatusCode::CREATED, Json(workspace_json(&w)))),
        None => Err(ApiError::conflict(format!(
            "Workspace '{}' already exists",
            req.name
        ))),
    }
}
