//! Embedded API of the double (`/api/v1/embedded/...` except `scoped-token`).
//!
//! Wire shapes (the same the runtime's `hosted::embedded` module sends):
//! - `POST widget-token` (application token) `{workspace_name, allowed_origin, region_id?}` →
//!   `{token, widget_url}`;
//! - `GET templates/sources?tags=..&tags_mode=any|all` (scoped token) → `{data: [template]}`;
//! - `PATCH templates/sources/{id}` (application token) `{customization: {stream_selection_mode,
//!   stream_whitelist?}}` → template; whitelist names must be streams of the connector;
//! - `POST sources` (scoped token) `{source_template_id, name?, source_config,
//!   selected_connection_template_tags?, selected_connection_template_tags_mode?}` → source; the
//!   template's `partial_default_config` plus `source_config` must satisfy an auth option;
//! - `GET sources/{id}/discover` (either token) → `{streams: [{name, suggested}]}`;
//! - `GET|POST template-tags`, `PATCH|DELETE template-tags/{name}`,
//!   `POST templates/sources/{id}/tags`, `DELETE templates/sources/{id}/tags/{name}`.

#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::handlers::common::{Resp, errors, json_body, query_pairs, respond};
use super::handlers::tokens::authenticate;
use super::{Recorded, Shared, State, StoredConnector};

/// Embedded-API state of the double.
#[derive(Default)]
pub(crate) struct EmbeddedState {
    /// Scoped token → (organization, workspace).
    pub(crate) scoped: BTreeMap<String, (String, String)>,
    /// (organization, tag) → present.
    tags: BTreeSet<(String, String)>,
    /// Template id → tags.
    template_tags: BTreeMap<String, BTreeSet<String>>,
    /// Template id → customization.
    customization: BTreeMap<String, (String, Vec<String>)>,
    /// Source id → selected tags.
    source_tags: BTreeMap<String, Vec<String>>,
}

enum Caller {
    App(String),
    Scoped(String, String),
}

impl Caller {
    fn org(&self) -> &str {
        match self {
            Caller::App(o) | Caller::Scoped(o, _) => o,
        }
    }
}

fn caller(st: &State, rec: &Recorded) -> Result<Caller, Resp> {
    if let Some(t) = rec
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        && let Some((org, ws)) = st.embedded.scoped.get(t)
    {
        return Ok(Caller::Scoped(org.clone(), ws.clone()));
    }
    authenticate(st, rec).map(Caller::App)
}

fn needs_app(c: &Caller) -> Result<&str, Resp> {
    match c {
        Caller::App(o) => Ok(o),
        Caller::Scoped(..) => Err(respond(
            403,
            &json!({"message": "this operation needs an application token, not a scoped token"}),
        )),
    }
}

fn needs_scoped(c: &Caller) -> Result<(&str, &str), Resp> {
    match c {
        Caller::Scoped(o, w) => Ok((o, w)),
        Caller::App(_) => Err(respond(
            403,
            &json!({"message": "this operation needs a workspace-scoped token"}),
        )),
    }
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

fn template_json(st: &State, value: &Map<String, Value>) -> Value {
    let id = value.get("id").and_then(Value::as_str).unwrap_or("");
    let mut v = value.clone();
    // Defaulted values are never echoed to end users.
    if let Some(Value::Object(cfg)) = v.get_mut("partial_default_config") {
        for val in cfg.values_mut() {
            *val = json!("**********");
        }
    }
    let (mode, list) = st
        .embedded
        .customization
        .get(id)
        .cloned()
        .unwrap_or_else(|| ("suggested".into(), Vec::new()));
    v.insert("stream_selection_mode".into(), mode.into());
    v.insert("stream_whitelist".into(), list.into());
    let tags: Vec<String> = st
        .embedded
        .template_tags
        .get(id)
        .map(|t| t.iter().cloned().collect())
        .unwrap_or_default();
    v.insert("tags".into(), tags.into());
    Value::Object(v)
}

fn find_template<'a>(st: &'a State, org: &str, id: &str) -> Option<&'a Map<String, Value>> {
    st.templates
        .iter()
        .find(|t| t.organization_id == org && t.value.get("id").and_then(Value::as_str) == Some(id))
        .map(|t| &t.value)
}

fn streams_of(st: &State, definition_id: &str) -> Option<Vec<Value>> {
    st.definitions
        .iter()
        .find(|d| d.descriptor.definition_id == definition_id)
        .map(|d| {
            d.descriptor
                .entities
                .iter()
                .map(|e| {
                    let suggested = e.operations.iter().any(|o| o.action == "list");
                    json!({"name": e.name, "suggested": suggested})
                })
                .collect()
        })
}

pub(crate) fn route(shared: &Arc<Shared>, rec: &Recorded) -> Resp {
    let mut st = shared.lock();
    let who = tri!(caller(&st, rec));
    let segs: Vec<&str> = rec
        .path
        .trim_start_matches("/api/v1/embedded/")
        .split('/')
        .collect();
    match (rec.method.as_str(), segs.as_slice()) {
        ("POST", ["widget-token"]) => {
            let org = tri!(needs_app(&who)).to_string();
            let body = tri!(json_body(rec));
            let s = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
            let ws = s("workspace_name");
            if !st
                .workspaces
                .get(&org)
                .is_some_and(|w| w.iter().any(|(_, n)| n == ws))
            {
                return respond(
                    404,
                    &json!({"detail": format!("Workspace '{ws}' not found")}),
                );
            }
            let origin = s("allowed_origin");
            if !(origin.starts_with("https://") || origin.starts_with("http://")) {
                return errors(422, "allowed_origin must be an http(s) origin");
            }
            let token = format!("widget-{}", st.id(""));
            st.embedded
                .scoped
                .insert(token.clone(), (org, ws.to_string()));
            respond(
                200,
                &json!({"token": token, "widget_url": "https://app.airbyte.ai/embedded-widget"}),
            )
        }
        ("GET", ["templates", "sources"]) => {
            let (org, _) = tri!(needs_scoped(&who));
            let q = query_pairs(&rec.query);
            let wanted: Vec<&str> = q
                .iter()
                .filter(|(k, _)| k == "tags")
                .map(|(_, v)| v.as_str())
                .collect();
            let mode = q
                .iter()
                .find(|(k, _)| k == "tags_mode")
                .map(|(_, v)| v.as_str())
                .unwrap_or("any");
            if mode != "any" && mode != "all" {
                return errors(422, "tags_mode must be `any` or `all`");
            }
            let data: Vec<Value> = st
                .templates
                .iter()
                .filter(|t| t.organization_id == org)
                .filter(|t| {
                    if wanted.is_empty() {
                        return true;
                    }
                    let id = t.value.get("id").and_then(Value::as_str).unwrap_or("");
                    let has = st.embedded.template_tags.get(id);
                    let has = |w: &&str| has.is_some_and(|h| h.contains(*w));
                    if mode == "all" {
                        wanted.iter().all(has)
                    } else {
                        wanted.iter().any(has)
                    }
                })
                .map(|t| template_json(&st, &t.value))
                .collect();
            respond(200, &json!({"data": data}))
        }
        ("PATCH", ["templates", "sources", id]) => {
            let org = tri!(needs_app(&who)).to_string();
            let body = tri!(json_body(rec));
            let Some(t) = find_template(&st, &org, id).cloned() else {
                return respond(
                    404,
                    &json!({"detail": format!("Source template {id} not found")}),
                );
            };
            let Some(c) = body.get("customization").and_then(Value::as_object) else {
                return errors(422, "customization is required");
            };
            let mode = c
                .get("stream_selection_mode")
                .and_then(Value::as_str)
                .unwrap_or("");
            let list: Vec<String> = c
                .get("stream_whitelist")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            match mode {
                "suggested" | "all" => {}
                "whitelist" => {
                    if list.is_empty() {
                        return errors(422, "stream_whitelist must not be empty in whitelist mode");
                    }
                    let def = t
                        .get("actor_definition_id")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let streams = streams_of(&st, def).unwrap_or_default();
                    let names: Vec<&str> = streams
                        .iter()
                        .filter_map(|s| s.get("name").and_then(Value::as_str))
                        .collect();
                    if let Some(bad) = list.iter().find(|w| !names.contains(&w.as_str())) {
                        return errors(422, &format!("unknown stream '{bad}'"));
                    }
                }
                other => {
                    return errors(
                        422,
                        &format!(
                            "stream_selection_mode '{other}' is not one of suggested, all, whitelist"
                        ),
                    );
                }
            }
            let keep = if mode == "whitelist" {
                list
            } else {
                Vec::new()
            };
            st.embedded
                .customization
                .insert(id.to_string(), (mode.to_string(), keep));
            respond(200, &template_json(&st, &t))
        }
        ("POST", ["sources"]) => {
            let (org, ws) = tri!(needs_scoped(&who));
            let (org, ws) = (org.to_string(), ws.to_string());
            let body = tri!(json_body(rec));
            let Some(tid) = body.get("source_template_id").and_then(Value::as_str) else {
                return errors(422, "source_template_id is required");
            };
            let Some(t) = find_template(&st, &org, tid).cloned() else {
                return errors(422, &format!("unknown source template {tid}"));
            };
            let def_id = t
                .get("actor_definition_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let Some(def) = st
                .definitions
                .iter()
                .find(|d| d.descriptor.definition_id == def_id)
                .cloned()
            else {
                return errors(422, &format!("unknown connector definition {def_id}"));
            };
            let mut config = t
                .get("partial_default_config")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            match body.get("source_config") {
                Some(Value::Object(c)) => config.extend(c.clone()),
                None => {}
                Some(_) => return errors(422, "source_config must be an object"),
            }
            let satisfied = def.descriptor.auth_schemes.iter().any(|s| {
                !s.fields.is_empty()
                    && s.fields
                        .iter()
                        .all(|f| !f.required || config.contains_key(f.name))
            });
            if !satisfied {
                let missing: Vec<&str> = def
                    .descriptor
                    .auth_schemes
                    .first()
                    .map(|s| {
                        s.fields
                            .iter()
                            .filter(|f| f.required && !config.contains_key(f.name))
                            .map(|f| f.name)
                            .collect()
                    })
                    .unwrap_or_default();
                return errors(
                    422,
                    &format!(
                        "source_config is missing required field(s): {}",
                        missing.join(", ")
                    ),
                );
            }
            let tags: Vec<String> = match body.get("selected_connection_template_tags") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                Some(_) => {
                    return errors(422, "selected_connection_template_tags must be an array");
                }
            };
            let mode = body
                .get("selected_connection_template_tags_mode")
                .and_then(Value::as_str)
                .unwrap_or("any");
            if mode != "any" && mode != "all" {
                return errors(
                    422,
                    "selected_connection_template_tags_mode must be `any` or `all`",
                );
            }
            if let Some(bad) = tags
                .iter()
                .find(|t| !st.embedded.tags.contains(&(org.clone(), (*t).clone())))
            {
                return errors(422, &format!("unknown template tag '{bad}'"));
            }
            let id = st.id("");
            let name = body
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{} - {ws}", def.descriptor.name));
            st.connectors.push(StoredConnector {
                id: id.clone(),
                organization_id: org,
                workspace_name: ws.clone(),
                definition_id: def_id,
                name: name.clone(),
                credentials: config,
                replication_config: None,
                source_template_id: Some(tid.to_string()),
            });
            st.embedded.source_tags.insert(id.clone(), tags.clone());
            respond(
                201,
                &json!({
                    "id": id,
                    "name": name,
                    "source_template_id": tid,
                    "workspace_name": ws,
                    "selected_connection_template_tags": tags,
                    "selected_connection_template_tags_mode": mode,
                }),
            )
        }
        ("GET", ["sources", id, "discover"]) => {
            let org = who.org().to_string();
            let Some(c) = st.connectors.iter().find(|c| {
                c.id == *id
                    && c.organization_id == org
                    && match &who {
                        Caller::Scoped(_, ws) => &c.workspace_name == ws,
                        Caller::App(_) => true,
                    }
            }) else {
                return respond(404, &json!({"detail": format!("Source {id} not found")}));
            };
            let streams = streams_of(&st, &c.definition_id).unwrap_or_default();
            respond(200, &json!({"streams": streams}))
        }
        ("GET", ["template-tags"]) => {
            let org = tri!(needs_app(&who)).to_string();
            let data: Vec<Value> = st
                .embedded
                .tags
                .iter()
                .filter(|(o, _)| *o == org)
                .map(|(_, n)| tag_json(&st, n))
                .collect();
            respond(200, &json!({"data": data}))
        }
        ("POST", ["template-tags"]) => {
            let org = tri!(needs_app(&who)).to_string();
            let body = tri!(json_body(rec));
            let Some(name) = body
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            else {
                return errors(422, "name is required");
            };
            if !st.embedded.tags.insert((org, name.to_string())) {
                return respond(
                    409,
                    &json!({"message": format!("Template tag '{name}' already exists")}),
                );
            }
            respond(201, &tag_json(&st, name))
        }
        ("PATCH", ["template-tags", name]) => {
            let org = tri!(needs_app(&who)).to_string();
            let body = tri!(json_body(rec));
            let Some(new) = body
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            else {
                return errors(422, "name is required");
            };
            if !st.embedded.tags.remove(&(org.clone(), name.to_string())) {
                return respond(
                    404,
                    &json!({"detail": format!("Template tag '{name}' not found")}),
                );
            }
            st.embedded.tags.insert((org, new.to_string()));
            for t in st.embedded.template_tags.values_mut() {
                if t.remove(*name) {
                    t.insert(new.to_string());
                }
            }
            respond(200, &tag_json(&st, new))
        }
        ("DELETE", ["template-tags", name]) => {
            let org = tri!(needs_app(&who)).to_string();
            if !st.embedded.tags.remove(&(org, name.to_string())) {
                return respond(
                    404,
                    &json!({"detail": format!("Template tag '{name}' not found")}),
                );
            }
            for t in st.embedded.template_tags.values_mut() {
                t.remove(*name);
            }
            respond(204, &Value::Null)
        }
        ("POST", ["templates", "sources", id, "tags"]) => {
            let org = tri!(needs_app(&who)).to_string();
            let body = tri!(json_body(rec));
            let name = body.get("name").and_then(Value::as_str).unwrap_or("");
            if find_template(&st, &org, id).is_none() {
                return respond(
                    404,
                    &json!({"detail": format!("Source template {id} not found")}),
                );
            }
            if !st.embedded.tags.contains(&(org, name.to_string())) {
                return errors(422, &format!("unknown template tag '{name}'"));
            }
            st.embedded
                .template_tags
                .entry(id.to_string())
                .or_default()
                .insert(name.to_string());
            respond(200, &json!({}))
        }
        ("DELETE", ["templates", "sources", id, "tags", name]) => {
            tri!(needs_app(&who));
            let removed = st
                .embedded
                .template_tags
                .get_mut(*id)
                .is_some_and(|t| t.remove(*name));
            if removed {
                respond(204, &Value::Null)
            } else {
                respond(
                    404,
                    &json!({"detail": format!("template {id} has no tag '{name}'")}),
                )
            }
        }
        _ => respond(404, &json!({"detail": "Not Found"})),
    }
}

fn tag_json(st: &State, name: &str) -> Value {
    let ids: Vec<&String> = st
        .embedded
        .template_tags
        .iter()
        .filter(|(_, t)| t.contains(name))
        .map(|(id, _)| id)
        .collect();
    json!({"name": name, "template_ids": ids})
}

/// Tags a source was created with (for tests).
pub(crate) fn source_tags(st: &State, id: &str) -> Option<Vec<String>> {
    st.embedded.source_tags.get(id).cloned()
}
