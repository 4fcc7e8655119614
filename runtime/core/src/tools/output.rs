//! What a tool's successful result looks like: its structured content and the JSON Schema
//! declaring it (MCP `outputSchema`), from the record schemas the generator puts in the
//! descriptor.
//!
//! A list or search answers `{data: [records], meta}`; any other action its record (or
//! `{result: value}` when the result is not an object, as MCP wants an object). The schemas
//! accept whatever the typed records accept: every value may be `null` and unknown properties
//! are allowed.

use serde_json::{Map, Value, json};

use crate::descriptor::{ActionKind, ConnectorDescriptor, OperationDescriptor};
pub use crate::response::answers_envelope;

/// The record type schemas of a connector (`{}` when it has none or they cannot be read).
pub fn record_definitions(d: &ConnectorDescriptor) -> Map<String, Value> {
    match serde_json::from_str(d.record_schemas) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The structured form of a result value: an object as it is, anything else as
/// `{"result": value}`.
pub fn structured_content(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map),
        other => {
            let mut wrapped = Map::new();
            wrapped.insert("result".to_string(), other);
            Value::Object(wrapped)
        }
    }
}

/// The output schema of the tool running `op`: an object schema with the record types it
/// reaches under `$defs`.
pub fn output_schema(defs: &Map<String, Value>, op: &OperationDescriptor) -> Value {
    let mut data: Value = op
        .response
        .data_schema
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_else(|| json!({}));
    drop_unresolved(defs, &mut data);
    let mut root = if op.kind == ActionKind::Download {
        json!({"type": "object"})
    } else if answers_envelope(op) {
        json!({
            "type": "object",
            "properties": {"data": data, "meta": {"type": ["object", "null"]}},
        })
    } else {
        match object_schema(defs, &data) {
            Some(record) => record,
            None if data.as_object().is_some_and(Map::is_empty) => json!({"type": "object"}),
            None => json!({"type": "object", "properties": {"result": data}}),
        }
    };
    let mut used = Map::new();
    collect_refs(defs, &root, &mut used);
    if !used.is_empty() {
        root["$defs"] = Value::Object(used);
    }
    root
}

/// The schema of any result (the combined tool): an object.
pub fn any_output_schema() -> Value {
    json!({"type": "object"})
}

/// A record schema as a root object schema: the referenced definition, not nullable.
fn object_schema(defs: &Map<String, Value>, data: &Value) -> Option<Value> {
    let name = data.get("$ref")?.as_str()?.strip_prefix("#/$defs/")?;
    let mut def = defs.get(name)?.clone();
    def["type"] = json!("object");
    Some(def)
}

/// A `$ref` that names no definition becomes `{}` (anything), so the schema stays valid.
fn drop_unresolved(defs: &Map<String, Value>, schema: &mut Value) {
    match schema {
        Value::Object(m) => {
            let dangling = m.get("$ref").and_then(Value::as_str).is_some_and(|r| {
                r.strip_prefix("#/$defs/")
                    .is_none_or(|n| !defs.contains_key(n))
            });
            if dangling {
                *schema = json!({});
                return;
            }
            m.values_mut().for_each(|v| drop_unresolved(defs, v));
        }
        Value::Array(a) => a.iter_mut().for_each(|v| drop_unresolved(defs, v)),
        _ => {}
    }
}

fn collect_refs(defs: &Map<String, Value>, schema: &Value, out: &mut Map<String, Value>) {
    match schema {
        Value::Object(m) => {
            if let Some(name) = m
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                && !out.contains_key(name)
                && let Some(def) = defs.get(name)
            {
                out.insert(name.to_string(), def.clone());
                collect_refs(defs, def, out);
            }
            for (k, v) in m {
                if k != "$defs" {
                    collect_refs(defs, v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(defs, v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::{OperationDescriptor, ResponseDescriptor};

    const DEFS: &str = r##"{
        "Customer": {"type": ["object", "null"], "properties": {
            "id": {"type": ["string", "null"]},
            "address": {"$ref": "#/$defs/Address"}
        }},
        "Address": {"type": ["object", "null"], "properties": {"city": {"type": ["string", "null"]}}},
        "Unused": {"type": ["object", "null"], "properties": {}}
    }"##;

    fn op(kind: ActionKind, data_schema: Option<&'static str>) -> OperationDescriptor {
        OperationDescriptor {
            kind,
            response: ResponseDescriptor {
                data_schema,
                ..ResponseDescriptor::DEFAULT
            },
            ..OperationDescriptor::DEFAULT
        }
    }

    fn defs() -> Map<String, Value> {
        let d = ConnectorDescriptor {
            record_schemas: DEFS,
            ..ConnectorDescriptor::DEFAULT
        };
        record_definitions(&d)
    }

    #[test]
    fn lists_are_envelopes_of_records_with_the_definitions_they_reach() {
        let list = op(
            ActionKind::List,
            Some(r##"{"type": ["array", "null"], "items": {"$ref": "#/$defs/Customer"}}"##),
        );
        let s = output_schema(&defs(), &list);
        assert_eq!(s["type"], "object");
        assert_eq!(s["properties"]["data"]["items"]["$ref"], "#/$defs/Customer");
        // (generated page schemas are `anyOf` a list and one record; any data schema works)
        let used: Vec<&String> = s["$defs"].as_object().unwrap().keys().collect();
        assert_eq!(used, ["Customer", "Address"], "only what the tool reaches");
    }

    #[test]
    fn records_are_the_root_object_and_other_results_are_wrapped() {
        let get = op(ActionKind::Get, Some(r##"{"$ref": "#/$defs/Customer"}"##));
        let s = output_schema(&defs(), &get);
        assert_eq!(s["type"], "object", "the root is never nullable");
        assert!(s["properties"]["address"].is_object());
        assert!(s["$defs"]["Address"].is_object());

        let many = op(
            ActionKind::Create,
            Some(r##"{"type": ["array", "null"], "items": {"$ref": "#/$defs/Address"}}"##),
        );
        let s = output_schema(&defs(), &many);
        assert_eq!(s["properties"]["result"]["type"], json!(["array", "null"]));
        assert_eq!(
            structured_content(json!([1]))["result"],
            json!([1]),
            "the structured content wraps it the same way"
        );

        for untyped in [op(ActionKind::Get, None), op(ActionKind::Download, None)] {
            assert_eq!(output_schema(&defs(), &untyped), json!({"type": "object"}));
        }
        // Unreadable definitions leave the record undescribed, not a broken reference.
        assert_eq!(output_schema(&Map::new(), &get), json!({"type": "object"}));
        let s = output_schema(&Map::new(), &many);
        assert_eq!(s["properties"]["result"]["items"], json!({}));
    }
}
