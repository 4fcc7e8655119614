//! Workspaces: the cursor-paginated list (with `name_contains`), creation ("already exists" on a
//! duplicate name), and the existence check the connector, OAuth and token endpoints share.

use std::sync::Arc;

use serde_json::{Value, json};

use super::common::{Resp, errors, json_body, query_pairs, respond};
use crate::airbyte_double::{Recorded, Shared, State};

pub(crate) fn workspace_exists(st: &State, org: &str, name: &str) -> bool {
    st.workspaces
        .get(org)
        .is_some_and(|w| w.iter().any(|(_, n)| n == name))
}

pub(crate) fn workspace_missing(name: &str) -> Resp {
    respond(
        404,
        &json!({"detail": format!("Workspace '{name}' not found")}),
    )
}

pub(crate) fn list_workspaces(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
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

pub(crate) fn create_workspace(shared: &Arc<Shared>, rec: &Recorded, org: &str) -> Resp {
    let body = match json_body(rec) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(name) = body.get("name").and_then(Value::as_str) else {
        return errors(422, "name is required");
    };
    let mut st = shared.lock();
    if workspace_exists(&st, org, name) {
        return respond(
            409,
            &json!({"message": format!("Workspace '{name}' already exists")}),
        );
    }
    let id = st.id("ws-");
    st.workspaces
        .entry(org.to_string())
        .or_default()
        .push((id.clone(), name.to_string()));
    respond(
        201,
        &json!({"id": id, "name": name, "organization_id": org}),
    )
}
