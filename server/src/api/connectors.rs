//! Connectors: lookup and listing by workspace (`workspace_name`, or its older names
//! `customer_name` and `external_user_id`) and definition id, creation with credentials checked
//! against the connector's auth options, and deletion. Credentials are never returned.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use secrecy::{ExposeSecret, SecretBox};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::extract::{Authed, JsonBody};
use super::{AppState, rfc3339};
use crate::crypto;
use crate::error::{ApiError, Error};
use crate::registry;
use crate::storage::{ConnectorRecord, Inserted, NewConnector, Workspace};

/// Longest connector name.
const MAX_NAME: usize = 200;

fn connector_json(c: &ConnectorRecord) -> Value {
    let title = c
        .source_template_name
        .clone()
        .or_else(|| registry::by_definition_id(&c.definition_id).map(|d| d.title.to_string()));
    json!({
        "id": c.id,
        "name": c.name,
        "definition_id": c.definition_id,
        "workspace_id": c.workspace_id,
        "workspace_name": c.workspace_name,
        "summarized_source_template": {"name": title},
        "source_template_id": c.source_template_id,
        "created_at": rfc3339(c.created_at),
        "updated_at": rfc3339(c.updated_at),
    })
}

fn workspace_missing(name: &str) -> ApiError {
    ApiError::not_found(format!("Workspace '{name}' not found"))
}

/// The workspace of the caller's organization (and scope), or 404.
pub(crate) async fn workspace(
    st: &AppState,
    auth: &Authed,
    name: &str,
) -> Result<Workspace, ApiError> {
    st.store
        .workspace_by_name(&auth.organization_id, name)
        .await?
        .filter(|w| auth.sees(&w.id))
        .ok_or_else(|| workspace_missing(name))
}

/// The connector `id` if the caller may see it (organization and scope), else 404.
pub(crate) async fn visible(
    st: &AppState,
    auth: &Authed,
    id: &str,
) -> Result<ConnectorRecord, ApiError> {
    st.store
        .connector(&auth.organization_id, id)
        .await?
        .filter(|c| auth.sees(&c.workspace_id))
        .ok_or_else(|| ApiError::not_found(format!("Connector {id} not found")))
}

/// The `Idempotency-Key` header, if any.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => match v.to_str() {
            Ok(k) if !k.trim().is_empty() && k.len() <= 255 => Ok(Some(k)),
            _ => Err(ApiError::bad_request(
                "Idempotency-Key must be 1 to 255 characters of text",
            )),
        },
    }
}

#[derive(Deserialize)]
pub(crate) struct ListQuery {
    #[serde(flatten)]
    workspace: super::extract::WorkspaceQuery,
    definition_id: Option<String>,
}

pub(crate) async fn list(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let Some(ws) = q.workspace.name() else {
        return Err(ApiError::unprocessable("workspace_name is required"));
    };
    let w = workspace(&st, &auth, ws).await?;
    let items = st
        .store
        .list_connectors(&w, q.definition_id.as_deref().filter(|d| !d.is_empty()))
        .await?;
    Ok(Json(json!({
        "data": items.iter().map(connector_json).collect::<Vec<_>>(),
        "next": null,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateRequest {
    name: Option<String>,
    definition_id: Option<String>,
    /// The documented alternative to `definition_id`: the connector's display name.
    connector_type: Option<String>,
    workspace_name: Option<String>,
    customer_name: Option<String>,
    external_user_id: Option<String>,
    credentials: Option<Value>,
    replication_config: Option<Value>,
    server_side_oauth_secret_id: Option<String>,
    source_template_id: Option<String>,
}

pub(crate) async fn create(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    headers: HeaderMap,
    JsonBody(body): JsonBody<Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    // Keyed by the master key: the digest covers credentials.
    let idempotency = idempotency_key(&headers)?.map(|k| {
        (
            k,
            crypto::keyed_digest(&st.key, "idempotency", body.to_string().as_bytes()),
        )
    });
    let req: CreateRequest = serde_json::from_value(body)
        .map_err(|e| ApiError::unprocessable(format!("invalid request body: {e}")))?;
    let Some(ws) = req
        .workspace_name
        .or(req.customer_name)
        .or(req.external_user_id)
    else {
        return Err(ApiError::unprocessable("workspace_name is required"));
    };
    let descriptor = match (&req.definition_id, &req.connector_type) {
        (Some(id), _) => registry::by_definition_id(id)
            .ok_or_else(|| ApiError::unprocessable(format!("unknown connector definition {id}")))?,
        (None, Some(t)) => registry::by_type(t)
            .ok_or_else(|| ApiError::unprocessable(format!("unknown connector type {t}")))?,
        (None, None) => return Err(ApiError::unprocessable("definition_id is required")),
    };
    if req.server_side_oauth_secret_id.is_some() {
        return Err(ApiError::unprocessable(
            "server_side_oauth_secret_id is not supported by this server yet; send credentials",
        ));
    }
    let template = match &req.source_template_id {
        None => None,
        Some(t) => Some(
            st.store
                .template(&auth.organization_id, t)
                .await?
                .filter(|t| {
                    t.actor_definition_id
                        .eq_ignore_ascii_case(descriptor.definition_id)
                })
                .ok_or_else(|| {
                    ApiError::unprocessable(format!(
                        "unknown source template {t} for {}",
                        descriptor.name
                    ))
                })?,
        ),
    };
    let credentials = match req.credentials {
        Some(Value::Object(c)) => c,
        Some(_) => return Err(ApiError::unprocessable("credentials must be a JSON object")),
        None => return Err(ApiError::unprocessable("credentials are required")),
    };
    let checked = registry::check_credentials(descriptor, &credentials)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let mut replication = match req.replication_config {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => {
            return Err(ApiError::unprocessable(
                "replication_config must be a JSON object",
            ));
        }
    };
    // A template's defaults fill what the request leaves out.
    if let Some(t) = &template
        && let Ok(Value::Object(defaults)) = serde_json::from_str(&t.partial_default_config)
        && !defaults.is_empty()
    {
        let m = replication.get_or_insert_with(Map::new);
        for (k, v) in defaults {
            m.entry(k).or_insert(v);
        }
    }
    let replication = replication.map(|m| Value::Object(m).to_string());
    let name = req
        .name
        .unwrap_or_else(|| format!("{} - {ws}", descriptor.name));
    if name.trim().is_empty() || name.chars().count() > MAX_NAME {
        return Err(ApiError::unprocessable(format!(
            "name must be 1 to {MAX_NAME} characters"
        )));
    }
    let w = workspace(&st, &auth, &ws).await?;
    // The plaintext lives only in this zeroized buffer until it is sealed.
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
                definition_id: descriptor.definition_id,
                name: &name,
                auth_scheme: checked.scheme,
                replication_config: replication,
                source_template: template.as_ref(),
                idempotency,
            },
            plain.expose_secret(),
        )
        .await?;
    match inserted {
        Inserted::New(rec) => Ok((StatusCode::CREATED, Json(connector_json(&rec)))),
        Inserted::Existing(rec) => Ok((StatusCode::OK, Json(connector_json(&rec)))),
        Inserted::KeyReused => Err(ApiError::unprocessable(
            "Idempotency-Key was already used for a different request",
        )),
    }
}

pub(crate) async fn delete(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let rec = visible(&st, &auth, &id).await?;
    if st
        .store
        .delete_connector(&auth.organization_id, &rec.id)
        .await?
    {
        st.clients.forget(&id);
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(ApiError::not_found("Connector not found"))
    }
}

/// Replication settings as a map (empty when absent).
pub(crate) fn replication_map(rec: &ConnectorRecord) -> Result<Map<String, Value>, Error> {
    match rec.replication_config.as_deref() {
        None => Ok(Map::new()),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(Error::Corrupt(format!(
                "replication_config of connector {}",
                rec.id
            ))),
        },
    }
}
