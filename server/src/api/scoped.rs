//! `POST /api/v1/embedded/scoped-token`: an application token buys a token limited to one
//! workspace (20 minutes by default), for a front end. Every handler answers a scoped token's
//! requests outside its workspace as if the object did not exist ([`super::Authed::sees`]), and
//! organization-wide operations refuse it ([`super::Authed::require_application`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::extract::{Authed, JsonBody};
use crate::crypto;
use crate::error::ApiError;
use crate::storage::{TokenGrant, now};

/// The data-plane regions Airbyte names: id → short name.
pub(crate) const REGIONS: &[(&str, &str)] = &[
    ("645a183f-b12b-4c6e-8ad3-99e165603450", "US"),
    ("b9e48d61-f082-4a14-a8d0-799a907938cb", "EU"),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopedRequest {
    workspace_name: String,
    region_id: Option<String>,
}

pub(crate) async fn scoped_token(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    JsonBody(req): JsonBody<ScopedRequest>,
) -> Result<Json<Value>, ApiError> {
    auth.require_application()?;
    let region_id = req.region_id.unwrap_or_else(|| REGIONS[0].0.to_string());
    let Some((_, region)) = REGIONS
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(&region_id))
    else {
        return Err(ApiError::unprocessable(format!(
            "body.region_id: unknown region {region_id}"
        )));
    };
    let w = st
        .store
        .workspace_by_name(&auth.organization_id, &req.workspace_name)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("Workspace '{}' not found", req.workspace_name))
        })?;
    let ttl = i64::try_from(st.config.scoped_token_ttl.as_secs()).unwrap_or(i64::MAX);
    let token = format!("abst_{}", crypto::random_hex(32));
    st.store
        .insert_token(
            &token,
            &TokenGrant {
                organization_id: auth.organization_id.clone(),
                client_id: auth.client_id.clone(),
                expires_at: now().saturating_add(ttl),
                workspace_id: Some(w.id.clone()),
                region_id: Some(region_id.to_ascii_lowercase()),
            },
        )
        .await?;
    Ok(Json(json!({
        "token": token,
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "workspace_id": w.id,
        "workspace_name": w.name,
        "region_id": region_id.to_ascii_lowercase(),
        "region": region,
    })))
}
