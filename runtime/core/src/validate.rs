//! Parameter normalisation and validation before any request is sent.

use serde_json::Value;

use crate::Params;
use crate::descriptor::{
    ActionKind, BodyDescriptor, OperationDescriptor, ParamDescriptor, ValueKind,
};
use crate::encode::snake_alias;
use crate::error::{Error, Result};

/// Parameter names accepted besides the declared ones.
pub fn special_params(op: &OperationDescriptor) -> &'static [&'static str] {
    match (&op.body, op.kind) {
        (_, ActionKind::Download) => &["range_header"],
        (BodyDescriptor::GraphQl(_), _) => &["fields"],
        _ => &[],
    }
}

fn find_param(op: &'static OperationDescriptor, key: &str) -> Option<&'static ParamDescriptor> {
    op.params.iter().find(|p| p.name == key).or_else(|| {
        let k = key.strip_suffix('_').unwrap_or(key);
        op.params.iter().find(|p| snake_alias(p.name) == k)
    })
}

fn kind_ok(kind: ValueKind, v: &Value) -> bool {
    match kind {
        ValueKind::String => v.is_string(),
        ValueKind::Integer => {
            v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        ValueKind::Number => v.is_number(),
        ValueKind::Boolean => v.is_boolean(),
        ValueKind::Array => v.is_array(),
        ValueKind::Object => v.is_object(),
        _ => true,
    }
}

fn kind_name(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::String => "a string",
        ValueKind::Integer => "an integer",
        ValueKind::Number => "a number",
        ValueKind::Boolean => "a boolean",
        ValueKind::Array => "an array",
        ValueKind::Object => "an object",
        _ => "a value",
    }
}

/// The JSON type of a value with its article (`a string`, `an object`, `null`), for messages.
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_enum(op: &OperationDescriptor, p: &ParamDescriptor, v: &Value) -> Result<()> {
    if p.enum_values.is_empty() {
        return Ok(());
    }
    let allowed: Vec<Value> = p
        .enum_values
        .iter()
        .filter_map(|t| serde_json::from_str(t).ok())
        .collect();
    let items: Vec<&Value> = match v {
        Value::Array(a) if p.kind == ValueKind::Array => a.iter().collect(),
        other => vec![other],
    };
    for item in items {
        if !allowed.contains(item) {
            let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            return Err(Error::invalid(
                op,
                p.name,
                format!(
                    "{item} is not one of the allowed values: {}",
                    list.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

/// Map caller names (wire names or their snake-case aliases) to wire names and validate types,
/// enums and required parameters.
pub fn normalize(op: &'static OperationDescriptor, params: Params) -> Result<Params> {
    let specials = special_params(op);
    let mut out = Params::new();
    for (key, value) in params {
        if let Some(p) = find_param(op, &key) {
            if value.is_null() {
                // Explicit nulls matter for nullable params and GraphQL variables (unassigning).
                if p.nullable || matches!(op.body, BodyDescriptor::GraphQl(_)) {
                    out.insert(p.name.to_string(), value);
                }
                continue;
            }
            if !kind_ok(p.kind, &value) {
                // A scalar where an array is expected is wrapped (lists of one), anything else is an error.
                if p.kind == ValueKind::Array && !value.is_array() && !value.is_object() {
                    let wrapped = Value::Array(vec![value]);
                    check_enum(op, p, &wrapped)?;
                    out.insert(p.name.to_string(), wrapped);
                    continue;
                }
                return Err(Error::invalid(
                    op,
                    p.name,
                    format!("expected {}, got {}", kind_name(p.kind), json_type(&value)),
                ));
            }
            if let (Value::Array(items), Some(ik)) = (&value, p.item_kind)
                && let Some(bad) = items.iter().find(|i| !i.is_null() && !kind_ok(ik, i))
            {
                return Err(Error::invalid(
                    op,
                    p.name,
                    format!(
                        "array items must be {}, got {}",
                        kind_name(ik),
                        json_type(bad)
                    ),
                ));
            }
            check_enum(op, p, &value)?;
            out.insert(p.name.to_string(), value);
        } else if specials.contains(&key.as_str())
            || op.params.iter().any(crate::request::is_open_body)
        {
            out.insert(key, value);
        } else {
            let mut available: Vec<&'static str> = op.params.iter().map(|p| p.name).collect();
            available.extend_from_slice(specials);
            return Err(Error::UnknownParam {
                entity: op.entity.to_string(),
                action: op.action.to_string(),
                param: key,
                available,
            });
        }
    }
    Ok(out)
}

/// Check required parameters (path params may be filled from scoping config later).
pub fn check_required(
    op: &'static OperationDescriptor,
    params: &Params,
    fillable: impl Fn(&ParamDescriptor) -> bool,
) -> Result<()> {
    for p in op.params.iter().filter(|p| p.required) {
        if params.get(p.name).is_none_or(Value::is_null) && p.default.is_none() && !fillable(p) {
            return Err(Error::missing(op, p.name));
        }
    }
    Ok(())
}
