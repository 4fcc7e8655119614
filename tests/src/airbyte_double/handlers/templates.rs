//! Source templates: listing and idempotent-by-name registration (`mode` must be `DIRECT`;
//! "already exists" on a duplicate name).

use std::sync::Arc;

use serde_json::{Value, json};

use super::common::{Resp, errors, json_body, respond};
use crate::airbyte_double::{Recorded, Shared, Template};

pub(crate) fn list_templates(shared: &Arc<Shared>, org: &str) -> Resp {
    let st = shared.lock();
    let data: Vec<Value> = st
        .templates
        .iter()
        .filter(|t| t.organization_id == org)
        .map(|t| Value::Object(t.value.clone()))
        .collect();
    respond(200, &json!({"data": data}))
}

pub(crate) fn create_template(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
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
