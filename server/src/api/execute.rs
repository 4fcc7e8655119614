//! `POST /api/v1/integrations/connectors/{id}/execute`: the call runs through the direct-mode
//! runtime with the connector's decrypted credentials; the answer is `{"result",
//! "connector_metadata"}` as Airbyte's API gives it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use airbyte_agent_runtime::{
    Client, ConnectorDescriptor, Credentials, ExecuteOptions, MAX_INTENT_CHARS, RefreshedTokens,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::{ExposeSecret, SecretBox, SecretString};
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

/// Direct clients by connector id, valid for one revision of the record's credentials. The
/// record is read (and its organization checked) on every call, so a connector deleted through
/// another instance is never executed from this cache.
#[derive(Default)]
pub(crate) struct ClientCache {
    clients: Mutex<HashMap<String, (i64, Direct)>>,
}

impl std::fmt::Debug for ClientCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCache").finish_non_exhaustive()
    }
}

impl ClientCache {
    fn get(&self, rec: &ConnectorRecord) -> Option<Direct> {
        let map = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&rec.id)
            .filter(|(v, _)| *v == rec.revision)
            .map(|(_, c)| c.clone())
    }

    fn put(&self, rec: &ConnectorRecord, client: Direct) {
        let mut map = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_CACHED_CLIENTS {
            map.clear();
        }
        map.insert(rec.id.clone(), (rec.revision, client));
    }

    pub(crate) fn forget(&self, id: &str) {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }
}

/// A direct client and the secrets it holds (to scrub them from provider error texts: a
/// careless provider may echo a key in its error body).
#[derive(Clone)]
struct Direct {
    client: Client,
    secrets: Arc<Vec<SecretString>>,
}

impl Direct {
    fn scrub(&self, mut e: ApiError) -> ApiError {
        for s in self.secrets.iter() {
            let s = s.expose_secret();
            if s.len() >= 4 && e.message.contains(s) {
                e.message = e.message.replace(s, "***");
            }
        }
        e
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

/// The credential field a token-response value lands in: the field the scheme maps the
/// parameter from (`("access_token", "${access_token}")`), else the parameter's own name.
fn field_for(d: &ConnectorDescriptor, scheme: &str, param: &str) -> String {
    d.auth_schemes
        .iter()
        .find(|s| s.key == scheme)
        .and_then(|s| s.mapping.iter().find(|(p, _)| *p == param))
        .and_then(|(_, t)| t.strip_prefix("${").and_then(|t| t.strip_suffix('}')))
        .unwrap_or(param)
        .to_string()
}

/// Persist refreshed OAuth2 tokens (providers such as Gong accept a refresh token only once):
/// the full credential set is re-sealed and the record's revision bumped, so every instance
/// rebuilds its client from the new tokens.
fn persist_refreshes(
    st: &Arc<AppState>,
    d: &'static ConnectorDescriptor,
    rec: &ConnectorRecord,
    values: Map<String, Value>,
) -> impl Fn(&RefreshedTokens) + Send + Sync + 'static {
    // Weak: the cached client owns this callback, and the state owns the cache.
    let state = Arc::downgrade(st);
    let (org, id, scheme) = (
        rec.organization_id.clone(),
        rec.id.clone(),
        rec.auth_scheme.clone(),
    );
    let current = Arc::new(Mutex::new(values));
    move |t: &RefreshedTokens| {
        let plain = {
            let mut m = current.lock().unwrap_or_else(|p| p.into_inner());
            m.insert(
                field_for(d, &scheme, "access_token"),
                Value::String(t.access_token.expose_secret().to_string()),
            );
            if let Some(r) = &t.refresh_token {
                m.insert(
                    field_for(d, &scheme, "refresh_token"),
                    Value::String(r.expose_secret().to_string()),
                );
            }
            match serde_json::to_vec(&*m) {
                Ok(b) => SecretBox::new(Box::new(b)),
                Err(_) => return,
            }
        };
        let (Some(st), Ok(rt)) = (state.upgrade(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        let (org, id) = (org.clone(), id.clone());
        rt.spawn(async move {
            let res = st
                .store
                .update_credentials(&st.key, &org, &id, plain.expose_secret())
                .await;
            if let Err(e) = res {
                eprintln!("airbyte-agent-server: storing refreshed tokens of {id} failed: {e}");
            }
        });
    }
}

/// Build the direct client of a stored connector: decrypted credentials, the configured base
/// and refresh URL overrides, replication settings as config values (scoping, config
/// injection), refreshed tokens written back.
fn direct_client(st: &Arc<AppState>, rec: &ConnectorRecord) -> Result<Direct, ApiError> {
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
    let mut secrets = Vec::with_capacity(values.len());
    for (k, v) in &values {
        match v {
            Value::String(s) => {
                creds.insert(k.clone(), s.clone());
                secrets.push(SecretString::from(s.as_str()));
            }
            _ => return Err(Error::Corrupt(format!("credentials of connector {}", rec.id)).into()),
        }
    }
    let mut b = Client::builder(d, creds)
        .timeout(st.config.provider_timeout)
        .on_token_refresh(persist_refreshes(st, d, rec, values));
    let def = rec.definition_id.to_ascii_lowercase();
    if let Some(url) = st.config.provider_base_urls.get(&def) {
        b = b.base_url(url.clone());
    }
    if let Some(url) = st.config.provider_refresh_urls.get(&def) {
        b = b.refresh_url(url.clone());
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
    let client = b.build().map_err(|e| {
        ApiError::unprocessable(format!("connector cannot be used: {}", e.message()))
    })?;
    Ok(Direct {
        client,
        secrets: Arc::new(secrets),
    })
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
            | airbyte_agent_runtime::Error::InvalidArgument { .. }
            | airbyte_agent_runtime::Error::MissingServerVariable { .. }
            | airbyte_agent_runtime::Error::MissingCredential { .. }
            | airbyte_agent_runtime::Error::InvalidHeader { .. } => {
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
    let direct = match st.clients.get(&rec) {
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
    let result = direct
        .client
        .execute_with(&req.entity, &req.action, params, &options)
        .await
        .map_err(|e| direct.scrub(provider_error(&e)))?;
    let mut out = Map::new();
    out.insert("result".into(), result.data);
    if let Some(m) = result.meta {
        out.insert("connector_metadata".into(), Value::Object(m));
    }
    Ok(Json(Value::Object(out)))
}
