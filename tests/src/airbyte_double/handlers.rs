//! Request handling of the double.

// Handlers short-circuit with ready responses; their size does not matter in a test double.
#![allow(clippy::result_large_err)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use airbyte_agent_runtime::{Client, Credentials, RetryPolicy};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Map, Value, json};

use super::{
    CallbackStyle, IssuedToken, PendingOAuth, Recorded, Shared, State, StoredConnector, Template,
};

const REGION_US: &str = "645a183f-b12b-4c6e-8ad3-99e165603450";
const REGION_EU: &str = "b9e48d61-f082-4a14-a8d0-799a907938cb";

pub(super) type Resp = Response<Full<Bytes>>;

pub(super) fn respond(status: u16, body: &Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

pub(super) fn errors(status: u16, msg: &str) -> Resp {
    respond(
        status,
        &json!({"errors": [{"userPresentableMessage": msg}]}),
    )
}

pub(super) fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(hex) = std::str::from_utf8(&b[i + 1..i + 3])
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Resp, Infallible> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return Ok(respond(400, &json!({"message": "unreadable body"}))),
    };
    let rec = Recorded {
        method,
        path,
        query,
        headers,
        body,
    };
    {
        let mut st = shared.lock();
        st.requests.push(rec.clone());
        let fault = st
            .faults
            .iter_mut()
            .find(|f| f.remaining > 0 && rec.path.contains(&f.path_contains));
        if let Some(f) = fault {
            f.remaining -= 1;
            let mut r = respond(
                f.status,
                &json!({"message": format!("injected failure {}", f.status)}),
            );
            if let Some(ra) = &f.retry_after
                && let Ok(v) = hyper::header::HeaderValue::from_str(ra)
            {
                r.headers_mut().insert(hyper::header::RETRY_AFTER, v);
            }
            return Ok(r);
        }
    }
    Ok(route(&shared, &rec).await)
}

pub(super) fn json_body(rec: &Recorded) -> Result<Map<String, Value>, Resp> {
    match serde_json::from_slice::<Value>(&rec.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(respond(
            400,
            &json!({"message": "request body must be a JSON object"}),
        )),
    }
}

/// Organization of the call: the header, required when the account has several.
fn organization(st: &State, client_id: &str, rec: &Recorded) -> Result<String, Resp> {
    let Some(acct) = st.accounts.iter().find(|a| a.client_id == client_id) else {
        return Err(respond(401, &json!({"message": "Unauthorized"})));
    };
    match rec.header("x-organization-id") {
        Some(org) if acct.organizations.iter().any(|o| o == org) => Ok(org.to_string()),
        Some(org) => Err(respond(
            403,
            &json!({"message": format!("application is not a member of organization {org}")}),
        )),
        None if acct.organizations.len() == 1 => Ok(acct.organizations[0].clone()),
        None => Err(respond(
            400,
            &json!({"detail": "X-Organization-Id header is required: this application belongs to several organizations"}),
        )),
    }
}

/// Authenticate a bearer call → organization id.
pub(super) fn authenticate(st: &State, rec: &Recorded) -> Result<String, Resp> {
    let token = rec
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .ok_or_else(|| {
            respond(
                401,
                &json!({"message": "Unauthorized: missing bearer token"}),
            )
        })?;
    let t = st
        .tokens
        .get(token)
        .ok_or_else(|| respond(401, &json!({"message": "Unauthorized: unknown token"})))?;
    if Instant::now() >= t.expires_at {
        return Err(respond(401, &json!({"message": "Token expired"})));
    }
    let org = organization(st, &t.client_id, rec)?;
    if org != t.organization_id {
        return Err(respond(
            403,
            &json!({"message": "token was issued for another organization"}),
        ));
    }
    Ok(org)
}

fn workspace_exists(st: &State, org: &str, name: &str) -> bool {
    st.workspaces
        .get(org)
        .is_some_and(|w| w.iter().any(|(_, n)| n == name))
}

fn workspace_missing(name: &str) -> Resp {
    respond(
        404,
        &json!({"detail": format!("Workspace '{name}' not found")}),
    )
}

async fn route(shared: &Arc<Shared>, rec: &Recorded) -> Resp {
    let p = rec.path.as_str();
    let m = rec.method.as_str();
    if m == "POST" && p == "/api/v1/account/applications/token" {
        return token(shared, rec).await;
    }
    if m == "GET" && p == "/oauth/consent" {
        return consent(shared, rec);
    }
    if p.starts_with("/api/v1/embedded/") && p != "/api/v1/embedded/scoped-token" {
        return super::embedded::route(shared, rec);
    }
    let org = match authenticate(&shared.lock(), rec) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let segs: Vec<&str> = p.trim_start_matches('/').split('/').collect();
    if let ["api", "v1", "internal", "workflows", rest @ ..] = segs.as_slice() {
        return super::workflows::route(shared, rec, &org, rest).await;
    }
    match (m, segs.as_slice()) {
        ("GET", ["api", "v1", "integrations", "connectors"]) => list_connectors(shared, rec, &org),
        ("POST", ["api", "v1", "integrations", "connectors"]) => {
            create_connector(shared, rec, &org)
        }
        (
            "POST",
            [
                "api",
                "v1",
                "integrations",
                "connectors",
                "oauth",
                "initiate",
            ],
        ) => initiate_oauth(shared, rec, &org),
        ("DELETE", ["api", "v1", "integrations", "connectors", id]) => {
            let mut st = shared.lock();
            let before = st.connectors.len();
            st.connectors
                .retain(|c| !(c.id == *id && c.organization_id == org));
            if st.connectors.len() == before {
                return respond(404, &json!({"detail": "Connector not found"}));
            }
            st.clients.remove(*id);
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = hyper::StatusCode::ACCEPTED;
            r
        }
        ("POST", ["api", "v1", "integrations", "connectors", id, "execute"]) => {
            execute(shared, rec, &org, id).await
        }
        ("GET", ["api", "v1", "workspaces"]) => list_workspaces(shared, rec, &org),
        ("POST", ["api", "v1", "workspaces"]) => {
            let body = match json_body(rec) {
                Ok(b) => b,
                Err(r) => return r,
            };
            let Some(name) = body.get("name").and_then(Value::as_str) else {
                return errors(422, "name is required");
            };
            let mut st = shared.lock();
            if workspace_exists(&st, &org, name) {
                return respond(
                    409,
                    &json!({"message": format!("Workspace '{name}' already exists")}),
                );
            }
            let id = st.id("ws-");
            st.workspaces
                .entry(org.clone())
                .or_default()
                .push((id.clone(), name.to_string()));
            respond(
                201,
                &json!({"id": id, "name": name, "organization_id": org}),
            )
        }
        ("GET", ["api", "v1", "integrations", "templates", "sources"]) => {
            let st = shared.lock();
            let data: Vec<Value> = st
                .templates
                .iter()
                .filter(|t| t.organization_id == org)
                .map(|t| Value::Object(t.value.clone()))
                .collect();
            respond(200, &json!({"data": data}))
        }
        ("POST", ["api", "v1", "integrations", "templates", "sources"]) => {
            create_template(shared, rec, &org)
        }
        ("PUT", ["api", "v1", "oauth", "credentials"]) => {
            let body = match json_body(rec) {
                Ok(b) => b,
                Err(r) => return r,
            };
            let (Some(t), Some(Value::Object(cfg))) = (
                body.get("connector_type").and_then(Value::as_str),
                body.get("configuration"),
            ) else {
                return errors(422, "connector_type and configuration are required");
            };
            if !(cfg.contains_key("client_id") && cfg.contains_key("client_secret")) {
                return errors(422, "configuration needs client_id and client_secret");
            }
            shared
                .lock()
                .oauth_apps
                .insert((org.clone(), t.to_string()), cfg.clone());
            respond(200, &json!({"connector_type": t}))
        }
        ("DELETE", ["api", "v1", "oauth", "credentials", "connector_type", t]) => {
            match shared
                .lock()
                .oauth_apps
                .remove(&(org.clone(), t.to_string()))
            {
                Some(_) => respond(200, &json!({})),
                None => respond(
                    404,
                    &json!({"detail": format!("no OAuth override for {t}")}),
                ),
            }
        }
        ("POST", ["api", "v1", "embedded", "scoped-token"]) => scoped_token(shared, rec, &org),
        _ => respond(404, &json!({"detail": "Not Found"})),
    }
}

async fn token(shared: &Arc<Shared>, rec: &Recorded) -> Resp {
    shared.token_requests.fetch_add(1, Ordering::SeqCst);
    let latency = shared.lock().config.token_latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let body = match json_body(rec) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let id = body.get("client_id").and_then(Value::as_str).unwrap_or("");
    let secret = body
        .get("client_secret")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut st = shared.lock();
    let ok = st
        .accounts
        .iter()
        .any(|a| a.client_id == id && a.client_secret == secret);
    if !ok {
        let msg = if st.config.echo_credentials_in_errors {
            format!("invalid client credentials: client_id={id} client_secret={secret}")
        } else {
            "invalid client credentials".to_string()
        };
        return respond(401, &json!({"error": "invalid_client", "message": msg}));
    }
    let org = match organization(&st, id, rec) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let ttl = st.config.token_ttl;
    let value = format!("app-{}", st.id("tok-"));
    st.tokens.insert(
        value.clone(),
        IssuedToken {
            client_id: id.to_string(),
            organization_id: org,
            expires_at: Instant::now() + ttl,
        },
    );
    let mut out = json!({"access_token": value, "token_type": "Bearer"});
    if st.config.send_expires_in {
        out["expires_in"] = json!(ttl.as_secs_f64());
    }
    respond(200, &out)
}

fn connector_json(st: &State, c: &StoredConnector) -> Value {
    let template_name = c
        .source_template_id
        .as_ref()
        .and_then(|t| {
            st.templates
                .iter()
                .find(|x| x.value.get("id").and_then(Value::as_str) == Some(t))
        })
        .and_then(|t| t.value.get("name").cloned())
        .unwrap_or_else(|| {
            st.definitions
                .iter()
                .find(|d| d.descriptor.definition_id == c.definition_id)
                .map(|d| json!(d.descriptor.title))
                .unwrap_or(Value::Null)
        });
    json!({
        "id": c.id,
        "name": c.name,
        "definition_id": c.definition_id,
        "summarized_source_template": {"name": template_name},
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    })
}

fn list_connectors(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
    let q = query_pairs(&rec.query);
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let Some(ws) = get("workspace_name") else {
        return errors(422, "workspace_name is required");
    };
    let definition = get("definition_id");
    if definition.is_some() {
        shared.lookup_requests.fetch_add(1, Ordering::SeqCst);
    }
    let st = shared.lock();
    if !workspace_exists(&st, org, &ws) {
        return workspace_missing(&ws);
    }
    let all: Vec<Value> = st
        .connectors
        .iter()
        .filter(|c| c.organization_id == org && c.workspace_name == ws)
        .filter(|c| definition.as_deref().is_none_or(|d| d == c.definition_id))
        .map(|c| connector_json(&st, c))
        .collect();
    match st.config.connector_page_size {
        Some(size) if definition.is_none() => {
            let offset: usize = get("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
            let page: Vec<Value> = all.iter().skip(offset).take(size).cloned().collect();
            let next = (offset + size < all.len()).then(|| {
                format!(
                    "{}/api/v1/integrations/connectors?workspace_name={}&cursor={}",
                    shared.origin,
                    encode(&ws),
                    offset + size
                )
            });
            respond(200, &json!({"data": page, "next": next}))
        }
        _ => respond(200, &json!({"data": all})),
    }
}

fn scheme_for(
    descriptor: &airbyte_agent_runtime::ConnectorDescriptor,
    creds: &Map<String, Value>,
) -> Option<&'static str> {
    descriptor
        .auth_schemes
        .iter()
        .find(|s| {
            !s.fields.is_empty()
                && s.fields
                    .iter()
                    .all(|f| !f.required || creds.contains_key(f.name))
                && creds.keys().all(|k| s.fields.iter().any(|f| f.name == k))
        })
        .map(|s| s.key)
}

fn create_connector(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
    let body = match json_body(rec) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(ws) = s("workspace_name")
        .or_else(|| s("customer_name"))
        .or_else(|| s("external_user_id"))
    else {
        return errors(422, "workspace_name is required");
    };
    let Some(definition_id) = s("definition_id") else {
        return errors(422, "definition_id is required");
    };
    let mut st = shared.lock();
    if !workspace_exists(&st, org, &ws) {
        return workspace_missing(&ws);
    }
    let Some(def) = st
        .definitions
        .iter()
        .find(|d| d.descriptor.definition_id == definition_id)
        .cloned()
    else {
        return errors(
            422,
            &format!("unknown connector definition {definition_id}"),
        );
    };
    let credentials = match (body.get("credentials"), s("server_side_oauth_secret_id")) {
        (Some(Value::Object(c)), None) => {
            if c.contains_key("auth_type") {
                return errors(
                    422,
                    "credentials must not contain the discriminator field 'auth_type'; the auth option is inferred from the fields",
                );
            }
            if scheme_for(def.descriptor, c).is_none() {
                return errors(
                    422,
                    "credentials do not match any auth option of this connector",
                );
            }
            c.clone()
        }
        (None, Some(secret)) => match st.oauth_secrets.remove(&secret) {
            Some(c) => c,
            None => return errors(422, "unknown or already used server_side_oauth_secret_id"),
        },
        _ => {
            return errors(
                422,
                "exactly one of credentials or server_side_oauth_secret_id is required",
            );
        }
    };
    let replication = body
        .get("replication_config")
        .and_then(Value::as_object)
        .cloned();
    for key in &def.required_replication {
        if replication
            .as_ref()
            .is_none_or(|r| r.get(key).is_none_or(Value::is_null))
        {
            return errors(
                422,
                &format!("replication_config.{key} is required for this connector"),
            );
        }
    }
    let template = s("source_template_id");
    if let Some(t) = &template
        && !st.templates.iter().any(|x| {
            x.organization_id == org && x.value.get("id").and_then(Value::as_str) == Some(t)
        })
    {
        return errors(422, &format!("unknown source template {t}"));
    }
    let id = st.id("");
    let c = StoredConnector {
        id,
        organization_id: org.to_string(),
        workspace_name: ws.clone(),
        definition_id,
        name: s("name").unwrap_or_else(|| format!("{} - {ws}", def.descriptor.name)),
        credentials,
        replication_config: replication,
        source_template_id: template,
    };
    let out = connector_json(&st, &c);
    st.connectors.push(c);
    respond(201, &out)
}

fn initiate_oauth(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
    let body = match json_body(rec) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let (Some(ws), Some(def_id), Some(redirect)) =
        (s("workspace_name"), s("definition_id"), s("redirect_url"))
    else {
        return errors(
            422,
            "workspace_name, definition_id and redirect_url are required",
        );
    };
    let mut st = shared.lock();
    if !workspace_exists(&st, org, &ws) {
        return workspace_missing(&ws);
    }
    let oauth = st
        .definitions
        .iter()
        .find(|d| d.descriptor.definition_id == def_id)
        .map(|d| d.oauth_credentials.is_some());
    match oauth {
        None => return errors(422, &format!("unknown connector definition {def_id}")),
        Some(false) => return errors(422, "this connector does not support OAuth"),
        Some(true) => {}
    }
    let state = st.id("st-");
    st.oauth_pending.insert(
        state.clone(),
        PendingOAuth {
            organization_id: org.to_string(),
            workspace_name: ws,
            definition_id: def_id,
            redirect_url: redirect,
            name: s("name"),
            replication_config: body
                .get("replication_config")
                .and_then(Value::as_object)
                .cloned(),
        },
    );
    respond(
        200,
        &json!({"consent_url": format!("{}/oauth/consent?state={state}", shared.origin)}),
    )
}

fn consent(shared: &Arc<Shared>, rec: &Recorded) -> Resp {
    let q = query_pairs(&rec.query);
    let Some(state) = q.iter().find(|(k, _)| k == "state").map(|(_, v)| v.clone()) else {
        return respond(400, &json!({"message": "missing state"}));
    };
    let mut st = shared.lock();
    let Some(p) = st.oauth_pending.remove(&state) else {
        return respond(400, &json!({"message": "unknown or used state"}));
    };
    let Some(def) = st
        .definitions
        .iter()
        .find(|d| d.descriptor.definition_id == p.definition_id)
        .cloned()
    else {
        return respond(400, &json!({"message": "unknown definition"}));
    };
    let creds = def.oauth_credentials.clone().unwrap_or_default();
    let (param, value) = match st.config.callback_style {
        CallbackStyle::SecretId | CallbackStyle::ServerSideSecretId => {
            let secret = st.id("secret-");
            st.oauth_secrets.insert(secret.clone(), creds);
            let name = if st.config.callback_style == CallbackStyle::SecretId {
                "secret_id"
            } else {
                "server_side_oauth_secret_id"
            };
            (name, secret)
        }
        CallbackStyle::ConnectorId => {
            let id = st.id("");
            st.connectors.push(StoredConnector {
                id: id.clone(),
                organization_id: p.organization_id.clone(),
                workspace_name: p.workspace_name.clone(),
                definition_id: p.definition_id.clone(),
                name: p
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{} - {}", def.descriptor.name, p.workspace_name)),
                credentials: creds,
                replication_config: p.replication_config.clone(),
                source_template_id: None,
            });
            ("connector_id", id)
        }
    };
    let sep = if p.redirect_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let location = format!("{}{sep}{param}={}", p.redirect_url, encode(&value));
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = hyper::StatusCode::FOUND;
    if let Ok(v) = hyper::header::HeaderValue::from_str(&location) {
        r.headers_mut().insert(hyper::header::LOCATION, v);
    }
    r
}

fn list_workspaces(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
    let q = query_pairs(&rec.query);
    let st = shared.lock();
    let mut all = st.workspaces.get(org).cloned().unwrap_or_default();
    if let Some((_, part)) = q.iter().find(|(k, _)| k == "name_contains") {
        all.retain(|(_, name)| name.contains(part.as_str()));
    }
    let size = st.config.workspace_page_size.max(1);
    let offset = match q.iter().find(|(k, _)| k == "cursor") {
        None => 0,
        Some((_, c)) => match c.strip_prefix("wsc-").and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n <= all.len() => n,
            _ => return respond(400, &json!({"message": "invalid cursor"})),
        },
    };
    let data: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(size)
        .map(|(id, name)| json!({"id": id, "name": name, "organization_id": org}))
        .collect();
    let more = offset + size < all.len();
    respond(
        200,
        &json!({
            "data": data,
            "has_more": more,
            "next_cursor": if more { json!(format!("wsc-{}", offset + size)) } else { Value::Null },
        }),
    )
}

fn create_template(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
    let body = match json_body(rec) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (Some(def), Some(name)) = (
        body.get("actor_definition_id").and_then(Value::as_str),
        body.get("name").and_then(Value::as_str),
    ) else {
        return errors(422, "actor_definition_id and name are required");
    };
    if body.get("mode").and_then(Value::as_str) != Some("DIRECT") {
        return errors(422, "mode must be DIRECT");
    }
    let mut st = shared.lock();
    if st.templates.iter().any(|t| {
        t.organization_id == org && t.value.get("name").and_then(Value::as_str) == Some(name)
    }) {
        return respond(
            409,
            &json!({"message": format!("Source template with name '{name}' already exists")}),
        );
    }
    let id = st.id("tpl-");
    let value = json!({
        "id": id,
        "name": name,
        "actor_definition_id": def,
        "mode": "DIRECT",
        "partial_default_config": body.get("partial_default_config").cloned().unwrap_or(json!({})),
    });
    if let Value::Object(m) = &value {
        st.templates.push(Template {
            organization_id: org.to_string(),
            value: m.clone(),
        });
    }
    respond(201, &value)
}

fn scoped_token(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
    let body = match json_body(rec) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(ws) = body.get("workspace_name").and_then(Value::as_str) else {
        return errors(422, "workspace_name is required");
    };
    let region = body
        .get("region_id")
        .and_then(Value::as_str)
        .unwrap_or(REGION_US);
    if region != REGION_US && region != REGION_EU {
        return respond(
            422,
            &json!({"detail": [{"loc": ["body", "region_id"], "msg": "unknown region"}]}),
        );
    }
    let mut st = shared.lock();
    if !workspace_exists(&st, org, ws) {
        return workspace_missing(ws);
    }
    let field = st.config.scoped_token_field;
    let token = format!(
        "scoped-{}-{}",
        if region == REGION_EU { "eu" } else { "us" },
        st.id("")
    );
    st.embedded
        .scoped
        .insert(token.clone(), (org.to_string(), ws.to_string()));
    let mut out = Map::new();
    out.insert(field.to_string(), json!(token));
    out.insert("expires_in".into(), json!(1200));
    respond(200, &Value::Object(out))
}

async fn execute(shared: &Arc<Shared>, rec: &Recorded, org: &str, id: &str) -> Resp {
    shared.execute_requests.fetch_add(1, Ordering::SeqCst);
    let body = match json_body(rec) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (Some(entity), Some(action)) = (
        body.get("entity").and_then(Value::as_str),
        body.get("action").and_then(Value::as_str),
    ) else {
        return errors(422, "entity and action are required");
    };
    let params = match body.get("params") {
        None | Some(Value::Null) => json!({}),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(_) => return errors(422, "params must be an object"),
    };
    let client = {
        let mut st = shared.lock();
        let Some(c) = st
            .connectors
            .iter()
            .find(|c| c.id == id && c.organization_id == org)
            .cloned()
        else {
            return respond(404, &json!({"detail": format!("Connector {id} not found")}));
        };
        if action == "context_store_search" {
            return context_search(&st, entity, &params);
        }
        match st.clients.get(id) {
            Some(cl) => cl.clone(),
            None => {
                let Some(def) = st
                    .definitions
                    .iter()
                    .find(|d| d.descriptor.definition_id == c.definition_id)
                    .cloned()
                else {
                    return respond(500, &json!({"message": "definition vanished"}));
                };
                let Some(scheme) = scheme_for(def.descriptor, &c.credentials) else {
                    return errors(422, "stored credentials match no auth option");
                };
                let mut creds = Credentials::for_scheme(scheme);
                for (k, v) in &c.credentials {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    creds.insert(k.clone(), text);
                }
                let built = Client::builder(def.descriptor, creds)
                    .base_url(def.provider_base_url.clone())
                    .retry_policy(RetryPolicy::none())
                    .build();
                match built {
                    Ok(cl) => {
                        st.clients.insert(id.to_string(), cl.clone());
                        cl
                    }
                    Err(e) => return respond(500, &json!({"message": e.to_string()})),
                }
            }
        }
    };
    match client.execute(entity, action, params).await {
        Ok(r) => {
            let mut out = Map::new();
            out.insert("result".into(), r.data);
            if let Some(m) = r.meta {
                out.insert("connector_metadata".into(), Value::Object(m));
            }
            respond(200, &Value::Object(out))
        }
        Err(e) if e.is_validation() => errors(422, &e.to_string()),
        Err(e) => match e.status() {
            Some(s @ (400 | 404 | 422 | 429)) => errors(s, &e.message()),
            Some(s) => respond(
                502,
                &json!({"message": format!("provider answered HTTP {s}: {}", e.message())}),
            ),
            None => respond(502, &json!({"message": e.to_string()})),
        },
    }
}

fn context_search(st: &State, entity: &str, params: &Value) -> Resp {
    let Some(records) = st.context_store.get(entity) else {
        return errors(
            422,
            &format!("entity '{entity}' is not in the context store"),
        );
    };
    let filter_eq = params
        .pointer("/query/filter/eq")
        .and_then(Value::as_object);
    let matching: Vec<&Value> = records
        .iter()
        .filter(|r| filter_eq.is_none_or(|f| f.iter().all(|(k, v)| r.get(k) == Some(v))))
        .collect();
    let limit = params
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(10)
        .max(1) as usize;
    let offset: usize = params
        .get("cursor")
        .and_then(Value::as_str)
        .and_then(|c| c.strip_prefix("cs-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let data: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| (*v).clone())
        .collect();
    let more = offset + limit < matching.len();
    respond(
        200,
        &json!({"result": {"data": data, "meta": {
            "has_more": more,
            "cursor": if more { json!(format!("cs-{}", offset + limit)) } else { Value::Null },
            "took_ms": 3,
        }}}),
    )
}
