//! One OAuth2 refresh per connector across every instance sharing the database.
//!
//! The direct clients the server builds send their token requests not to the provider but to
//! this loopback-only endpoint (`http://127.0.0.1:PORT/refresh/CAPABILITY/CONNECTOR/REVISION`,
//! the capability a random secret of this process). It locks the connector's row
//! ([`crate::storage::Store::lock_connector`]) and then either
//!
//! - hands out the tokens another instance or client stored since the caller's client was built
//!   (the record's revision moved past the caller's): no provider request, and the caller's
//!   possibly spent refresh token is never sent; or
//! - forwards the caller's token request unchanged to the provider, seals the answer into the
//!   record (revision bumped, expiry noted) and commits before answering, so a refreshed token
//!   is stored before anyone uses it and a failure to store it fails the refresh.
//!
//! The request body the runtime built (grant, client authentication, body format) is forwarded
//! as is; the answer goes back verbatim (token-extract fields included).

use std::sync::{Arc, Weak};
use std::time::Duration;

use airbyte_agent_runtime::{AuthSchemeDescriptor, ConnectorDescriptor, OAuth2Descriptor};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::{ExposeSecret, SecretBox};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;

use super::AppState;
use super::connectors::replication_map;
use crate::crypto;
use crate::error::{ApiError, Error, error_chain};
use crate::metrics::Refresh;
use crate::registry;
use crate::storage::{ConnectorRecord, now};

/// The running endpoint: the base URL clients get (capability included).
#[derive(Debug)]
pub(crate) struct RefreshEndpoint {
    base: String,
}

struct ProxyState {
    app: Weak<AppState>,
    capability: String,
    http: reqwest::Client,
}

/// Start the endpoint of `st` on an ephemeral loopback port (once per state).
pub(crate) async fn start(st: &Arc<AppState>) -> Result<RefreshEndpoint, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let capability = crypto::random_hex(32);
    let base = format!("http://{addr}/refresh/{capability}");
    let state = Arc::new(ProxyState {
        app: Arc::downgrade(st),
        capability,
        http: http_client(st.config.provider_timeout)?,
    });
    let router = Router::new()
        .route("/refresh/{cap}/{id}/{revision}", post(handle))
        .with_state(state);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            eprintln!("airbyte-agent-server: token refresh endpoint stopped: {e}");
        }
    });
    Ok(RefreshEndpoint { base })
}

impl RefreshEndpoint {
    /// The refresh URL of `rec` as of its current revision.
    pub(crate) fn url_for(&self, rec: &ConnectorRecord) -> String {
        format!("{}/{}/{}", self.base, rec.id, rec.revision)
    }
}

/// The OAuth2 details of the record's auth option, when it has them.
pub(crate) fn oauth_of(
    d: &'static ConnectorDescriptor,
    rec: &ConnectorRecord,
) -> Option<(&'static AuthSchemeDescriptor, &'static OAuth2Descriptor)> {
    let s = d.auth_schemes.iter().find(|s| s.key == rec.auth_scheme)?;
    Some((s, s.kind.oauth2()?))
}

/// The credential field a token-response value lands in: the field the scheme maps the
/// parameter from (`("access_token", "${access_token}")`), else the parameter's own name.
pub(crate) fn field_for(s: &AuthSchemeDescriptor, param: &str) -> String {
    s.mapping
        .iter()
        .find(|(p, _)| *p == param)
        .and_then(|(_, t)| t.strip_prefix("${").and_then(|t| t.strip_suffix('}')))
        .unwrap_or(param)
        .to_string()
}

fn token_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error": "server_error", "error_description": message}).to_string(),
    )
        .into_response()
}

async fn handle(
    State(p): State<Arc<ProxyState>>,
    Path((cap, id, revision)): Path<(String, String, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !crypto::constant_time_eq(cap.as_bytes(), p.capability.as_bytes()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(st) = p.app.upgrade() else {
        return token_error(StatusCode::SERVICE_UNAVAILABLE, "server is stopping");
    };
    match refresh(&st, &p.http, &id, revision, &headers, body).await {
        Ok(r) => r,
        Err(e) => token_error(e.status, &e.message),
    }
}

/// `{{ name }}` templates of a refresh URL, from the replication settings, then the credentials.
fn render(template: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        out.push_str(&lookup(after[..end].trim()).unwrap_or_default());
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Where the provider takes token requests for `rec`.
fn upstream_url(
    st: &AppState,
    o: &OAuth2Descriptor,
    rec: &ConnectorRecord,
    values: &Map<String, Value>,
) -> Result<String, ApiError> {
    let configured = st
        .config
        .provider_refresh_urls
        .get(&rec.definition_id.to_ascii_lowercase())
        .map(String::as_str);
    let key_file_uri = values
        .get("credentials_json")
        .and_then(Value::as_str)
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
        .and_then(|v| {
            v.get("token_uri")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let template = configured
        .or(o.refresh_url)
        .or(o.token_url)
        .map(str::to_string)
        .or(key_file_uri)
        .ok_or_else(|| {
            ApiError::unprocessable("the connector's auth option declares no token URL")
        })?;
    let replication = replication_map(rec)?;
    Ok(render(&template, |n| {
        replication
            .get(n)
            .and_then(text_of)
            .or_else(|| values.get(n).and_then(text_of))
    }))
}

/// The stored tokens as a token response.
fn stored_tokens(
    s: &AuthSchemeDescriptor,
    rec: &ConnectorRecord,
    values: &Map<String, Value>,
) -> Option<Value> {
    let access = values.get(&field_for(s, "access_token"))?.as_str()?;
    let mut out = json!({"access_token": access, "token_type": "Bearer"});
    if let Some(r) = values
        .get(&field_for(s, "refresh_token"))
        .and_then(Value::as_str)
    {
        out["refresh_token"] = json!(r);
    }
    if let Some(t) = rec.token_expires_at {
        out["expires_in"] = json!((t - now()).max(0));
    }
    Some(out)
}

fn expires_in(body: &Value) -> Option<i64> {
    match body.get("expires_in")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

async fn refresh(
    st: &Arc<AppState>,
    http: &reqwest::Client,
    id: &str,
    caller_revision: i64,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let locked = st
        .store
        .lock_connector(id)
        .await?
        .ok_or_else(|| ApiError::not_found("connector not found"))?;
    let rec = &locked.record;
    let d = registry::by_definition_id(&rec.definition_id)
        .ok_or_else(|| ApiError::unprocessable("connector definition not compiled in"))?;
    let (scheme, o) =
        oauth_of(d, rec).ok_or_else(|| ApiError::unprocessable("not an OAuth2 connector"))?;
    let plain = crypto::open(&st.key, &rec.sealed, &rec.id)?;
    let mut values: Map<String, Value> = serde_json::from_slice(plain.expose_secret())
        .map_err(|_| Error::Corrupt(format!("credentials of connector {}", rec.id)))?;

    // Renewed since the caller's client was built: hand that out, never the caller's request
    // (its refresh token may be spent).
    if rec.revision > caller_revision
        && let Some(out) = stored_tokens(scheme, rec, &values)
    {
        locked.release().await?;
        st.metrics.refresh(Refresh::Shared);
        return Ok((
            [(header::CONTENT_TYPE, "application/json")],
            out.to_string(),
        )
            .into_response());
    }

    let url = upstream_url(st, o, rec, &values)?;
    let mut req = http.post(url).body(body);
    for name in [header::CONTENT_TYPE, header::AUTHORIZATION, header::ACCEPT] {
        if let Some(v) = headers.get(&name) {
            req = req.header(name.as_str(), v.as_bytes());
        }
    }
    let sent = match req.send().await {
        Ok(r) => r,
        Err(e) => {
            locked.release().await?;
            st.metrics.refresh(Refresh::Failed);
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("token endpoint unreachable: {}", error_chain(&e)),
            ));
        }
    };
    let status = StatusCode::from_u16(sent.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let ctype = sent.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = match sent.bytes().await {
        Ok(b) => b,
        Err(e) => {
            locked.release().await?;
            st.metrics.refresh(Refresh::Failed);
            return Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("token endpoint answer unreadable: {}", error_chain(&e)),
            ));
        }
    };
    let verbatim = |bytes: Bytes| {
        let mut r = (status, bytes).into_response();
        if let Some(c) = ctype.clone() {
            r.headers_mut().insert(header::CONTENT_TYPE, c);
        }
        r
    };
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    let access = parsed
        .as_ref()
        .and_then(|b| b.get("access_token"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let (Some(body), Some(access), true) = (parsed.as_ref(), access, status.is_success()) else {
        // Refused or unusable: nothing to store; the runtime makes its error from the answer.
        locked.release().await?;
        st.metrics.refresh(Refresh::Refused);
        return Ok(verbatim(bytes));
    };
    values.insert(field_for(scheme, "access_token"), json!(access));
    if let Some(r) = body
        .get("refresh_token")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        values.insert(field_for(scheme, "refresh_token"), json!(r));
    }
    let expires_at = expires_in(body).map(|s| now().saturating_add(s));
    let sealed_input = SecretBox::new(Box::new(
        serde_json::to_vec(&values).map_err(|e| Error::Corrupt(e.to_string()))?,
    ));
    // Stored before anyone gets the token: a failure here fails the refresh.
    locked
        .store(&st.key, sealed_input.expose_secret(), expires_at)
        .await?;
    st.metrics.refresh(Refresh::Refreshed);
    Ok(verbatim(bytes))
}

/// The HTTP client for token endpoints: TLS with the platform's roots, no redirects (the body
/// carries client credentials).
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
        .map_err(|e| Error::Config(format!("cannot load TLS roots: {e}")))?;
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS setup failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .tls_backend_preconfigured(tls)
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .build()
        .map_err(|e| Error::Config(format!("HTTP client setup failed: {e}")))
}
