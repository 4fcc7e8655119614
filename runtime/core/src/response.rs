//! Response handling: status → error, body parsing, record/meta extraction, filters, transforms.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::descriptor::{ConnectorDescriptor, OperationDescriptor};
use crate::error::{Error, HttpErrorDetails, Result};
use crate::headers::Headers;
use crate::jsonpath::JsonPath;
use crate::template;

/// Kind of an [`ExecuteResult`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ResultKind {
    /// `{data, meta}` envelope: list/search operations and operations with a meta extractor.
    Envelope,
    /// The extracted record (or raw body) itself.
    Raw,
    /// Bytes of a download (`data` is `{"content_base64": ..., "size": n}` in `execute`).
    Download,
}

/// Result of one call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ExecuteResult {
    /// Records (envelope) or the record / raw body.
    pub data: Value,
    /// Meta values from the meta extractor; `None` when the operation declares none.
    pub meta: Option<Map<String, Value>>,
    /// Envelope or raw, as the reference runtime returns it.
    pub kind: ResultKind,
}

impl ExecuteResult {
    /// A result from its parts.
    pub fn new(data: Value, meta: Option<Map<String, Value>>, kind: ResultKind) -> Self {
        ExecuteResult { data, meta, kind }
    }

    /// The result as one JSON value: `{"data", "meta"}` for envelopes, `data` otherwise.
    pub fn into_value(self) -> Value {
        match self.kind {
            ResultKind::Envelope => {
                let mut m = Map::new();
                m.insert("data".into(), self.data);
                m.insert(
                    "meta".into(),
                    self.meta.map(Value::Object).unwrap_or(Value::Null),
                );
                Value::Object(m)
            }
            _ => self.data,
        }
    }
}

/// Parse a successful body: empty → `{}`; JSON / `+json` / missing type → JSON; HTML or XML →
/// error; other types → JSON attempt.
pub fn parse_body(status: u16, headers: &Headers, bytes: &[u8]) -> Result<Value> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Object(Map::new()));
    }
    let ct = headers
        .get("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let mime = ct.split(';').next().unwrap_or("").trim().to_string();
    if mime == "text/html"
        || mime == "application/xml"
        || mime == "text/xml"
        || mime.ends_with("+xml")
    {
        return Err(Error::Response {
            status,
            message: format!("expected JSON but received `{mime}`"),
        });
    }
    serde_json::from_slice(bytes).map_err(|e| Error::Response {
        status,
        message: format!("invalid JSON body ({e})"),
    })
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        Value::Object(m) => {
            for key in [
                "userPresentableMessage",
                "message",
                "error_description",
                "error",
                "detail",
                "title",
            ] {
                if let Some(t) = m.get(key).and_then(text_of) {
                    return Some(t);
                }
            }
            Some(v.to_string())
        }
        other => Some(other.to_string()),
    }
}

/// Extract the message from an error body as the reference does, but structured.
pub fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        let t = text.trim();
        return if t.is_empty() {
            "(empty response body)".into()
        } else {
            t.chars().take(2000).collect()
        };
    };
    if let Some(Value::Array(errors)) = v.get("errors") {
        let msgs: Vec<String> = errors
            .iter()
            .filter_map(|e| match e {
                Value::Object(m) => ["userPresentableMessage", "message", "error"]
                    .iter()
                    .find_map(|k| m.get(*k).and_then(text_of)),
                other => text_of(other),
            })
            .collect();
        if !msgs.is_empty() {
            return msgs.join(", ");
        }
    }
    for key in ["message", "error"] {
        if let Some(t) = v.get(key).and_then(text_of) {
            return t;
        }
    }
    match &v {
        Value::String(s) => s.clone(),
        other => other.to_string().chars().take(2000).collect(),
    }
}

fn error_code(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let pick = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    v.get("code")
        .and_then(pick)
        .or_else(|| v.get("error").and_then(|e| e.get("code")).and_then(pick))
        .or_else(|| v.get("error").and_then(|e| e.get("type")).and_then(pick))
        .or_else(|| {
            v.get("errors")
                .and_then(|e| e.get(0))
                .and_then(|e| e.get("code"))
                .and_then(pick)
        })
}

fn request_id(h: &Headers) -> Option<String> {
    [
        "x-request-id",
        "request-id",
        "x-amzn-requestid",
        "x-github-request-id",
        "cf-ray",
        "x-trace-id",
    ]
    .iter()
    .find_map(|k| h.get(k).map(str::to_string))
}

/// Map a status ≥ 400 to an error.
pub fn status_error(status: u16, headers: &Headers, body: &[u8]) -> Error {
    let details = HttpErrorDetails {
        status,
        message: error_message(body),
        code: error_code(body),
        request_id: request_id(headers),
    };
    match status {
        401 | 403 => Error::Auth(details),
        404 => Error::NotFound(details),
        429 => Error::RateLimited {
            retry_after: headers
                .get("retry-after")
                .and_then(crate::headers::parse_retry_after),
            details,
        },
        400 | 422 => Error::Validation(details),
        _ => Error::Service(details),
    }
}

/// `x-airbyte-response-error-check`.
pub fn check_error(
    descriptor: &ConnectorDescriptor,
    headers: &Headers,
    body: &Value,
) -> Result<()> {
    let Some(check) = &descriptor.response_error_check else {
        return Ok(());
    };
    let Value::Object(m) = body else {
        return Ok(());
    };
    let expected: Value = serde_json::from_str(check.on_value)
        .unwrap_or_else(|_| Value::String(check.on_value.into()));
    if m.get(check.field) == Some(&expected) {
        let message = check
            .message_field
            .and_then(|f| m.get(f))
            .and_then(text_of)
            .unwrap_or_else(|| "Unknown error".into());
        return Err(Error::Api(HttpErrorDetails {
            status: 200,
            message,
            code: None,
            request_id: request_id(headers),
        }));
    }
    Ok(())
}

/// A `@link.<rel>` or `@header.<name>` meta value.
pub fn meta_from_headers(headers: &Headers, expr: &str) -> Option<Value> {
    if let Some(rel) = expr.strip_prefix("@link.") {
        headers
            .get("link")
            .and_then(|h| crate::headers::link_rel(h, rel))
            .map(Value::String)
    } else if let Some(h) = expr.strip_prefix("@header.") {
        headers.get(h).map(|v| Value::String(v.to_string()))
    } else {
        None
    }
}

/// Meta extraction on the full body.
pub fn extract_meta(
    op: &OperationDescriptor,
    headers: &Headers,
    body: &Value,
) -> Option<Map<String, Value>> {
    if op.response.meta_extractor.is_empty() {
        return None;
    }
    let mut meta = Map::new();
    for (name, expr) in op.response.meta_extractor {
        let v = if expr.starts_with("@link.") || expr.starts_with("@header.") {
            meta_from_headers(headers, expr)
        } else {
            JsonPath::parse(expr).and_then(|p| p.find(body).into_iter().next().cloned())
        };
        meta.insert((*name).to_string(), v.unwrap_or(Value::Null));
    }
    Some(meta)
}

fn wrap_primitive(v: Value) -> Value {
    match v {
        Value::Object(_) | Value::Array(_) | Value::Null => v,
        other => {
            let mut m = Map::new();
            m.insert("value".into(), other);
            Value::Object(m)
        }
    }
}

/// Record extraction (§2.6 rules).
fn extract_records(op: &OperationDescriptor, body: Value, wrap: bool) -> Result<Value> {
    let wrap_primitive = |v: Value| if wrap { wrap_primitive(v) } else { v };
    let wrap_all = |v: Value| match v {
        Value::Array(a) => Value::Array(a.into_iter().map(wrap_primitive).collect()),
        other => wrap_primitive(other),
    };
    let Some(expr) = op.response.record_extractor else {
        return Ok(body);
    };
    let path = JsonPath::parse(expr)
        .ok_or_else(|| Error::records(op, format!("unsupported record extractor `{expr}`")))?;
    let many = op.kind.returns_many();
    let matches = path.find(&body);
    if many {
        Ok(match matches.len() {
            0 => Value::Array(Vec::new()),
            1 => {
                let m = matches[0];
                if m.is_array() || path.is_root() || !path.has_wildcard() {
                    wrap_all(m.clone())
                } else {
                    Value::Array(vec![wrap_primitive(m.clone())])
                }
            }
            _ => Value::Array(
                matches
                    .into_iter()
                    .map(|m| wrap_primitive(m.clone()))
                    .collect(),
            ),
        })
    } else {
        Ok(matches
            .into_iter()
            .next()
            .map(|m| wrap_all(m.clone()))
            .unwrap_or(Value::Null))
    }
}

/// Whether a successful result of `op` is the `{data, meta}` envelope (lists and searches,
/// and any operation extracting meta); otherwise it is the record itself.
pub fn answers_envelope(op: &OperationDescriptor) -> bool {
    op.kind.returns_many() || !op.response.meta_extractor.is_empty()
}

/// Shape a successful JSON body into the call result.
pub fn shape(
    descriptor: &ConnectorDescriptor,
    op: &OperationDescriptor,
    headers: &Headers,
    body: Value,
    config: &BTreeMap<String, String>,
) -> Result<ExecuteResult> {
    check_error(descriptor, headers, &body)?;
    let meta = extract_meta(op, headers, &body);
    let transforming = !op.response.record_transform.is_empty();
    let mut data = extract_records(op, body, !transforming)?;
    let config_value = Value::Object(
        config
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    );
    if transforming {
        data = map_records(data, |rec| transform(op, rec, &config_value))?;
    }
    if op.kind.returns_many()
        && let Some(filter) = op.response.record_filter
    {
        data = filter_records(op, data, filter, &config_value)?;
    }
    let envelope = answers_envelope(op);
    Ok(ExecuteResult {
        data,
        meta,
        kind: if envelope {
            ResultKind::Envelope
        } else {
            ResultKind::Raw
        },
    })
}

fn map_records(data: Value, f: impl Fn(Value) -> Result<Value>) -> Result<Value> {
    match data {
        Value::Array(a) => Ok(Value::Array(a.into_iter().map(f).collect::<Result<_>>()?)),
        Value::Null => Ok(Value::Null),
        other => f(other),
    }
}

fn transform(op: &OperationDescriptor, rec: Value, config: &Value) -> Result<Value> {
    // Objects keep their fields and gain the transformed ones; a primitive record (seen by the
    // template as `record.value`) is replaced by the transformed fields.
    let (rec, mut out) = match rec {
        Value::Object(m) => (Value::Object(m.clone()), m),
        other => (wrap_primitive(other), Map::new()),
    };
    for (field, tmpl) in op.response.record_transform {
        let s = template::render_jinja(tmpl, &[("record", &rec), ("config", config)])
            .map_err(|e| Error::records(op, format!("record transform `{field}`: {e}")))?;
        out.insert((*field).to_string(), Value::String(s));
    }
    Ok(Value::Object(out))
}

fn filter_records(
    op: &OperationDescriptor,
    data: Value,
    filter: &str,
    config: &Value,
) -> Result<Value> {
    let keep = |rec: &Value| -> Result<bool> {
        let s = template::render_jinja(filter, &[("record", rec), ("config", config)])
            .map_err(|e| Error::records(op, format!("record filter: {e}")))?;
        Ok(!template::is_falsy_text(&s))
    };
    match data {
        Value::Array(a) => {
            let mut out = Vec::with_capacity(a.len());
            for rec in a {
                if keep(&rec)? {
                    out.push(rec);
                }
            }
            Ok(Value::Array(out))
        }
        Value::Null => Ok(Value::Array(Vec::new())),
        other => {
            if keep(&other)? {
                Ok(other)
            } else {
                Ok(Value::Array(Vec::new()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(
            error_message(br#"{"error":"not_found","message":"gone"}"#),
            "gone"
        );
        assert_eq!(
            error_message(
                br#"{"errors":[{"message":"a"},{"userPresentableMessage":"b","message":"x"}]}"#
            ),
            "a, b"
        );
        assert_eq!(
            error_message(br#"{"error":{"message":"nested","type":"x"}}"#),
            "nested"
        );
        assert_eq!(error_message(b"plain text"), "plain text");
    }
}
