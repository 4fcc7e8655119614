//! `POST /api/v1/embedded/scoped-token`: workspace-scoped tokens by region, under the field name
//! the configuration chooses (`token` or `access_token`).

use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::common::{Resp, errors, json_body, respond};
use super::workspaces::{workspace_exists, workspace_missing};
use crate::airbyte_double::{Recorded, Shared};

const REGION_US: &str = "645a183f-b12b-4c6e-8ad3-99e165603450";
const REGION_EU: &str = "b9e48d61-f082-4a14-a8d0-799a907938cb";

pub(crate) fn scoped_token(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
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
