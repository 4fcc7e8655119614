//! The cassette document (the reference SDK's `TestSpec` layout).

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::CassetteError;

/// What redacted values are replaced with. In a captured request it matches any value on replay.
pub const REDACTED: &str = "***REDACTED***";

/// One recorded call: what was asked, what was sent, what came back.
///
/// Unknown keys are ignored on load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cassette {
    /// Name of the test.
    pub test_name: String,
    /// Free text.
    #[serde(default, deserialize_with = "de_string")]
    pub description: String,
    /// Entity of the call.
    pub entity: String,
    /// Action of the call.
    pub action: String,
    /// Auth field → `${ENV_VAR}` reference (never a literal secret).
    #[serde(default, deserialize_with = "de_string_map")]
    pub auth_config: BTreeMap<String, String>,
    /// Auth scheme key (the connector's first scheme when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_scheme: Option<String>,
    /// Server variables / config values (`subdomain`, ...) used on replay (an extension of the
    /// reference layout; omitted when empty).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "de_string_map"
    )]
    pub config: BTreeMap<String, String>,
    /// The call's inputs.
    #[serde(default)]
    pub inputs: Inputs,
    /// The operation's request as sent to the API.
    pub captured_request: CapturedRequest,
    /// The API's response.
    pub captured_response: CapturedResponse,
    /// Two-step downloads: the file request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_file_request: Option<CapturedRequest>,
    /// Two-step downloads: the file response (binary bodies as `{_binary: true, _base64: ...}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_file_response: Option<CapturedResponse>,
}

/// Inputs of the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inputs {
    /// `execute` params (a JSON object).
    #[serde(default = "empty_object")]
    pub params: Value,
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs {
            params: empty_object(),
        }
    }
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// A captured HTTP request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CapturedRequest {
    /// HTTP method (`GET`, ...).
    pub method: String,
    /// URL path as sent (including any base-URL path such as `/v1`).
    pub path: String,
    /// Absolute URL as sent (file requests of two-step downloads; an extension of the reference
    /// layout, omitted when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Decoded query parameters.
    #[serde(default)]
    pub query_params: BTreeMap<String, QueryValue>,
    /// Request headers, auth headers removed.
    #[serde(default, deserialize_with = "de_string_map")]
    pub headers: BTreeMap<String, String>,
    /// Body: JSON value, text, `{_binary: true, _base64: ...}`, or null.
    #[serde(default)]
    pub body: Value,
    /// How strictly replay compares the received request with this one.
    #[serde(default)]
    pub validation: Validation,
}

/// Value of a query parameter: one string, or several for a repeated name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum QueryValue {
    /// `name=value` once.
    One(String),
    /// `name=a&name=b`.
    Many(Vec<String>),
}

impl QueryValue {
    /// The values, in order.
    pub fn values(&self) -> Vec<&str> {
        match self {
            QueryValue::One(s) => vec![s.as_str()],
            QueryValue::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }

    pub(crate) fn from_values(mut v: Vec<String>) -> Self {
        if v.len() == 1 {
            QueryValue::One(v.remove(0))
        } else {
            QueryValue::Many(v)
        }
    }
}

impl From<&str> for QueryValue {
    fn from(s: &str) -> Self {
        QueryValue::One(s.to_string())
    }
}

impl<'de> Deserialize<'de> for QueryValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Array(items) => Ok(QueryValue::Many(items.iter().map(scalar_text).collect())),
            other => Ok(QueryValue::One(scalar_text(&other))),
        }
    }
}

/// Replay strictness (defaults as in the reference).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Validation {
    /// Query parameters must match exactly (else: the captured ones must be present).
    pub query_params_strict: bool,
    /// No headers beyond the captured ones (auth, transport and ignored headers excepted).
    pub headers_strict: bool,
    /// The body must be equal (else: the captured JSON must be contained in the received one).
    pub body_strict: bool,
    /// Header names never compared.
    pub ignore_headers: Vec<String>,
}

impl Default for Validation {
    fn default() -> Self {
        Validation {
            query_params_strict: true,
            headers_strict: false,
            body_strict: true,
            ignore_headers: vec!["User-Agent".into(), "Accept-Encoding".into(), "Date".into()],
        }
    }
}

/// A captured HTTP response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CapturedResponse {
    /// HTTP status.
    pub status_code: u16,
    /// Response headers (secret-bearing ones redacted).
    #[serde(default, deserialize_with = "de_string_map")]
    pub headers: BTreeMap<String, String>,
    /// Body: JSON value, text, `{_binary: true, _base64: ...}`, or null.
    #[serde(default)]
    pub body: Value,
}

impl Cassette {
    /// Read a cassette file.
    pub fn load(path: impl AsRef<Path>) -> Result<Cassette, CassetteError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| CassetteError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse a cassette from YAML text.
    pub fn from_yaml(yaml: &str) -> Result<Cassette, CassetteError> {
        Self::parse(yaml, "<string>")
    }

    fn parse(yaml: &str, origin: &str) -> Result<Cassette, CassetteError> {
        let c: Cassette = serde_saphyr::from_str(yaml).map_err(|e| CassetteError::Invalid {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        c.validate(origin)?;
        Ok(c)
    }

    /// Check the cassette: required fields, methods, statuses, `${ENV_VAR}` auth values.
    pub fn validate(&self, origin: &str) -> Result<(), CassetteError> {
        let invalid = |message: String| CassetteError::Invalid {
            origin: origin.to_string(),
            message,
        };
        for (name, value) in [("entity", &self.entity), ("action", &self.action)] {
            if value.trim().is_empty() {
                return Err(invalid(format!("`{name}` is empty")));
            }
        }
        for (field, value) in &self.auth_config {
            if env_reference(value).is_none() {
                return Err(CassetteError::LiteralSecret {
                    origin: origin.to_string(),
                    field: field.clone(),
                });
            }
        }
        if !self.inputs.params.is_object() && !self.inputs.params.is_null() {
            return Err(invalid("`inputs.params` must be a mapping".into()));
        }
        let pairs = [
            (
                "captured_request",
                Some(&self.captured_request),
                "captured_response",
                Some(&self.captured_response),
            ),
            (
                "captured_file_request",
                self.captured_file_request.as_ref(),
                "captured_file_response",
                self.captured_file_response.as_ref(),
            ),
        ];
        for (req_name, req, resp_name, resp) in pairs {
            if let Some(req) = req {
                if !is_http_method(&req.method) {
                    return Err(invalid(format!(
                        "`{req_name}.method` is not an HTTP method: `{}`",
                        req.method
                    )));
                }
                if !req.path.starts_with('/') {
                    return Err(invalid(format!(
                        "`{req_name}.path` must start with `/`: `{}`",
                        req.path
                    )));
                }
                body_bytes(&req.body).map_err(|m| invalid(format!("`{req_name}.body`: {m}")))?;
            }
            match (req.is_some(), resp) {
                (true, None) => {
                    return Err(invalid(format!("`{req_name}` has no `{resp_name}`")));
                }
                (false, Some(_)) => {
                    return Err(invalid(format!("`{resp_name}` has no `{req_name}`")));
                }
                (_, Some(resp)) => {
                    if !(100..=599).contains(&resp.status_code) {
                        return Err(invalid(format!(
                            "`{resp_name}.status_code` is not an HTTP status: {}",
                            resp.status_code
                        )));
                    }
                    body_bytes(&resp.body)
                        .map_err(|m| invalid(format!("`{resp_name}.body`: {m}")))?;
                }
                (false, None) => {}
            }
        }
        Ok(())
    }

    /// The cassette as YAML.
    pub fn to_yaml(&self) -> Result<String, CassetteError> {
        serde_saphyr::to_string(self).map_err(|e| CassetteError::Serialize(e.to_string()))
    }

    /// Write the cassette to `path` as YAML.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CassetteError> {
        let path = path.as_ref();
        let yaml = self.to_yaml()?;
        std::fs::write(path, yaml).map_err(|source| CassetteError::Io {
            path: path.display().to_string(),
            source,
        })
    }
}

fn is_http_method(m: &str) -> bool {
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(m))
}

/// `${NAME}` → `NAME` (letters, digits, `_`; not starting with a digit).
pub(crate) fn env_reference(value: &str) -> Option<&str> {
    let name = value.trim().strip_prefix("${")?.strip_suffix('}')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    ((first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
    .then_some(name)
}

/// A body value as bytes (`None` for null). Errors name what is wrong.
pub(crate) fn body_bytes(body: &Value) -> Result<Option<Vec<u8>>, String> {
    match body {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.as_bytes().to_vec())),
        Value::Object(m) if m.get("_binary").and_then(Value::as_bool) == Some(true) => {
            let b64 = m
                .get("_base64")
                .and_then(Value::as_str)
                .ok_or("`_binary` body without a `_base64` string")?;
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map(Some)
                .map_err(|e| format!("`_base64` is not valid base64: {e}"))
        }
        other => Ok(Some(other.to_string().into_bytes())),
    }
}

/// Is the body value a `{_binary: true, ...}` marker?
pub(crate) fn is_binary(body: &Value) -> bool {
    body.get("_binary").and_then(Value::as_bool) == Some(true)
}

/// Body bytes → cassette value: JSON when the content type says so (or none is given and the
/// bytes parse), text when UTF-8, else `{_binary: true, _base64}`; empty → null.
pub(crate) fn body_value(bytes: &[u8], content_type: Option<&str>) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    let json_type = content_type.is_none_or(|ct| ct.to_ascii_lowercase().contains("json"));
    if json_type && let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return v;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.contains('\0') => Value::String(s.to_string()),
        _ => {
            let mut m = serde_json::Map::new();
            m.insert("_binary".into(), Value::Bool(true));
            m.insert(
                "_base64".into(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
            );
            Value::Object(m)
        }
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn de_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(scalar_text(&Value::deserialize(d)?))
}

/// A mapping whose scalar values may be written unquoted (`limit: 10`); lists are joined.
fn de_string_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let v = Option::<BTreeMap<String, Value>>::deserialize(d)?;
    Ok(v.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            let text = match &v {
                Value::Array(items) => items.iter().map(scalar_text).collect::<Vec<_>>().join(", "),
                other => scalar_text(other),
            };
            (k, text)
        })
        .collect())
}
