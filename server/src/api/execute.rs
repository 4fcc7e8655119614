//! `POST /api/v1/integrations/connectors/{id}/execute`: the call runs through the direct-mode
//! runtime with the connector's decrypted credentials; the answer is `{"result",
//! "connector_metadata"}` as Airbyte's API gives it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use airbyte_agent_runtime::{Client, Credentials, ExecuteOptions, MAX_INTENT_CHARS};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::AppState;
use super::connectors::replication_map;
use super::extract::{Authed, JsonBody};
use crate::crypto;
use crate::error::{ApiError, Error};
use crate::registry;
use crate::storage::ConnectorRecord;

/// Direct clients are kept at most this many at a time.
const MAX_CACHED_CLIENTS: usize = 1024;

/// Direct clients by connector id, valid for one version (`updated_at`) of the record. The
/// record is read (and its organization checked) on every call, so a connector deleted through
/// another instance is never executed from this cache.
#[derive(Default)]
pub(crate) struct ClientCache {
    clients: Mutex<HashMap<String, (i64, Client)>>,
}

impl std::fmt::Debug for ClientCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCache").finish_non_exhaustive()
    }
}

impl ClientCache {
    fn get(&self, rec: &ConnectorRecord) -> Option<Client> {
        let map = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&rec.id)
            .filter(|(v, _)| *v == rec.updated_at)
            .map(|(_, c)| c.clone())
    }

    fn put(&self, rec: &ConnectorRecord, client: Client) {
        let mut map = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_CACHED_CLIENTS {
            map.clear();
        }
        map.insert(rec.id.clone(), (rec.updated_at, client));
    }

    pub(crate) fn forget(&self, id: &str) {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExecuteRequest {
    entity: String,
    action: String,
    params: Option<Value>,
    skip_truncation: Option<bool>,
    select_fields: Option<Vec<String>>,
    exclude_fields: Option<Vec<String>>,
    intent: Option<String>,
}

/// Build the direct client of a stored connector: decrypted credentials, the configured base
/// URL override, replication settings as config values (scoping, config injection).
fn direct_client(st: &AppState, rec: &ConnectorRecord) -> Result<Client, ApiError> {
    let d = registry::by_definition_id(&rec.definition_id).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "connector definition {} is not compiled into this server",
            rec.definition_id
        ))
    })?;
    let plain = crypto::open(&st.key, &rec.sealed, &rec.id)?;
    let values: Map<String, Value> = serde_json::from_slice(plain.expose_secret())
        .map_err(|_| Error::Corrupt(format!("credentials of connector {}", rec.id)))?;
    let mut creds = Credentials::for_scheme(rec.auth_scheme.clone());
    for (k, v) in values {
        match v {
            Value::String(s) => creds.insert(k, s),
            _ => return Err(Error::Corrupt(format!("credentials of connector {}", rec.id)).into()),
        }
    }
    let mut b = Client::builder(d, creds).timeout(st.config.provider_timeout);
    if let Some(url) = st
        .config
        .provider_base_urls
        .get(&rec.definition_id.to_ascii_lowercase())
    {
        b = b.base_url(url.clone());
    }
    for (k, v) in replication_map(rec)? {
        let text = match v {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(x) => x.to_string(),
            _ => continue,
        };
        b = b.server_variable(k, text);
    }
    b.build()
        .map_err(|e| ApiError::unprocessable(format!("connector cannot be used: {}", e.message())))
}

/// The protocol's answer to a failed provider call (as Airbyte's API maps them).
fn provider_error(e: &airbyte_agent_runtime::Error) -> ApiError {
    if e.is_validation() {
        return ApiError::unprocessable(e.to_string());
    }
    match e.status() {
        Some(s @ (400 | 404 | 422 | 429)) => ApiError::new(
            StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_GATEWAY),
            e.message(),
        ),
        Some(s) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("provider answered HTTP {s}: {}", e.message()),
        ),
        None => match e {
            airbyte_agent_runtime::Error::Unsupported(_)
            | airbyte_agent_runtime::Error::Config(_)
            | airbyte_agent_runtime::Error::InvalidArgument { .. } => {
                ApiError::unprocessable(e.message())
            }
            _ => ApiError::new(StatusCode::BAD_GATEWAY, e.to_string()),
        },
    }
}

pub(crate) async fn execute(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ExecuteRequest>,
) -> Result<Json<Value>, ApiError> {
    let params = match req.params {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(p @ Value::Object(_)) => p,
        Some(_) => return Err(ApiError::unprocessable("params must be an object")),
    };
    if let Some(intent) = &req.intent
        && intent.chars().count() > MAX_INTENT_CHARS
    {
        return Err(ApiError::unprocessable(format!(
            "intent must be at most {MAX_INTENT_CHARS} characters"
        )));
    }
    let rec = st
        .store
        .connector(&auth.organization_id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("Connector {id} not found")))?;
    if req.action.starts_with("context_store_") {
        return Err(ApiError::unprocessable(format!(
            "{} is not supported by this server (no context store)",
            req.action
        )));
    }
    let client = match st.clients.get(&rec) {
        Some(c) => c,
        None => {
            let c = direct_client(&st, &rec)?;
            st.clients.put(&rec, c.clone());
            c
        }
    };
    let mut options = ExecuteOptions::new()
        .select_fields(req.select_fields.unwrap_or_default())
        .exclude_fields(req.exclude_fields.unwrap_or_default())
        .truncate_long_text(!req.skip_truncation.unwrap_or(true));
    if let Some(intent) = req.intent {
        options = options.intent(intent);
    }
    let result = client
        .execute_with(&req.entity, &req.action, params, &options)
        .await
        .map_err(|e| provider_error(&e))?;
    let mut out = Map::new();
    out.insert("result".into(), result.data);
    if let Some(m) = result.meta {
        out.insert("connector_metadata".into(), Value::Object(m));
    }
    Ok(Json(Value::Object(out)))
}
