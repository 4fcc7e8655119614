//! JSON Schemas (draft 2020-12) of tool inputs, derived from operation descriptors.

use serde_json::{Map, Value, json};

use crate::descriptor::{
    ActionKind, BodyDescriptor, ConnectorDescriptor, OperationDescriptor, ParamDescriptor,
    ParamLocation, ValueKind,
};
use crate::request::is_open_body;

/// The JSON Schema dialect every generated schema declares.
pub const SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Whether the caller must supply `p` for `op` of connector `d`.
///
/// Parameters with a default, a config injection or a scoping fallback are optional, like
/// the runtime's own required check.
pub fn is_required(d: &ConnectorDescriptor, p: &ParamDescriptor) -> bool {
    p.required
        && p.default.is_none()
        && p.config_inject.is_none()
        && !(p.location == ParamLocation::Path && d.scoping.iter().any(|s| s.param == p.name))
}

/// JSON type name of a value kind (`None` for [`ValueKind::Any`]).
pub fn kind_type(kind: ValueKind) -> Option<&'static str> {
    match kind {
        ValueKind::String => Some("string"),
        ValueKind::Integer => Some("integer"),
        ValueKind::Number => Some("number"),
        ValueKind::Boolean => Some("boolean"),
        ValueKind::Array => Some("array"),
        ValueKind::Object => Some("object"),
        _ => None,
    }
}

fn parse_json(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

/// Rewrite OpenAPI-isms into draft 2020-12: `nullable` becomes a `"null"` type, boolean
/// `exclusiveMinimum`/`exclusiveMaximum` become numbers, `example` becomes `examples`, tuple
/// `items` become `prefixItems`, `format: byte` (base64 text) gains `contentEncoding: base64`,
/// vendor extensions and unresolvable `$ref`s are dropped.
pub fn normalize(schema: Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(normalize_object(map)),
        Value::Bool(b) => Value::Bool(b),
        // Anything else is not a schema: accept any value rather than fail.
        _ => Value::Object(Map::new()),
    }
}

const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];
const SCHEMA_LIST_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
const SCHEMA_KEYWORDS: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
];

fn normalize_object(map: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut nullable = false;
    let mut excl_min = None;
    let mut excl_max = None;
    for (k, v) in map {
        if k.starts_with("x-") {
            continue;
        }
        match k.as_str() {
            "nullable" => nullable = v.as_bool().unwrap_or(false),
            "$ref" => {} // refs are inlined by the generator; leftovers (cycles) accept anything
            "example" => {
                out.insert("examples".into(), Value::Array(vec![v]));
            }
            "format" if v == "byte" => {
                out.insert("contentEncoding".into(), "base64".into());
                out.insert(k, v);
            }
            "exclusiveMinimum" if v.is_boolean() => excl_min = v.as_bool(),
            "exclusiveMaximum" if v.is_boolean() => excl_max = v.as_bool(),
            "items" if v.is_array() => {
                let items = array_of_schemas(v);
                out.insert("prefixItems".into(), items);
            }
            k if SCHEMA_MAP_KEYWORDS.contains(&k) => {
                let m = match v {
                    Value::Object(m) => m.into_iter().map(|(n, s)| (n, normalize(s))).collect(),
                    _ => Map::new(),
                };
                out.insert(k.to_string(), Value::Object(m));
            }
            k if SCHEMA_LIST_KEYWORDS.contains(&k) => {
                out.insert(k.to_string(), array_of_schemas(v));
            }
            k if SCHEMA_KEYWORDS.contains(&k) => {
                out.insert(k.to_string(), normalize(v));
            }
            "type" => {
                let t = match v {
                    Value::String(_) => v,
                    Value::Array(a) => {
                        Value::Array(a.into_iter().filter(Value::is_string).collect())
                    }
                    _ => continue,
                };
                out.insert("type".into(), t);
            }
            "required" => {
                if let Value::Array(a) = v {
                    let names: Vec<Value> = a.into_iter().filter(Value::is_string).collect();
                    if !names.is_empty() {
                        out.insert("required".into(), Value::Array(names));
                    }
                }
            }
            "enum" => {
                if let Value::Array(a) = v
                    && !a.is_empty()
                {
                    out.insert("enum".into(), Value::Array(a));
                }
            }
            _ => {
                out.insert(k, v);
            }
        }
    }
    for (flag, bound, keyword) in [
        (excl_min, "minimum", "exclusiveMinimum"),
        (excl_max, "maximum", "exclusiveMaximum"),
    ] {
        if flag == Some(true)
            && let Some(b) = out.remove(bound)
        {
            out.insert(keyword.into(), b);
        }
    }
    if nullable {
        make_nullable(&mut out);
    }
    out
}

fn array_of_schemas(v: Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        other => Value::Array(vec![normalize(other)]),
    }
}

fn make_nullable(schema: &mut Map<String, Value>) {
    match schema.get_mut("type") {
        Some(Value::String(t)) if t != "null" => {
            let t = std::mem::take(t);
            schema.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(a)) if !a.iter().any(|t| t == "null") => a.push("null".into()),
        _ => {}
    }
    if let Some(Value::Array(e)) = schema.get_mut("enum")
        && !e.contains(&Value::Null)
    {
        e.push(Value::Null);
    }
}

/// The JSON Schema of one parameter: its descriptor schema, completed with the descriptor's
/// kind, enum, default, description and nullability.
pub fn param_schema(p: &ParamDescriptor) -> Value {
    let mut s = match parse_json(p.schema).map(normalize) {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if !s.contains_key("type")
        && !s.contains_key("anyOf")
        && !s.contains_key("oneOf")
        && !s.contains_key("allOf")
        && !s.contains_key("enum")
        && !s.contains_key("const")
        && let Some(t) = kind_type(p.kind)
    {
        s.insert("type".into(), t.into());
    }
    if p.kind == ValueKind::Array
        && !s.contains_key("items")
        && let Some(t) = p.item_kind.and_then(kind_type)
    {
        s.insert("items".into(), json!({ "type": t }));
    }
    if !p.enum_values.is_empty() {
        let values: Vec<Value> = p.enum_values.iter().filter_map(|t| parse_json(t)).collect();
        if !values.is_empty() {
            if p.kind == ValueKind::Array {
                if let Some(Value::Object(items)) = s.get_mut("items") {
                    items.entry("enum").or_insert(Value::Array(values));
                } else if !s.contains_key("items") {
                    s.insert("items".into(), json!({ "enum": values }));
                }
            } else {
                s.entry("enum").or_insert(Value::Array(values));
            }
        }
    }
    if let Some(d) = p.default.and_then(parse_json) {
        s.entry("default").or_insert(d);
    }
    let mut description = if p.description.is_empty() {
        s.get("description")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    } else {
        p.description.to_string()
    };
    if p.config_inject.is_some() {
        if !description.is_empty() {
            description.push(' ');
        }
        description.push_str("(Filled from the connector configuration when omitted.)");
    }
    if !description.is_empty() {
        s.insert("description".into(), description.into());
    }
    if p.nullable {
        make_nullable(&mut s);
    }
    Value::Object(s)
}

/// Parameters accepted besides the declared ones, with their schemas (GraphQL field selection,
/// download ranges). Mirrors the runtime's parameter validation.
fn special_params(op: &OperationDescriptor) -> Vec<(&'static str, Value)> {
    match (&op.body, op.kind) {
        (_, ActionKind::Download) => vec![(
            "range_header",
            json!({
                "type": "string",
                "description": "Optional HTTP Range header value, e.g. `bytes=0-1023`."
            }),
        )],
        (BodyDescriptor::GraphQl(_), _) => vec![(
            "fields",
            json!({
                "type": ["array", "string"],
                "items": { "type": "string" },
                "description": "GraphQL fields to select (defaults to the connector's field set)."
            }),
        )],
        _ => Vec::new(),
    }
}

/// The input schema of one action's tool: a draft 2020-12 object schema whose properties are
/// the operation's parameters (path, query, header and body merged), with `required`,
/// enums, defaults and descriptions. `additionalProperties` is `false` unless the operation
/// has an open body (undeclared fields go into the body).
pub fn action_schema(d: &ConnectorDescriptor, op: &OperationDescriptor) -> Value {
    let mut s = action_schema_map(d, op);
    s.insert("$schema".into(), SCHEMA_DIALECT.into());
    // Keep `$schema` first for readability.
    let mut out = Map::new();
    if let Some(v) = s.remove("$schema") {
        out.insert("$schema".into(), v);
    }
    out.extend(s);
    Value::Object(out)
}

fn action_schema_map(d: &ConnectorDescriptor, op: &OperationDescriptor) -> Map<String, Value> {
    let mut props = Map::new();
    let mut required = Vec::new();
    let mut open = false;
    for p in op.params {
        if is_open_body(p) {
            open = true;
            continue;
        }
        if props.contains_key(p.name) {
            continue;
        }
        let mut schema = param_schema(p);
        if let Some(sc) = d
            .scoping
            .iter()
            .find(|s| p.location == ParamLocation::Path && s.param == p.name)
            && let Value::Object(m) = &mut schema
        {
            let note = format!(
                "(Filled from the connector configuration `{}` when omitted.)",
                sc.config_key
            );
            let text = match m.get("description").and_then(Value::as_str) {
                Some(t) if !t.is_empty() => format!("{t} {note}"),
                _ => note,
            };
            m.insert("description".into(), text.into());
        }
        props.insert(p.name.to_string(), schema);
        if is_required(d, p) {
            required.push(Value::String(p.name.to_string()));
        }
    }
    for (name, schema) in special_params(op) {
        props.entry(name).or_insert(schema);
    }
    let mut s = Map::new();
    s.insert("type".into(), "object".into());
    s.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        s.insert("required".into(), Value::Array(required));
    }
    s.insert("additionalProperties".into(), Value::Bool(open));
    s
}

/// The schema of the combined tool: `{entity, action, params}` with `entity` and `action` as
/// enums. Per-entity action sets are expressed with `if`/`then` so validators (and models)
/// see which actions each entity supports; `params` is checked by the runtime against the
/// chosen operation.
pub fn combined_schema(d: &ConnectorDescriptor) -> Value {
    let entities: Vec<Value> = d.entities.iter().map(|e| e.name.into()).collect();
    let mut actions: Vec<&str> = Vec::new();
    for e in d.entities {
        for o in e.operations {
            if !actions.contains(&o.action) {
                actions.push(o.action);
            }
        }
    }
    let rules: Vec<Value> = d
        .entities
        .iter()
        .map(|e| {
            let acts: Vec<&str> = e.operations.iter().map(|o| o.action).collect();
            json!({
                "if": { "properties": { "entity": { "const": e.name } }, "required": ["entity"] },
                "then": { "properties": { "action": { "enum": acts } } }
            })
        })
        .collect();
    let mut s = json!({
        "$schema": SCHEMA_DIALECT,
        "type": "object",
        "properties": {
            "entity": {
                "type": "string",
                "enum": entities,
                "description": "The entity (noun) to act on."
            },
            "action": {
                "type": "string",
                "enum": actions,
                "description": "The action to run on the entity; each entity supports only some actions."
            },
            "params": {
                "type": "object",
                "description": "Parameters of the action, by name (see the tool description for each action's parameters).",
                "default": {}
            },
            "select_fields": {
                "type": "array",
                "items": { "type": "string" },
                "description": "Optional: keep only these fields of each record (dotted paths for nested fields, e.g. `address.city`) to keep the result small."
            },
            "exclude_fields": {
                "type": "array",
                "items": { "type": "string" },
                "description": "Optional: drop these fields from each record (dotted paths)."
            }
        },
        "required": ["entity", "action"],
        "additionalProperties": false
    });
    if !rules.is_empty()
        && let Value::Object(m) = &mut s
    {
        m.insert("allOf".into(), Value::Array(rules));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_byte_strings_declare_their_base64_encoding() {
        let s = normalize(json!({
            "type": "object",
            "properties": {
                "file_content": {"type": "string", "format": "byte"},
                "name": {"type": "string", "format": "date"}
            }
        }));
        assert_eq!(
            s["properties"]["file_content"],
            json!({"type": "string", "format": "byte", "contentEncoding": "base64"})
        );
        assert!(s["properties"]["name"].get("contentEncoding").is_none());
    }
}
