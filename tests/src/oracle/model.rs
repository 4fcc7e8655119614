//! The oracle file format (`<connector>.json`), as recorded from the reference runtime.
//!
//! Only the fields the replayer needs are typed; unknown fields are ignored so newer oracle
//! files keep loading.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::OracleError;

/// One oracle file: what the reference runtime did for every operation of one connector.
#[derive(Debug, Clone, Deserialize)]
pub struct OracleFile {
    /// Connector slug (`stripe`).
    pub connector: String,
    /// Spec version the cases were recorded with.
    #[serde(default)]
    pub spec_version: Option<String>,
    /// Base URL the cases ran against, with `{mock_host}` standing for the server's `host:port`.
    pub mock_base_url: String,
    /// Auth scheme used by default.
    pub auth_scheme: String,
    /// Fake credential values of the default auth scheme.
    #[serde(default)]
    pub credentials: BTreeMap<String, Value>,
    /// Server-variable / config values (`subdomain`, `instance_url`, ...).
    #[serde(default)]
    pub config: BTreeMap<String, Value>,
    /// Per auth scheme: where the OAuth refresh endpoint was served.
    #[serde(default)]
    pub oauth_refresh: Option<BTreeMap<String, OAuthRefresh>>,
    /// What the mock answers to token requests.
    #[serde(default)]
    pub mock_token_response: Option<Value>,
    /// Other auth options with their fake credentials.
    #[serde(default)]
    pub auth_variants: Vec<AuthVariant>,
    /// The recorded cases.
    pub cases: Vec<Case>,
}

/// Where one auth scheme's refresh endpoint was served by the mock.
#[derive(Debug, Clone, Deserialize)]
pub struct OAuthRefresh {
    /// The spec's refresh URL.
    #[serde(default)]
    pub original: Option<String>,
    /// Path on the mock server.
    pub mock_path: String,
}

/// Another auth option and its fake credentials.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthVariant {
    /// Security scheme key.
    pub auth_scheme: String,
    /// Fake credential values.
    #[serde(default)]
    pub credentials: BTreeMap<String, Value>,
}

/// One recorded call.
#[derive(Debug, Clone, Deserialize)]
pub struct Case {
    /// `<entity>.<action>.<variant>`.
    pub id: String,
    /// Entity name.
    pub entity: String,
    /// Action name.
    pub action: String,
    /// Parameters passed to `execute`.
    #[serde(default)]
    pub params: Value,
    /// Auth scheme the connector was built with.
    pub auth_scheme: String,
    /// What the mock answers to the operation's request.
    pub mock_response: MockResponse,
    /// Every request sent, in order.
    #[serde(default)]
    pub requests: Vec<RecordedRequest>,
    /// What the call produced.
    pub result: ExpectedResult,
}

/// A canned response.
#[derive(Debug, Clone, Deserialize)]
pub struct MockResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body.
    #[serde(default)]
    pub body: Option<Value>,
    /// Binary body, base64.
    #[serde(default)]
    pub body_base64: Option<String>,
}

/// A request as received by the mock (also used for the requests we observe).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Percent-encoded path as on the wire.
    pub path: String,
    /// Exact query string.
    #[serde(default)]
    pub raw_query: String,
    /// Lower-cased header names → values (secrets masked).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Body as text.
    #[serde(default)]
    pub body_text: Option<String>,
    /// Body as base64 when it is not UTF-8.
    #[serde(default)]
    pub body_base64: Option<String>,
    /// Body parsed as JSON.
    #[serde(default)]
    pub body_json: Option<Value>,
    /// Form pairs.
    #[serde(default)]
    pub body_form: Option<Vec<(String, String)>>,
}

/// The recorded outcome of `execute`.
#[derive(Debug, Clone, Deserialize)]
pub struct ExpectedResult {
    /// Whether `execute` returned without raising.
    pub success: bool,
    /// `envelope`, `raw`, `download`, or `null` on error.
    #[serde(default)]
    pub kind: Option<String>,
    /// Returned data.
    #[serde(default)]
    pub data: Value,
    /// Envelope meta.
    #[serde(default)]
    pub meta: Value,
    /// Exception raised.
    #[serde(default)]
    pub error: Option<ExpectedError>,
}

/// A Python exception: class name and message.
#[derive(Debug, Clone, Deserialize)]
pub struct ExpectedError {
    /// Python class name (`HTTPStatusError`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Message.
    pub message: String,
}

impl OracleFile {
    /// Read and parse one oracle file.
    pub fn load(path: &Path) -> Result<Self, OracleError> {
        let text = std::fs::read_to_string(path).map_err(|source| OracleError::Io {
            path: path.display().to_string(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| OracleError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// The credentials of `scheme` (the default or one of the variants).
    pub fn credentials_for(&self, scheme: &str) -> Option<&BTreeMap<String, Value>> {
        if scheme == self.auth_scheme {
            return Some(&self.credentials);
        }
        self.auth_variants
            .iter()
            .find(|v| v.auth_scheme == scheme)
            .map(|v| &v.credentials)
    }
}

/// Replace `{mock_host}` in every string of a JSON value.
pub fn substitute_host(value: &Value, host: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("{mock_host}", host)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| substitute_host(v, host)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute_host(v, host)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A JSON scalar as plain text (strings without quotes).
pub fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
