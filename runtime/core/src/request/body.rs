//! Request bodies: JSON, JSON array, form, multipart (related and form-data); schema defaults
//! and config values overlaid with the caller's, in the reference's order.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;

use super::{Body, default_value, injected, is_open_body, param_value};
use crate::Params;
use crate::descriptor::{BodyDescriptor, OperationDescriptor, ParamLocation};
use crate::encode;
use crate::error::{Error, Result};

/// The encoded body of `op`, if it has one.
pub(super) fn encode(
    op: &OperationDescriptor,
    params: &Params,
    config: &BTreeMap<String, String>,
) -> Result<Option<Body>> {
    Ok(match &op.body {
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
        BodyDescriptor::GraphQl(g) => Some(super::graphql::body(op, g, params)?),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_json() {
        let v: Value = serde_json::from_str(r#"{"name":"x","p":["a"],"é":1}"#).unwrap();
        assert_eq!(python_json(&v), r#"{"name": "x", "p": ["a"], "\u00e9": 1}"#);
    }
}
