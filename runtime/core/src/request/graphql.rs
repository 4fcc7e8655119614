//! GraphQL request bodies: the operation's query with the selection set and variables taken
//! from the parameters.

use serde_json::{Map, Value};

use super::{Body, default_value};
use crate::Params;
use crate::descriptor::{GraphQlBody, OperationDescriptor, ParamLocation};
use crate::encode;
use crate::error::{Error, Result};

/// The GraphQL body of `op`: the query with its selection and variables filled in.
pub(super) fn body(op: &OperationDescriptor, g: &GraphQlBody, params: &Params) -> Result<Body> {
    let mut query = g.query.to_string();
    if let Some(pos) = find_placeholder(&query, "fields") {
        let selection = match params.get("fields").filter(|v| !v.is_null()) {
            Some(Value::Array(items)) => {
                let names: Vec<String> = items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect();
                selection_from_list(&names)
            }
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(Error::invalid(
                    op,
                    "fields",
                    "expected a list of field names",
                ));
            }
            None => match g
                .default_fields
                .and_then(|d| serde_json::from_str::<Value>(d).ok())
            {
                Some(Value::String(s)) => s,
                Some(Value::Array(items)) => {
                    let names: Vec<String> = items
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect();
                    selection_from_list(&names)
                }
                _ => String::new(),
            },
        };
        query.replace_range(pos.0..pos.1, &selection);
    }
    let mut body = Map::new();
    body.insert("query".into(), Value::String(query));
    if let Some(vars_text) = g.variables {
        let tmpl: Value = serde_json::from_str(vars_text).map_err(|e| {
            Error::descriptor(op, format!("invalid GraphQL variables template: {e}"))
        })?;
        let rendered = prune_vars(render_vars(&tmpl, op, params));
        let mut vars = match rendered {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        vars.retain(|k, v| !v.is_null() || g.nullable_variables.contains(&k.as_str()));
        body.insert("variables".into(), Value::Object(vars));
    }
    if let Some(name) = g.operation_name {
        body.insert("operationName".into(), Value::String(name.to_string()));
    }
    Ok(Body {
        content_type: "application/json".into(),
        bytes: Value::Object(body).to_string().into(),
    })
}

/// Byte range of `{{ name }}` (any inner whitespace) in `s`.
fn find_placeholder(s: &str, name: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(rel) = s[from..].find("{{") {
        let start = from + rel;
        let end = s[start..].find("}}")? + start + 2;
        if s[start + 2..end - 2].trim() == name {
            return Some((start, end));
        }
        from = start + 2;
    }
    None
}

/// `["id", "owner.login", "owner.url"]` → `id owner { login url }`.
pub fn selection_from_list(names: &[String]) -> String {
    #[derive(Default)]
    struct Node {
        children: Vec<(String, Node)>,
    }
    fn insert(node: &mut Node, parts: &[&str]) {
        let Some((first, rest)) = parts.split_first() else {
            return;
        };
        let idx = match node.children.iter().position(|(n, _)| n == first) {
            Some(i) => i,
            None => {
                node.children.push((first.to_string(), Node::default()));
                node.children.len() - 1
            }
        };
        insert(&mut node.children[idx].1, rest);
    }
    fn render(node: &Node) -> String {
        node.children
            .iter()
            .map(|(n, c)| {
                if c.children.is_empty() {
                    n.clone()
                } else {
                    format!("{n} {{ {} }}", render(c))
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
    let mut root = Node::default();
    for n in names {
        let parts: Vec<&str> = n.split('.').filter(|p| !p.is_empty()).collect();
        insert(&mut root, &parts);
    }
    render(&root)
}

/// A variable's value: the caller's (explicit `null` included), else the query default;
/// `None` when unresolved.
fn lookup_var(name: &str, op: &OperationDescriptor, params: &Params) -> Option<Value> {
    if let Some(v) = params.get(name) {
        return Some(v.clone());
    }
    op.params
        .iter()
        .find(|p| p.name == name && p.location == ParamLocation::Query)
        .and_then(default_value)
}

/// Marker for unresolved exact placeholders; removed before sending.
const UNRESOLVED: &str = "\u{0}__airbyte_unresolved__";

fn render_vars(tmpl: &Value, op: &OperationDescriptor, params: &Params) -> Value {
    match tmpl {
        Value::String(s) => {
            let t = s.trim();
            // Exact placeholder keeps the JSON type.
            if t.starts_with("{{") && t.ends_with("}}") && t.matches("{{").count() == 1 {
                let name = t[2..t.len() - 2].trim();
                return lookup_var(name, op, params)
                    .unwrap_or_else(|| Value::String(UNRESOLVED.into()));
            }
            if !s.contains("{{") {
                return tmpl.clone();
            }
            Value::String(crate::template::render_braces(s, |n| {
                lookup_var(n, op, params).and_then(|v| encode::scalar_text(&v))
            }))
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| render_vars(v, op, params)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), render_vars(v, op, params)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Drop unresolved variables everywhere; drop top-level nulls unless nullable.
fn prune_vars(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| v.as_str() != Some(UNRESOLVED))
                .map(|(k, v)| (k, prune_vars(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .filter(|v| v.as_str() != Some(UNRESOLVED))
                .map(prune_vars)
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections() {
        let names: Vec<String> = ["id", "owner.login", "owner.url", "a.b.c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            selection_from_list(&names),
            "id owner { login url } a { b { c } }"
        );
    }
}
