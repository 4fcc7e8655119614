//! `POST /api/v1/integrations/connectors/{id}/execute`: the call runs through the direct-mode
//! runtime with the connector's decrypted credentials; the answer is `{"result",
//! "connector_metadata"}` as Airbyte's API gives it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use airbyte_agent_runtime::{
    Client, ConnectorDescriptor, Credentials, ExecuteOptions, MAX_INTENT_CHARS,
};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::connectors::{replication_map, visible};
use super::extract::{Authed, JsonBody};
use super::{AppState, refresh};
use crate::crypto;
use crate::error::{ApiError, Error};
use crate::metrics::{Outcome, Via};
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
    /// The client of `rec`'s revision, built once however many calls ask at the same time
    /// (each would otherwise renew an expired token on its own).
    fn get_or_build(
        &self,
        rec: &ConnectorRecord,
        build: impl FnOnce() -> Result<Direct, ApiError>,
    ) -> Result<Direct, ApiError> {
        let mut map = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((v, c)) = map.get(&rec.id)
            && *v >= rec.revision
        {
            return Ok(c.clone());
        }
        let client = build()?;
        if map.len() >= MAX_CACHED_CLIENTS {
            map.clear();
        }
        map.insert(rec.id.clone(), (rec.revision, client.clone()));
        Ok(client)
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
pub(crate) struct Direct {
    client: Client,
    secrets: Arc<Vec<SecretString>>,
}

impl Direct {
    /// The client calls run through.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// `text` with every stored secret replaced by `***`.
    pub(crate) fn scrub_text(&self, text: &mut String) {
        for s in self.secrets.iter() {
            let s = s.expose_secret();
            if s.len() >= 4 && text.contains(s) {
                *text = text.replace(s, "***");
            }
        }
    }

    fn scrub(&self, mut e: ApiError) -> ApiError {
        self.scrub_text(&mut e.message);
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

/// The compiled-in descriptor of a record.
fn descriptor(rec: &ConnectorRecord) -> Result<&'static ConnectorDescriptor, ApiError> {
    registry::by_definition_id(&rec.definition_id).ok_or_else(|| {
        ApiError::unprocessable(format!(
            "connector definition {} is not compiled into this server",
            rec.definition_id
        ))
    })
}

/// Build the direct client of a stored connector: decrypted credentials, the configured base
/// URL override, replication settings as config values (scoping, config injection), and
/// OAuth2 token requests routed through the locking refresh endpoint (`refresh_url`), which
/// stores refreshed tokens before handing them out.
fn direct_client(
    st: &Arc<AppState>,
    rec: &ConnectorRecord,
    refresh_url: Option<String>,
) -> Result<Direct, ApiError> {
    let d = descriptor(rec)?;
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
    let mut b = Client::builder(d, creds).timeout(st.config.provider_timeout);
    let def = rec.definition_id.to_ascii_lowercase();
    if let Some(url) = st.config.provider_base_urls.get(&def) {
        b = b.base_url(url.clone());
    }
    if let Some(url) = refresh_url {
        b = b.refresh_url(url);
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

/// The direct client of connector `id` as `auth` may use it: the record read (organization and
/// scope checked) on every call, the client of its credentials' revision from the cache, and
/// for OAuth2 connectors token requests through the locking refresh endpoint. The one way
/// both the execute endpoint and `/mcp` tool calls reach a provider.
pub(crate) async fn connector_client(
    st: &Arc<AppState>,
    auth: &Authed,
    id: &str,
) -> Result<Direct, ApiError> {
    let rec = visible(st, auth, id).await?;
    let refresh_url = match refresh::oauth_of(descriptor(&rec)?, &rec) {
        Some(_) => Some(st.refresh_endpoint().await?.url_for(&rec)),
        None => None,
    };
    st.clients
        .get_or_build(&rec, || direct_client(st, &rec, refresh_url))
}

/// The metrics outcome of an answer with `status`.
pub(crate) fn outcome_of(status: StatusCode) -> Outcome {
    if status.is_success() {
        Outcome::Ok
    } else if status.is_client_error() {
        Outcome::Rejected
    } else {
        Outcome::Failed
    }
}

pub(crate) async fn execute(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<ExecuteRequest>,
) -> Result<Json<Value>, ApiError> {
    let out = run(&st, &auth, &id, req).await;
    let status = out.as_ref().map_or_else(|e| e.status, |_| StatusCode::OK);
    st.metrics.execute(Via::Api, outcome_of(status));
    out
}

async fn run(
    st: &Arc<AppState>,
    auth: &Authed,
    id: &str,
    req: ExecuteRequest,
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
    if req.action.starts_with("context_store_") {
        // Still 404 first for a connector the caller cannot see.
        visible(st, auth, id).await?;
        return Err(ApiError::unprocessable(format!(
            "{} is not supported by this server (no context store)",
            req.action
        )));
    }
    let direct = connector_client(st, auth, id).await?;
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
