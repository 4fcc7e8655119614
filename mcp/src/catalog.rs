//! The `connector_info` tool: what a model asks before calling, so it need not guess. Without
//! `entity` it lists every served connector's entities and their actions; with `entity` it
//! gives that entity's actions (the tool that runs each, its parameters as the JSON Schema the
//! tool validates against, read-only/destructive hints) and the fields of its records.
//!
//! Everything comes from the descriptors, as the tools do: parameters are the schema each tool
//! validates against, record fields the properties of the record type its output schema
//! declares (the generator's record schemas), each with its JSON type.

use airbyte_agent_runtime::descriptor::{ActionKind, EntityDescriptor, OperationDescriptor};
use airbyte_agent_runtime::serde_json::{Map, Value, json};
use airbyte_agent_runtime::tools::{
    ConnectorTools, ToolAnnotations, ToolTarget, action_description, action_schema,
};

/// The tool's name (not prefixed: there is one for all served connectors).
pub(super) const NAME: &str = "connector_info";

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
        actions.push(action);
    }
    let fields = record_fields(tools, e);
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

/// The record fields of an entity (wire name → JSON Schema), from the first action that reads
/// records (get, then list, search, any other) and declares a record type.
fn record_fields(tools: &ConnectorTools, e: &EntityDescriptor) -> Option<Map<String, Value>> {
    let rank = |k: ActionKind| match k {
        ActionKind::Get => 0,
        ActionKind::List => 1,
        ActionKind::Search => 2,
        _ => 3,
    };
    let mut ops: Vec<&OperationDescriptor> = e.operations.iter().collect();
    ops.sort_by_key(|o| rank(o.kind));
    ops.iter().find_map(|op| {
        let tool = tools
            .tools()
            .iter()
            .find(|t| matches!(t.target, ToolTarget::Action(o) if std::ptr::eq(o, *op)))?;
        record_properties(&tool.output_schema)
    })
}

/// The properties of the record an output schema declares: the root object's, or those of the
/// definition the records of `data` refer to.
fn record_properties(output: &Value) -> Option<Map<String, Value>> {
    let root = output["properties"].as_object()?;
    let record = if root.contains_key("data") && root.contains_key("meta") {
        // `{anyOf: [list of records, record]}` for pages.
        let data = &root["data"];
        let one = data.pointer("/anyOf/1").unwrap_or(data);
        let name = one.get("items").unwrap_or(one).get("$ref")?.as_str()?;
        output["$defs"].get(name.strip_prefix("#/$defs/")?)?
    } else {
        output
    };
    record["properties"]
        .as_object()
        .filter(|m| !m.is_empty())
        .cloned()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_come_from_the_output_schema_of_a_record_reading_action() {
        let mut with_fields = 0;
        let connectors = [
            airbyte_agent_stripe::StripeConnector::descriptor(),
            airbyte_agent_github::GithubConnector::descriptor(),
        ];
        for d in connectors {
            let tools = ConnectorTools::new(d);
            for e in d.entities {
                if let Some(fields) = record_fields(&tools, e) {
                    assert!(
                        fields.values().all(Value::is_object),
                        "{}.{}",
                        d.name,
                        e.name
                    );
                    with_fields += 1;
                }
            }
        }
        assert!(
            with_fields > 20,
            "only {with_fields} entities with record fields"
        );
        let envelope = json!({"properties": {"data": {"anyOf": [{"items": {"$ref": "#/$defs/R"}}, {"$ref": "#/$defs/R"}]}, "meta": {}},
            "$defs": {"R": {"properties": {"id": {"type": ["string", "null"]}}}}});
        assert_eq!(record_properties(&envelope).map(|m| m.len()), Some(1));
        let untyped = json!({"type": "object", "properties": {"data": {}, "meta": {}}});
        assert_eq!(
            record_properties(&untyped),
            None,
            "an untyped page has no fields"
        );
    }
}
