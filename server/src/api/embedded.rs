//! The embedded API's core, for front ends holding a workspace-scoped token:
//! `GET /api/v1/embedded/templates/sources` (the organization's templates; none has tags here,
//! so a tag filter matches nothing) and `POST /api/v1/embedded/sources` `{source_template_id,
//! name?, source_config}` → 201 `{id, name, source_template_id, workspace_name, ...}`: the
//! config's credential fields become the connector's sealed credentials, the rest joins the
//! template's defaults as replication settings. Tags, stream customization and discovery are
//! not implemented.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use secrecy::{ExposeSecret, SecretBox};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::extract::{Authed, JsonBody};
use super::{AppState, rfc3339};
use crate::error::{ApiError, Error};
use crate::registry;
use crate::storage::{Inserted, NewConnector};

/// The caller's workspace, from a scoped token (403 for application tokens).
fn scope(auth: &Authed) -> Result<&str, ApiError> {
    auth.workspace_id
        .as_deref()
        .ok_or_else(|| ApiError::forbidden("this operation needs a workspace-scoped token"))
}

#[derive(Deserialize)]
pub(crate) struct TemplateQuery {
    tags: Option<String>,
}

pub(crate) async fn list_templates(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    query: Result<Query<TemplateQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    scope(&auth)?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let all = if q.tags.is_some() {
        Vec::new()
    } else {
        st.store.list_templates(&auth.organization_id).await?
    };
    let data: Vec<Value> = all
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "name": t.name, "actor_definition_id": t.actor_definition_id,
                "partial_default_config": serde_json::from_str::<Value>(&t.partial_default_config)
                    .unwrap_or(Value::Object(Map::new())),
                "tags": [], "created_at": rfc3339(t.created_at),
            })
        })
        .collect();
    Ok(Json(json!({"data": data})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceRequest {
    source_template_id: String,
    name: Option<String>,
    source_config: Map<String, Value>,
    selected_connection_template_tags: Option<Vec<String>>,
    #[allow(dead_code)]
    selected_connection_template_tags_mode: Option<String>,
}

pub(crate) async fn create_source(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    JsonBody(req): JsonBody<SourceRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let ws_id = scope(&auth)?;
    if req
        .selected_connection_template_tags
        .as_ref()
        .is_some_and(|t| !t.is_empty())
    {
        return Err(ApiError::unprocessable(
            "connection template tags are not supported by this server",
        ));
    }
    let t = st
        .store
        .template(&auth.organization_id, &req.source_template_id)
        .await?
        .ok_or_else(|| {
            ApiError::unprocessable(format!(
                "unknown source template {}",
                req.source_template_id
            ))
        })?;
    let d = registry::by_definition_id(&t.actor_definition_id).ok_or_else(|| {
        ApiError::unprocessable("the template's connector is not compiled into this server")
    })?;
    let w = st
        .store
        .workspace_by_id(&auth.organization_id, ws_id)
        .await?
        .ok_or_else(|| ApiError::not_found("workspace not found"))?;
    // Credential fields of any auth option are credentials; the rest are settings.
    let is_credential = |k: &str| {
        d.auth_schemes
            .iter()
            .any(|s| s.fields.iter().any(|f| f.name == k))
    };
    let (mut creds, mut settings) = (Map::new(), Map::new());
    for (k, v) in req.source_config {
        if is_credential(&k) {
            creds.insert(k, v);
        } else {
            settings.insert(k, v);
        }
    }
    if let Ok(Value::Object(defaults)) = serde_json::from_str(&t.partial_default_config) {
        for (k, v) in defaults {
            settings.entry(k).or_insert(v);
        }
    }
    let checked = registry::check_credentials(d, &creds)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let name = req
        .name
        .unwrap_or_else(|| format!("{} - {}", t.name, w.name));
    let plain = SecretBox::new(Box::new(
        serde_json::to_vec(&Value::Object(checked.values))
            .map_err(|e| Error::Corrupt(e.to_string()))?,
    ));
    let inserted = st
        .store
        .insert_connector(
            &st.key,
            NewConnector {
                workspace: &w,
                definition_id: d.definition_id,
                name: &name,
                auth_scheme: checked.scheme,
                replication_config: (!settings.is_empty())
                    .then(|| Value::Object(settings).to_string()),
                source_template: Some(&t),
                idempotency: None,
            },
            plain.expose_secret(),
        )
        .await?;
    let (Inserted::New(rec) | Inserted::Existing(rec)) = inserted else {
        return Err(ApiError::conflict("source already created"));
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": rec.id, "name": rec.name, "source_template_id": t.id,
            "definition_id": rec.definition_id, "workspace_id": w.id, "workspace_name": w.name,
            "selected_connection_template_tags": [], "created_at": rfc3339(rec.created_at),
        })),
    ))
}
