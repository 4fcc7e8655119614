//! `POST /api/v1/integrations/connectors/{id}/execute`: the operation runs through the direct-mode
//! runtime against the provider double, with the credentials stored at creation; the hosted-only
//! `context_store_search` action is answered from the records given to the builder.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use airbyte_agent_runtime::{Client, Credentials, RetryPolicy};
use serde_json::{Map, Value, json};

use super::common::{Resp, errors, json_body, respond};
use super::connectors::scheme_for;
use crate::airbyte_double::{Recorded, Shared, State};

pub(crate) async fn execute(shared: &Arc<Shared>, rec: &Recorded, org: &str, id: &str) -> Resp {
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
