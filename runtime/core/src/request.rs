//! Turning an operation descriptor plus parameters into an HTTP request.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::Params;
use crate::descriptor::{
    BodyDescriptor, ConnectorDescriptor, GraphQlBody, OperationDescriptor, ParamDescriptor,
    ParamLocation, ParamStyle,
};
use crate::encode;
use crate::error::{Error, Result};

/// A request ready to send (auth not applied yet).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// HTTP method.
    pub method: crate::descriptor::Method,
    /// Absolute URL without the query string.
    pub url: String,
    /// Query pairs in wire order (not encoded).
    pub query: Vec<(String, String)>,
    /// Headers of the operation (name, value), without auth headers.
    pub headers: Vec<(String, String)>,
    /// The encoded body, if the request has one.
    pub body: Option<Body>,
}

/// An encoded request body.
#[derive(Debug, Clone)]
pub struct Body {
    /// Its `Content-Type`.
    pub content_type: String,
    /// The encoded bytes.
    pub bytes: bytes::Bytes,
}

/// Render the base URL template with config values over server-variable defaults.
pub fn render_base_url(
    template: &str,
    descriptor: &ConnectorDescriptor,
    config: &BTreeMap<String, String>,
) -> Result<String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        let value = config.get(name).cloned().or_else(|| {
            descriptor
                .server_variables
                .iter()
                .find(|v| v.name == name)
                .and_then(|v| v.default.map(str::to_string))
        });
        match value {
            Some(v) => out.push_str(&v),
            None => {
                return Err(Error::MissingServerVariable {
                    name: name.to_string(),
                });
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out.trim_end_matches('/').to_string())
}

/// The `*` body param marking an open (`additionalProperties`) body schema.
pub fn is_open_body(p: &ParamDescriptor) -> bool {
    p.name == "*" && p.location == ParamLocation::Body
}

fn param_value<'a>(params: &'a Params, p: &ParamDescriptor) -> Option<&'a Value> {
    params.get(p.name).filter(|v| !v.is_null())
}

fn default_value(p: &ParamDescriptor) -> Option<Value> {
    p.default.and_then(|d| serde_json::from_str(d).ok())
}

/// Config-injected value for a param (`x-airbyte-param-config-inject`).
fn injected(p: &ParamDescriptor, config: &BTreeMap<String, String>) -> Option<Value> {
    let ci = p.config_inject.as_ref()?;
    let raw = config.get(ci.source)?;
    if ci.map.is_empty() {
        return Some(Value::String(raw.clone()));
    }
    let upper = raw.to_uppercase();
    let mapped = ci
        .map
        .iter()
        .find(|(k, _)| *k == raw.as_str())
        .or_else(|| ci.map.iter().find(|(k, _)| *k == upper.as_str()))
        .map(|(_, v)| *v)?;
    Some(serde_json::from_str(mapped).unwrap_or_else(|_| Value::String(mapped.to_string())))
}

/// Build the request for `op`. `params` are keyed by wire names.
pub fn build(
    descriptor: &'static ConnectorDescriptor,
    op: &'static OperationDescriptor,
    params: &Params,
    base_url: &str,
    config: &BTreeMap<String, String>,
) -> Result<Prepared> {
    // Path.
    let mut path = String::new();
    let mut rest = op.path;
    while let Some(start) = rest.find('{') {
        path.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            path.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        let value = match params.get(name) {
            Some(v) => Some(v.clone()),
            None => descriptor
                .scoping
                .iter()
                .find(|s| s.param == name)
                .and_then(|s| config.get(s.config_key).or_else(|| config.get(s.param)))
                .map(|s| Value::String(s.clone())),
        };
        let value = value.ok_or_else(|| Error::missing(op, name))?;
        let text = encode::scalar_text(&value).unwrap_or_default();
        if text.trim().is_empty() {
            return Err(Error::invalid(
                op,
                name,
                "path parameters must not be null or blank",
            ));
        }
        path.push_str(&encode::path_segment(&text));
        rest = &after[end + 1..];
    }
    path.push_str(rest);
    let url = if path.starts_with("http://") || path.starts_with("https://") {
        path
    } else {
        format!("{base_url}{path}")
    };

    // Query.
    let mut query = Vec::new();
    let mut injected_query = Vec::new();
    for p in op
        .params
        .iter()
        .filter(|p| p.location == ParamLocation::Query)
    {
        match param_value(params, p) {
            Some(v) => push_query(p, v, &mut query),
            None => {
                if let Some(v) = injected(p, config) {
                    push_query(p, &v, &mut injected_query);
                } else if op.kind == crate::descriptor::ActionKind::Download {
                    // Download actions apply their query defaults (Drive `alt=media`).
                    if let Some(v) = default_value(p) {
                        push_query(p, &v, &mut query);
                    }
                }
            }
        }
    }
    query.extend(injected_query);

    // Headers.
    let mut headers = Vec::new();
    for p in op
        .params
        .iter()
        .filter(|p| p.location == ParamLocation::Header)
    {
        let v = param_value(params, p).cloned().or_else(|| default_value(p));
        if let Some(text) = v.as_ref().and_then(encode::scalar_text) {
            headers.push((p.name.to_string(), text));
        }
    }

    // Body.
    let body = match &op.body {
        BodyDescriptor::None => None,
        BodyDescriptor::Json => {
            let obj = body_object(op, params, None, config);
            if obj.is_empty() {
                None
            } else {
                Some(Body {
                    content_type: "application/json".into(),
                    bytes: Value::Object(obj.into_iter().collect()).to_string().into(),
                })
            }
        }
        BodyDescriptor::JsonArray => {
            let obj = body_object(op, params, None, config);
            if obj.is_empty() {
                None
            } else {
                Some(Body {
                    content_type: "application/json".into(),
                    bytes: Value::Array(vec![Value::Object(obj.into_iter().collect())])
                        .to_string()
                        .into(),
                })
            }
        }
        BodyDescriptor::Form => {
            let obj = body_object(op, params, None, config);
            let mut pairs = Vec::new();
            for (k, v) in &obj {
                encode::bracket_pairs(k, v, &mut pairs);
            }
            if pairs.is_empty() {
                None
            } else {
                Some(Body {
                    content_type: "application/x-www-form-urlencoded".into(),
                    bytes: encode::encode_pairs(&pairs).into(),
                })
            }
        }
        BodyDescriptor::MultipartRelated { file_param } => {
            Some(multipart_related(op, params, file_param, config)?)
        }
        BodyDescriptor::MultipartForm => {
            let obj = body_object(op, params, None, config);
            if obj.is_empty() {
                None
            } else {
                Some(multipart_form(&obj))
            }
        }
        BodyDescriptor::GraphQl(g) => Some(graphql(op, g, params)?),
    };
    if let Some(b) = &body
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), b.content_type.clone()));
    }
    Ok(Prepared {
        method: op.method,
        url,
        query,
        headers,
        body,
    })
}

fn push_query(p: &ParamDescriptor, v: &Value, out: &mut Vec<(String, String)>) {
    match (p.style, v) {
        (ParamStyle::DeepObject, Value::Object(m)) => {
            for (k, sub) in m {
                push_deep(&format!("{}[{k}]", p.name), sub, out);
            }
        }
        (_, Value::Array(items)) => {
            for item in items {
                if let Some(s) = encode::scalar_text(item) {
                    out.push((p.name.to_string(), s));
                }
            }
        }
        (_, v) => {
            if let Some(s) = encode::scalar_text(v) {
                out.push((p.name.to_string(), s));
            }
        }
    }
}

fn push_deep(key: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Null => {}
        Value::Object(m) => {
            for (k, sub) in m {
                push_deep(&format!("{key}[{k}]"), sub, out);
            }
        }
        Value::Array(a) => {
            for item in a {
                if let Some(s) = encode::scalar_text(item) {
                    out.push((key.to_string(), s));
                }
            }
        }
        other => {
            if let Some(s) = encode::scalar_text(other) {
                out.push((key.to_string(), s));
            }
        }
    }
}

/// Body params: schema defaults overlaid with non-null caller values, in declaration order.
fn body_object(
    op: &OperationDescriptor,
    params: &Params,
    skip: Option<&str>,
    config: &BTreeMap<String, String>,
) -> Vec<(String, Value)> {
    // As the reference builds it: the fields that have a default (or a config value) first, in
    // schema order, then the caller's values in the order given, replacing a default in place.
    let body_params = || {
        op.params
            .iter()
            .filter(move |p| p.location == ParamLocation::Body && Some(p.name) != skip)
    };
    let mut obj: Vec<(String, Value)> = body_params()
        .filter(|p| param_value(params, p).is_none())
        .filter_map(|p| {
            let v = injected(p, config).or_else(|| default_value(p))?;
            Some((p.name.to_string(), v))
        })
        .collect();
    let open = op.params.iter().any(is_open_body);
    for (k, v) in params {
        if v.is_null() || Some(k.as_str()) == skip {
            continue;
        }
        let declared = body_params().any(|p| p.name == k.as_str());
        let undeclared = open && !op.params.iter().any(|p| p.name == k.as_str());
        if declared || undeclared {
            match obj.iter_mut().find(|(n, _)| n == k) {
                Some(slot) => slot.1 = v.clone(),
                None => obj.push((k.clone(), v.clone())),
            }
        }
    }
    obj
}

fn boundary() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "=============={:x}{:04x}==",
        t,
        N.fetch_add(1, Ordering::Relaxed) & 0xffff
    )
}

fn multipart_related(
    op: &OperationDescriptor,
    params: &Params,
    file_param: &str,
    config: &BTreeMap<String, String>,
) -> Result<Body> {
    let mut meta = body_object(op, params, Some(file_param), config);
    let mime = match meta.iter().position(|(k, _)| k == "file_mime_type") {
        Some(i) => meta.remove(i).1.as_str().map(str::to_string),
        None => None,
    }
    .unwrap_or_else(|| "application/octet-stream".into());
    let b64 = params
        .get(file_param)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::missing(op, file_param))?;
    let content = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| Error::invalid(op, file_param, format!("not valid base64: {e}")))?;
    let b = boundary();
    let mut out = Vec::new();
    out.extend_from_slice(
        format!("--{b}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n").as_bytes(),
    );
    out.extend_from_slice(python_json_pairs(&meta).as_bytes());
    out.extend_from_slice(format!("\r\n--{b}\r\nContent-Type: {mime}\r\n\r\n").as_bytes());
    out.extend_from_slice(&content);
    out.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    Ok(Body {
        content_type: format!("multipart/related; boundary={b}"),
        bytes: out.into(),
    })
}

fn multipart_form(obj: &[(String, Value)]) -> Body {
    let b = boundary();
    let mut out = String::new();
    for (k, v) in obj {
        let text = encode::scalar_text(v).unwrap_or_default();
        let name = k.replace('"', "%22");
        out.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{text}\r\n"
        ));
    }
    out.push_str(&format!("--{b}--\r\n"));
    Body {
        content_type: format!("multipart/form-data; boundary={b}"),
        bytes: out.into(),
    }
}

/// A top-level object in the given key order, written like Python's `json.dumps`.
fn python_json_pairs(pairs: &[(String, Value)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        write_py_str(k, &mut s);
        s.push_str(": ");
        write_py(v, &mut s);
    }
    s.push('}');
    s
}

/// JSON as Python's `json.dumps` writes it (`", "` and `": "` separators, ASCII-only).
#[cfg(test)]
pub fn python_json(v: &Value) -> String {
    let mut s = String::new();
    write_py(v, &mut s);
    s
}

fn write_py(v: &Value, s: &mut String) {
    match v {
        Value::Object(m) => {
            s.push('{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                write_py_str(k, s);
                s.push_str(": ");
                write_py(v, s);
            }
            s.push('}');
        }
        Value::Array(a) => {
            s.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                write_py(v, s);
            }
            s.push(']');
        }
        Value::String(x) => write_py_str(x, s),
        other => s.push_str(&other.to_string()),
    }
}

fn write_py_str(x: &str, s: &mut String) {
    s.push('"');
    for c in x.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    s.push_str(&format!("\\u{:04x}", u));
                }
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

// ---------------------------------------------------------------------------------------------
// GraphQL

fn graphql(op: &OperationDescriptor, g: &GraphQlBody, params: &Params) -> Result<Body> {
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

    #[test]
    fn py_json() {
        let v: Value = serde_json::from_str(r#"{"name":"x","p":["a"],"é":1}"#).unwrap();
        assert_eq!(python_json(&v), r#"{"name": "x", "p": ["a"], "\u00e9": 1}"#);
    }
}
