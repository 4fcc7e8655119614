//! JSON Schemas (draft 2020-12) of the records an operation returns, from the IR's record types:
//! the descriptor carries them so tools can declare their output (MCP `outputSchema`).
//!
//! The schemas describe what the typed records accept, and no more: every value may be `null`,
//! unknown properties are allowed, and open enums are plain strings, so a provider response
//! that the typed API decodes also validates.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::ir::types::{RustType, TypeKind};
use crate::ir::{Connector, OperationIr, OutputIr};

/// `{name: schema}` of every struct type a returned record reaches, as JSON text (`""` when
/// no operation returns typed records).
pub fn definitions(ir: &Connector) -> String {
    let mut reached = BTreeSet::new();
    for op in ir.entities.iter().flat_map(|e| &e.operations) {
        match &op.output {
            OutputIr::Record(t) | OutputIr::Page(t, _) => reach(ir, t, &mut reached),
            OutputIr::Bytes => {}
        }
    }
    if reached.is_empty() {
        return String::new();
    }
    let defs: Map<String, Value> = reached
        .into_iter()
        .filter_map(|id| {
            let t = &ir.types.types[id];
            let TypeKind::Struct(fields) = &t.kind else {
                return None;
            };
            let properties: Map<String, Value> = fields
                .iter()
                .map(|f| (f.wire.clone(), schema(ir, &f.ty)))
                .collect();
            let mut def = json!({"type": ["object", "null"], "properties": properties});
            if !t.doc.trim().is_empty() {
                def["description"] = Value::String(t.doc.trim().to_string());
            }
            Some((t.name.clone(), def))
        })
        .collect();
    serde_json::to_string(&defs).unwrap_or_default()
}

/// The schema of an operation's `data` (the records of a page, or the one result), as JSON
/// text; `None` for downloads.
pub fn data_schema(ir: &Connector, op: &OperationIr) -> Option<String> {
    let s = match &op.output {
        OutputIr::Bytes => return None,
        OutputIr::Record(t) => schema(ir, t),
        // The records, or (no record extractor, or one naming an object) the one record the
        // body is: the runtime yields either, as the typed page decodes either.
        OutputIr::Page(t, _) => {
            let record = schema(ir, t);
            json!({"anyOf": [{"type": ["array", "null"], "items": record}, record]})
        }
    };
    serde_json::to_string(&s).ok()
}

fn schema(ir: &Connector, t: &RustType) -> Value {
    let nullable = |name: &str| json!({"type": [name, "null"]});
    match t {
        RustType::String => nullable("string"),
        RustType::I64 => nullable("integer"),
        RustType::F64 => nullable("number"),
        RustType::Bool => nullable("boolean"),
        RustType::Value => json!({}),
        RustType::Object => nullable("object"),
        RustType::Map(inner) => {
            json!({"type": ["object", "null"], "additionalProperties": schema(ir, inner)})
        }
        RustType::Vec(inner) => json!({"type": ["array", "null"], "items": schema(ir, inner)}),
        RustType::Named(id) | RustType::Boxed(id) => match &ir.types.types[*id].kind {
            TypeKind::Struct(_) => {
                json!({"$ref": format!("#/$defs/{}", ir.types.types[*id].name)})
            }
            // Open enums: values the spec does not list are accepted.
            _ => nullable("string"),
        },
    }
}

fn reach(ir: &Connector, t: &RustType, out: &mut BTreeSet<usize>) {
    match t {
        RustType::Map(inner) | RustType::Vec(inner) => reach(ir, inner, out),
        RustType::Named(id) | RustType::Boxed(id) => {
            if !out.insert(*id) {
                return;
            }
            if let TypeKind::Struct(fields) = &ir.types.types[*id].kind {
                for f in fields {
                    reach(ir, &f.ty, out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_may_be_null_and_structs_are_definitions() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/petstore/connector.yaml");
        let ir = crate::load(&path).expect("fixture loads").ir;
        let defs: Value = serde_json::from_str(&definitions(&ir)).expect("JSON");
        let defs = defs.as_object().expect("object");
        assert!(!defs.is_empty());
        for (name, def) in defs {
            assert_eq!(def["type"], json!(["object", "null"]), "{name}");
            for (wire, prop) in def["properties"].as_object().expect("properties") {
                let ok = prop.get("$ref").is_some()
                    || prop.as_object().is_some_and(|o| o.is_empty())
                    || prop["type"]
                        .as_array()
                        .is_some_and(|t| t.contains(&json!("null")));
                assert!(ok, "{name}.{wire}: {prop}");
            }
        }
        let op = ir
            .entities
            .iter()
            .flat_map(|e| &e.operations)
            .find(|o| matches!(o.output, OutputIr::Page(..)))
            .expect("a list operation");
        let data: Value = serde_json::from_str(&data_schema(&ir, op).expect("schema")).unwrap();
        assert_eq!(data["anyOf"][0]["type"], json!(["array", "null"]));
        assert_eq!(
            data["anyOf"][0]["items"], data["anyOf"][1],
            "a list of records, or one"
        );
        let target = data["anyOf"][1]["$ref"]
            .as_str()
            .expect("items are a record");
        assert!(defs.contains_key(target.trim_start_matches("#/$defs/")));
    }
}
