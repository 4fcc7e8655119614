//! The `connector_info` tool: what a model asks before calling, so it need not guess. Without
//! `entity` it lists every served connector's entities and their actions; with `entity` it
//! gives that entity's actions (the tool that runs each, its parameters as the JSON Schema the
//! tool validates against, read-only/destructive hints) and the fields of its records.
//!
//! Parameters come from the descriptors, as every tool's schema does. Record fields are not in
//! the descriptors: they come from each compiled-in connector crate's `api.json` (its public
//! API summary, generated with the crate), embedded here per connector feature.

use airbyte_agent_runtime::descriptor::{ActionKind, EntityDescriptor, OperationDescriptor};
use airbyte_agent_runtime::serde_json::{self, Map, Value, json};
use airbyte_agent_runtime::tools::{
    ConnectorTools, ToolAnnotations, ToolTarget, action_description, action_schema,
};

/// The tool's name (not prefixed: there is one for all served connectors).
pub(super) const NAME: &str = "connector_info";

macro_rules! api_summaries {
    ($($name:literal),* $(,)?) => {
        /// The `api.json` of a compiled-in connector, by descriptor name.
        fn api_json(connector: &str) -> Option<&'static str> {
            $(
                #[cfg(feature = $name)]
                if connector == $name {
                    return Some(include_str!(concat!(
                        "../../../connectors/airbyte-agent-", $name, "/api.json"
                    )));
                }
            )*
            let _ = connector;
            None
        }
    };
}

// One line per connector feature of this crate (a test checks every compiled-in connector has
// its summary).
api_summaries!(
    "airtable",
    "amazon-ads",
    "asana",
    "facebook-marketing",
    "github",
    "gong",
    "google-drive",
    "greenhouse",
    "hubspot",
    "intercom",
    "jira",
    "klaviyo",
    "linear",
    "mailchimp",
    "notion",
    "orb",
    "pylon",
    "salesforce",
    "shopify",
    "slack",
    "stripe",
    "zendesk-chat",
    "zendesk-support",
);

/// Description and input schema of the tool for the served connectors.
pub(super) fn definition(catalog: &[ConnectorTools]) -> (String, Value) {
    let names: Vec<&str> = catalog.iter().map(|c| c.descriptor().name).collect();
    let description = format!(
        "Describe the served connectors before calling their tools. Without `entity`: every \
         entity and its actions. With `entity`: its actions (the tool that runs each, its \
         parameters as a JSON Schema, whether it writes) and the fields of its records (the names \
         the combined tool's `select_fields` takes). Read-only; sends no request. \
         Connectors: {}.",
        names.join(", ")
    );
    let mut connector = json!({
        "type": "string",
        "enum": names,
        "description": "The connector to describe.",
    });
    if names.len() == 1 {
        connector["default"] = json!(names[0]);
    }
    let schema = json!({
        "type": "object",
        "properties": {
            "connector": connector,
            "entity": {
                "type": "string",
                "description": "An entity of the connector (see the overview); omit for the overview.",
            },
        },
        "additionalProperties": false,
    });
    (description, schema)
}

/// What a call answers: the structured result and its one-line summary, or an error message
/// for the model.
pub(super) fn call(
    catalog: &[ConnectorTools],
    args: &Map<String, Value>,
) -> Result<(Value, String), String> {
    let names = || {
        catalog
            .iter()
            .map(|c| c.descriptor().name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(extra) = args
        .keys()
        .find(|k| !matches!(k.as_str(), "connector" | "entity"))
    {
        return Err(format!(
            "`{NAME}` takes only `connector` and `entity`; unexpected `{extra}`."
        ));
    }
    let text_arg = |key: &str| match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(format!("`{key}` must be a string.")),
    };
    let connector = text_arg("connector")?;
    let entity = text_arg("entity")?;
    let chosen: Vec<&ConnectorTools> = match connector {
        Some(name) => {
            let norm = |s: &str| s.to_ascii_lowercase().replace('_', "-");
            let found = catalog
                .iter()
                .find(|c| norm(c.descriptor().name) == norm(name))
                .ok_or_else(|| {
                    format!(
                        "Unknown connector `{name}`. Served connectors: {}.",
                        names()
                    )
                })?;
            vec![found]
        }
        None => catalog.iter().collect(),
    };
    match entity {
        None => Ok(overview(&chosen)),
        Some(entity) => {
            let [tools] = chosen.as_slice() else {
                return Err(format!(
                    "Several connectors are served; name one with `connector` ({}).",
                    names()
                ));
            };
            let d = tools.descriptor();
            let e = d.entity(entity).ok_or_else(|| {
                let all: Vec<&str> = d.entities.iter().map(|e| e.name).collect();
                format!(
                    "`{}` has no entity `{entity}`. Entities: {}.",
                    d.name,
                    all.join(", ")
                )
            })?;
            Ok(entity_info(tools, e))
        }
    }
}

fn overview(chosen: &[&ConnectorTools]) -> (Value, String) {
    let mut connectors = Vec::new();
    let mut lines = Vec::new();
    for tools in chosen {
        let d = tools.descriptor();
        let entities: Vec<Value> = d
            .entities
            .iter()
            .map(|e| {
                json!({
                    "name": e.name,
                    "description": first_line(e.description),
                    "actions": e.operations.iter().map(|o| o.action).collect::<Vec<_>>(),
                })
            })
            .collect();
        lines.push(format!("{}: {} entities", d.name, d.entities.len()));
        connectors.push(json!({
            "name": d.name,
            "title": d.title,
            "entities": entities,
        }));
    }
    let summary = format!(
        "{}. Call {NAME} with `entity` for an entity's actions, parameters and fields; the \
         overview is in structuredContent.connectors.",
        lines.join("; ")
    );
    (json!({ "connectors": connectors }), summary)
}

fn entity_info(tools: &ConnectorTools, e: &'static EntityDescriptor) -> (Value, String) {
    let d = tools.descriptor();
    let api = api_json(d.name).and_then(|text| serde_json::from_str::<Value>(text).ok());
    let api_entity = api
        .as_ref()
        .and_then(|a| a.get("entities"))
        .and_then(|m| m.get(e.name));
    let mut actions = Vec::new();
    let mut runs = Vec::new();
    for op in e.operations {
        let annotations = ToolAnnotations::for_operation(op);
        let mut action = json!({
            "action": op.action,
            "description": action_description(d, op),
            "read_only": annotations.read_only,
            "destructive": annotations.destructive,
            "parameters": action_schema(d, op),
        });
        let call = how_to_call(tools, op);
        if let Some(name) = call.get("tool").and_then(Value::as_str) {
            runs.push(format!("{} ({name})", op.action));
        }
        action["call"] = call;
        if let Some(output) = api_entity
            .and_then(|a| a.pointer(&format!("/actions/{}/output", op.action)))
            .filter(|o| !o.is_null())
        {
            action["output"] = output.clone();
        }
        actions.push(action);
    }
    let fields = record_fields(e, api_entity);
    let field_names: Vec<&str> = fields
        .as_ref()
        .map(|f| f.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let summary = format!(
        "{}.{}: actions {}; {}. Details in structuredContent.",
        d.name,
        e.name,
        runs.join(", "),
        if field_names.is_empty() {
            "record fields unknown".to_string()
        } else {
            format!("record fields: {}", field_names.join(", "))
        }
    );
    let value = json!({
        "connector": d.name,
        "entity": e.name,
        "description": e.description,
        "actions": actions,
        "fields": fields.map_or(Value::Null, Value::Object),
    });
    (value, summary)
}

/// The tool that runs `op` here: its own tool, or the combined tool with `entity`/`action`.
fn how_to_call(tools: &ConnectorTools, op: &'static OperationDescriptor) -> Value {
    let own = tools
        .tools()
        .iter()
        .find(|t| matches!(t.target, ToolTarget::Action(o) if std::ptr::eq(o, op)));
    if let Some(t) = own {
        return json!({ "tool": t.name });
    }
    let combined = tools
        .tools()
        .iter()
        .find(|t| matches!(t.target, ToolTarget::Combined));
    match combined {
        Some(t) => json!({
            "tool": t.name,
            "arguments": {"entity": op.entity, "action": op.action, "params": {}},
        }),
        None => Value::Null,
    }
}

/// The record fields of an entity (name → type as the Rust crate declares it), from the first
/// action that reads records (get, then list, search, any other).
fn record_fields(e: &EntityDescriptor, api_entity: Option<&Value>) -> Option<Map<String, Value>> {
    let rank = |k: ActionKind| match k {
        ActionKind::Get => 0,
        ActionKind::List => 1,
        ActionKind::Search => 2,
        _ => 3,
    };
    let mut ops: Vec<&OperationDescriptor> = e.operations.iter().collect();
    ops.sort_by_key(|o| rank(o.kind));
    ops.iter().find_map(|op| {
        api_entity?
            .pointer(&format!("/actions/{}/record_fields", op.action))?
            .as_object()
            .filter(|m| !m.is_empty())
            .cloned()
    })
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compiled_in_connector_has_its_api_summary() {
        for d in crate::registry::connectors() {
            let text = api_json(d.name).unwrap_or_else(|| panic!("{}: no api.json line", d.name));
            let api: Value =
                serde_json::from_str(text).unwrap_or_else(|e| panic!("{}: {e}", d.name));
            assert_eq!(api["connector"], d.name);
            for e in d.entities {
                for op in e.operations {
                    assert!(
                        api.pointer(&format!("/entities/{}/actions/{}", e.name, op.action))
                            .is_some(),
                        "{}.{}.{} missing from api.json",
                        d.name,
                        e.name,
                        op.action
                    );
                }
            }
        }
    }
}
