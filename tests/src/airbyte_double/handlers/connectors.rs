//! Connectors: lookup and listing (`next`-URL pagination), creation with credentials or an OAuth
//! secret (auth option inferred from the fields, required replication keys, source templates),
//! and deletion.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use serde_json::{Map, Value, json};

use super::common::{Resp, encode, errors, json_body, query_pairs, respond};
use super::workspaces::{workspace_exists, workspace_missing};
use crate::airbyte_double::{Recorded, Shared, State, StoredConnector};

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

pub(crate) fn list_connectors(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
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

pub(crate) fn scheme_for(
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

pub(crate) fn create_connector(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
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

pub(crate) fn delete_connector(shared: &Arc<Shared>, org: &str, id: &str) -> Resp {
    let mut st = shared.lock();
    let before = st.connectors.len();
    st.connectors
        .retain(|c| !(c.id == id && c.organization_id == org));
    if st.connectors.len() == before {
        return respond(404, &json!({"detail": "Connector not found"}));
    }
    st.clients.remove(id);
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = hyper::StatusCode::ACCEPTED;
    r
}
