//! OAuth: consent initiation, the consent page that redirects in the configured callback style,
//! and the organization's OAuth-app overrides (`/api/v1/oauth/credentials`).

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use serde_json::{Value, json};

use super::common::{Resp, encode, errors, json_body, query_pairs, respond};
use super::workspaces::{workspace_exists, workspace_missing};
use crate::airbyte_double::{CallbackStyle, PendingOAuth, Recorded, Shared, StoredConnector};

pub(crate) fn initiate_oauth(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
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

pub(crate) fn consent(shared: &Arc<Shared>, rec: &Recorded) -> Resp {
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

pub(crate) fn set_oauth_app(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
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
        .insert((org.to_string(), t.to_string()), cfg.clone());
    respond(200, &json!({"connector_type": t}))
}

pub(crate) fn reset_oauth_app(shared: &Arc<Shared>, org: &str, connector_type: &str) -> Resp {
    match shared
        .lock()
        .oauth_apps
        .remove(&(org.to_string(), connector_type.to_string()))
    {
        Some(_) => respond(200, &json!({})),
        None => respond(
            404,
            &json!({"detail": format!("no OAuth override for {connector_type}")}),
        ),
    }
}
