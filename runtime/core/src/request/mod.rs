//! Turning an operation descriptor plus parameters into an HTTP request.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::Params;
use crate::descriptor::{
    ConnectorDescriptor, OperationDescriptor, ParamDescriptor, ParamLocation, ParamStyle,
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

mod body;
mod graphql;

pub use graphql::selection_from_list;

/// Render the base URL template with config values over server-variable defaults.
pub fn render_base_url(
    template: &str,
    descriptor: &ConnectorDescriptor,
    config: &BTreeMap<String, String>,
) -> Result<String> {
    let out = fill_placeholders(template, |name| {
        config
            .get(name)
            .cloned()
            .or_else(|| {
                descriptor
                    .server_variables
                    .iter()
                    .find(|v| v.name == name)
                    .and_then(|v| v.default.map(str::to_string))
            })
            .ok_or_else(|| Error::MissingServerVariable {
                name: name.to_string(),
            })
    })?;
    Ok(out.trim_end_matches('/').to_string())
}

/// Replace every `{name}` of `template` by what `value` gives for it (an unclosed `{` stays as
/// it is). The one placeholder walk of base URLs and operation paths.
fn fill_placeholders(
    template: &str,
    mut value: impl FnMut(&str) -> Result<String>,
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
        out.push_str(&value(&after[..end])?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
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
    let path = fill_placeholders(op.path, |name| {
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
        Ok(encode::path_segment(&text))
    })?;
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
    let body = body::encode(op, params, config)?;
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
