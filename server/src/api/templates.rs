//! Source templates: `GET|POST /api/v1/integrations/templates/sources`. Registration is
//! idempotent: the same name with the same definition, mode and defaults answers 200 with the
//! existing template; the same name with other settings is a 409 ("already exists"). A
//! template's `partial_default_config` fills the replication settings of connectors created
//! from it; credential fields are refused there (templates are not sealed).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::extract::{Authed, JsonBody};
use super::{AppState, rfc3339};
use crate::error::ApiError;
use crate::registry;
use crate::storage::{Registered, SourceTemplate};

/// Longest template name.
const MAX_NAME: usize = 200;

fn template_json(t: &SourceTemplate) -> Value {
    let defaults: Value =
        serde_json::from_str(&t.partial_default_config).unwrap_or(Value::Object(Map::new()));
    json!({
        "id": t.id,
        "name": t.name,
        "organization_id": t.organization_id,
        "actor_definition_id": t.actor_definition_id,
        "mode": t.mode,
        "partial_default_config": defaults,
        "created_at": rfc3339(t.created_at),
    })
}

pub(crate) async fn list(
    State(st): State<Arc<AppState>>,
    auth: Authed,
) -> Result<Json<Value>, ApiError> {
    let all = st.store.list_templates(&auth.organization_id).await?;
    Ok(Json(json!({
        "data": all.iter().map(template_json).collect::<Vec<_>>(),
        "has_more": false,
        "next_cursor": null,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRequest {
    actor_definition_id: String,
    name: String,
    mode: Option<String>,
    partial_default_config: Option<Map<String, Value>>,
    /// Sent empty by the SDK; templates here are not derived from others.
    #[allow(dead_code)]
    original_source_template_id: Option<String>,
}

pub(crate) async fn create(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    JsonBody(req): JsonBody<CreateRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    auth.require_application()?;
    if req.name.trim().is_empty() || req.name.chars().count() > MAX_NAME {
        return Err(ApiError::unprocessable(format!(
            "name must be 1 to {MAX_NAME} characters"
        )));
    }
    let d = registry::by_definition_id(&req.actor_definition_id).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "unknown connector definition {}",
            req.actor_definition_id
        ))
    })?;
    let mode = req.mode.unwrap_or_else(|| "DIRECT".to_string());
    if mode != "DIRECT" {
        return Err(ApiError::unprocessable("mode must be DIRECT"));
    }
    let defaults = req.partial_default_config.unwrap_or_default();
    // Templates are stored unsealed (they are shared defaults): no secrets in them.
    if let Some(k) = defaults.keys().find(|k| {
        d.auth_schemes
            .iter()
            .any(|s| s.fields.iter().any(|f| f.name == k.as_str()))
    }) {
        return Err(ApiError::unprocessable(format!(
            "partial_default_config must not hold the credential field '{k}': templates are not \
             sealed; send credentials when creating the connector"
        )));
    }
    let defaults = Value::Object(defaults).to_string();
    match st
        .store
        .register_template(
            &auth.organization_id,
            d.definition_id,
            &req.name,
            &mode,
            &defaults,
        )
        .await?
    {
        Registered::New(t) => Ok((StatusCode::CREATED, Json(template_json(&t)))),
        Registered::Existing(t) => Ok((StatusCode::OK, Json(template_json(&t)))),
        Registered::Conflict(_) => Err(ApiError::conflict(format!(
            "Source template with name '{}' already exists with other settings",
            req.name
        ))),
    }
}
