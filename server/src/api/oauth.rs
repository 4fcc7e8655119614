//! OAuth consent, with each organization's own OAuth app per connector:
//!
//! - `PUT /api/v1/oauth/credentials` `{connector_type, configuration: {client_id,
//!   client_secret}}` sets the organization's app (secret sealed); `DELETE
//!   /api/v1/oauth/credentials/connector_type/{type}` removes it. There is no server-wide app:
//!   without one, initiate answers 422.
//! - `POST /api/v1/integrations/connectors/oauth/initiate` `{workspace_name, definition_id |
//!   connector_type, redirect_url, name?, replication_config?, source_template_id?,
//!   environment?}` → `{consent_url}`: the provider's consent page with the app's client id,
//!   this server's callback as `redirect_uri`, the scopes, and a single-use state.
//! - `GET /api/v1/oauth/callback?code&state` (the browser, no token): the code is exchanged at
//!   the provider's token URL, the tokens plus the app's client id/secret become the
//!   connector's sealed credentials, and the browser goes on to `redirect_url?connector_id=ID`
//!   (`?error=...` when the provider or the exchange failed).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, extract::rejection::QueryRejection};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::AppState;
use super::extract::{Authed, JsonBody};
use super::refresh::{field_for, http_client};
use crate::crypto;
use crate::error::{ApiError, Error, error_chain};
use crate::registry;
use crate::storage::{Inserted, NewConnector, PendingOAuth, now};
use airbyte_agent_runtime::{
    AuthSchemeDescriptor, ConnectorDescriptor, OAuth2Descriptor, TokenBodyFormat, TokenClientAuth,
};

/// How long a consent may take.
const STATE_TTL_SECS: i64 = 10 * 60;

/// RFC 3986 percent-encoding of everything but unreserved characters.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn with_query(url: &str, pairs: &[(&str, &str)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{}", q.join("&"))
}

fn descriptor_named(name: &str) -> Result<&'static ConnectorDescriptor, ApiError> {
    registry::by_definition_id(name)
        .or_else(|| registry::by_type(name))
        .ok_or_else(|| ApiError::unprocessable(format!("unknown connector {name}")))
}

/// The connector's OAuth2 auth option.
fn oauth_scheme(
    d: &'static ConnectorDescriptor,
) -> Result<(&'static AuthSchemeDescriptor, &'static OAuth2Descriptor), ApiError> {
    d.auth_schemes
        .iter()
        .find_map(|s| s.kind.oauth2().map(|o| (s, o)))
        .ok_or_else(|| ApiError::unprocessable(format!("{} has no OAuth2 auth option", d.name)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppConfiguration {
    client_id: String,
    client_secret: SecretString,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppRequest {
    connector_type: String,
    configuration: AppConfiguration,
}

pub(crate) async fn put_app(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    JsonBody(req): JsonBody<AppRequest>,
) -> Result<Json<Value>, ApiError> {
    auth.require_application()?;
    let d = descriptor_named(&req.connector_type)?;
    oauth_scheme(d)?;
    let c = &req.configuration;
    if c.client_id.trim().is_empty() || c.client_secret.expose_secret().is_empty() {
        return Err(ApiError::unprocessable(
            "client_id and client_secret must not be empty",
        ));
    }
    st.store
        .set_oauth_app(
            &st.key,
            &auth.organization_id,
            d.definition_id,
            &c.client_id,
            &c.client_secret,
        )
        .await?;
    Ok(Json(json!({
        "connector_type": d.name,
        "definition_id": d.definition_id,
        "client_id": c.client_id,
    })))
}

pub(crate) async fn delete_app(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    Path(connector_type): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require_application()?;
    let d = descriptor_named(&connector_type)?;
    if st
        .store
        .delete_oauth_app(&auth.organization_id, d.definition_id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "no OAuth app configured for {}",
            d.name
        )))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InitiateRequest {
    workspace_name: Option<String>,
    customer_name: Option<String>,
    external_user_id: Option<String>,
    definition_id: Option<String>,
    connector_type: Option<String>,
    redirect_url: String,
    name: Option<String>,
    replication_config: Option<Map<String, Value>>,
    source_template_id: Option<String>,
    environment: Option<Map<String, Value>>,
}

/// `{{ name }}` in a consent URL, from the environment values.
fn render(template: &str, env: &Map<String, Value>) -> String {
    let mut out = template.to_string();
    for (k, v) in env {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        for pat in [format!("{{{{{k}}}}}"), format!("{{{{ {k} }}}}")] {
            out = out.replace(&pat, &enc(&text));
        }
    }
    out
}

pub(crate) async fn initiate(
    State(st): State<Arc<AppState>>,
    auth: Authed,
    headers: HeaderMap,
    JsonBody(req): JsonBody<InitiateRequest>,
) -> Result<Json<Value>, ApiError> {
    let Some(ws) = req
        .workspace_name
        .or(req.customer_name)
        .or(req.external_user_id)
    else {
        return Err(ApiError::unprocessable("workspace_name is required"));
    };
    let Some(which) = req.definition_id.or(req.connector_type) else {
        return Err(ApiError::unprocessable("definition_id is required"));
    };
    let d = descriptor_named(&which)?;
    let (scheme, o) = oauth_scheme(d)?;
    if !(req.redirect_url.starts_with("https://") || req.redirect_url.starts_with("http://")) {
        return Err(ApiError::unprocessable(
            "redirect_url must be an http(s) URL",
        ));
    }
    let w = st
        .store
        .workspace_by_name(&auth.organization_id, &ws)
        .await?
        .filter(|w| auth.sees(&w.id))
        .ok_or_else(|| ApiError::not_found(format!("Workspace '{ws}' not found")))?;
    let Some((client_id, _)) = st
        .store
        .oauth_app(&st.key, &auth.organization_id, d.definition_id)
        .await?
    else {
        return Err(ApiError::unprocessable(format!(
            "no OAuth app configured for {}: PUT /api/v1/oauth/credentials first",
            d.name
        )));
    };
    let consent = st
        .config
        .provider_authorization_urls
        .get(d.definition_id)
        .map(String::as_str)
        .or(o.authorization_url)
        .ok_or_else(|| ApiError::unprocessable(format!("{} declares no consent page", d.name)))?;
    let base = match &st.config.public_url {
        Some(u) => u.clone(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .ok_or_else(|| ApiError::bad_request("Host header missing"))?;
            format!("http://{host}")
        }
    };
    let callback_url = format!("{base}/api/v1/oauth/callback");
    let state = crypto::random_hex(32);
    let env = req.environment.unwrap_or_default();
    let request = json!({
        "scheme": scheme.key, "name": req.name, "replication_config": req.replication_config,
        "source_template_id": req.source_template_id,
    });
    st.store
        .insert_oauth_state(
            &state,
            &PendingOAuth {
                organization_id: auth.organization_id.clone(),
                workspace_id: w.id,
                definition_id: d.definition_id.to_string(),
                redirect_url: req.redirect_url,
                callback_url: callback_url.clone(),
                request: request.to_string(),
                expires_at: now().saturating_add(STATE_TTL_SECS),
            },
        )
        .await?;
    let scope = o.scopes.join(" ");
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", callback_url.as_str()),
        ("state", state.as_str()),
    ];
    if !scope.is_empty() {
        pairs.push(("scope", scope.as_str()));
    }
    Ok(Json(json!({
        "consent_url": with_query(&render(consent, &env), &pairs),
    })))
}

#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}

pub(crate) async fn callback(
    State(st): State<Arc<AppState>>,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let state = q
        .state
        .ok_or_else(|| ApiError::bad_request("state is missing"))?;
    let p = st
        .store
        .take_oauth_state(&state)
        .await?
        .ok_or_else(|| ApiError::bad_request("unknown, expired or already used OAuth state"))?;
    if let Some(e) = q.error {
        return Ok(redirect(&with_query(&p.redirect_url, &[("error", &e)])));
    }
    let code = q
        .code
        .ok_or_else(|| ApiError::bad_request("code is missing"))?;
    match complete(&st, &p, &code).await {
        Ok(id) => Ok(redirect(&with_query(
            &p.redirect_url,
            &[("connector_id", &id)],
        ))),
        Err(e) => Ok(redirect(&with_query(
            &p.redirect_url,
            &[("error", &e.message)],
        ))),
    }
}

/// Exchange `code` and store the connector; its id.
async fn complete(st: &AppState, p: &PendingOAuth, code: &str) -> Result<String, ApiError> {
    let d = descriptor_named(&p.definition_id)?;
    let (scheme, o) = oauth_scheme(d)?;
    let (client_id, secret) = st
        .store
        .oauth_app(&st.key, &p.organization_id, &p.definition_id)
        .await?
        .ok_or_else(|| ApiError::unprocessable("the OAuth app was removed meanwhile"))?;
    let token_url = st
        .config
        .provider_refresh_urls
        .get(&p.definition_id)
        .map(String::as_str)
        .or(o.token_url)
        .or(o.refresh_url)
        .ok_or_else(|| ApiError::unprocessable(format!("{} declares no token URL", d.name)))?;
    let mut fields: Vec<(&str, &str)> = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &p.callback_url),
    ];
    let basic = matches!(o.client_auth, TokenClientAuth::Basic);
    if matches!(o.client_auth, TokenClientAuth::Body) {
        fields.push(("client_id", &client_id));
        fields.push(("client_secret", secret.expose_secret()));
    }
    let http = http_client(st.config.provider_timeout)?;
    let mut req = http.post(token_url).header("accept", "application/json");
    req = match o.body_format {
        TokenBodyFormat::Json => {
            let m: Map<String, Value> = fields
                .iter()
                .map(|(k, v)| ((*k).into(), json!(v)))
                .collect();
            req.header("content-type", "application/json")
                .body(Value::Object(m).to_string())
        }
        _ => {
            let body: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                .collect();
            req.header("content-type", "application/x-www-form-urlencoded")
                .body(body.join("&"))
        }
    };
    if basic {
        req = req.basic_auth(&client_id, Some(secret.expose_secret()));
    }
    let resp = req.send().await.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!("token endpoint unreachable: {}", error_chain(&e)),
        )
    })?;
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let access = body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let (true, Some(access)) = (status.is_success(), access) else {
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            format!(
                "the provider refused the authorization code (HTTP {})",
                status.as_u16()
            ),
        ));
    };
    // The option's fields from the app and the token response.
    let mut creds = Map::new();
    let values = [
        ("client_id", Some(client_id.as_str())),
        ("client_secret", Some(secret.expose_secret())),
        ("access_token", Some(access)),
        (
            "refresh_token",
            body.get("refresh_token").and_then(Value::as_str),
        ),
    ];
    for (param, value) in values {
        let field = field_for(scheme, param);
        if let Some(v) = value
            && scheme.fields.iter().any(|f| f.name == field)
        {
            creds.insert(field, json!(v));
        }
    }
    let checked = registry::check_credentials(d, &creds)
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let request: Value = serde_json::from_str(&p.request).unwrap_or(Value::Null);
    let w = st
        .store
        .workspace_by_id(&p.organization_id, &p.workspace_id)
        .await?
        .ok_or_else(|| ApiError::not_found("the workspace was deleted meanwhile"))?;
    let name = request["name"]
        .as_str()
        .map_or_else(|| format!("{} - {}", d.name, w.name), str::to_string);
    let template = match request["source_template_id"].as_str() {
        Some(t) => st.store.template(&p.organization_id, t).await?,
        None => None,
    };
    let replication = request
        .get("replication_config")
        .filter(|v| v.is_object())
        .map(Value::to_string);
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
                replication_config: replication,
                source_template: template.as_ref(),
                idempotency: None,
            },
            plain.expose_secret(),
        )
        .await?;
    match inserted {
        Inserted::New(rec) | Inserted::Existing(rec) => Ok(rec.id),
        Inserted::KeyReused => Err(ApiError::conflict("connector already created")),
    }
}
