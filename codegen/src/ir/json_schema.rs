//! Schema facts the descriptor records: JSON kind, nullability, the schema text with `$ref`s
//! inlined.

use airbyte_agent_core::ValueKind;
use serde_json::Value;

use super::types::TypeBuilder;
use crate::spec::Node;

/// The value kind a JSON Schema type name stands for (`any` for unknown names).
pub fn kind_named(type_name: &str) -> ValueKind {
    match type_name {
        "string" => ValueKind::String,
        "integer" => ValueKind::Integer,
        "number" => ValueKind::Number,
        "boolean" => ValueKind::Boolean,
        "array" => ValueKind::Array,
        "object" => ValueKind::Object,
        _ => ValueKind::Any,
    }
}

/// The JSON Schema type name of a value kind (`any` for [`ValueKind::Any`]).
pub fn kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::String => "string",
        ValueKind::Integer => "integer",
        ValueKind::Number => "number",
        ValueKind::Boolean => "boolean",
        ValueKind::Array => "array",
        ValueKind::Object => "object",
        _ => "any",
    }
}

/// JSON kind of a schema (after refs and null-unions).
pub(super) fn value_kind(tb: &TypeBuilder<'_>, node: &Node<'_>) -> (ValueKind, bool) {
    let raw = node.value;
    let mut nullable = raw
        .get("nullable")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if let Some(Value::Array(a)) = raw.get("type") {
        nullable |= a.iter().any(|t| t == "null");
    }
    if let Some(Value::Array(a)) = raw.get("oneOf") {
        nullable |= a
            .iter()
            .any(|m| m.get("type").and_then(Value::as_str) == Some("null"));
    }
    let Ok(eff) = tb.effective(node) else {
        return (ValueKind::Any, nullable);
    };
    if let Some(Value::Array(a)) = eff.value.get("type") {
        nullable |= a.iter().any(|t| t == "null");
    }
    if eff.get("oneOf").is_some() {
        return (ValueKind::Any, nullable);
    }
    let types = TypeBuilder::types_of(&eff);
    let kind = match types.as_slice() {
        [t] => kind_named(t),
        [] if eff.get("properties").is_some() => ValueKind::Object,
        [] if eff.get("items").is_some() => ValueKind::Array,
        _ => ValueKind::Any,
    };
    (kind, nullable)
}

/// Schema JSON with `$ref`s inlined (cycles cut to `{}`).
pub(super) fn inline_schema(tb: &TypeBuilder<'_>, node: &Node<'_>, depth: usize) -> Value {
    if depth > 12 {
        return Value::Object(Default::default());
    }
    if node.get("$ref").is_some() {
        return match tb.deref(node) {
            Ok(target) => inline_schema(tb, &target, depth + 1),
            Err(_) => Value::Object(Default::default()),
        };
    }
    match node.value {
        Value::Object(map) => {
            let mut out = serde_json::Map::new();
            for (k, v) in map {
                if k.starts_with("x-") {
                    continue;
                }
                let child = Node {
                    value: v,
                    path: crate::spec::join(&node.path, k),
                };
                out.insert(k.clone(), inline_schema(tb, &child, depth + 1));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    inline_schema(
                        tb,
                        &Node {
                            value: v,
                            path: format!("{}[{i}]", node.path),
                        },
                        depth + 1,
                    )
                })
                .collect(),
        ),
        v => v.clone(),
    }
}

/// Compact JSON text of a value.
pub(super) fn json_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}
