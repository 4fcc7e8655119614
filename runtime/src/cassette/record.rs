//! Recording: a loopback proxy in front of the real API that captures one call as a cassette.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use secrecy::ExposeSecret as _;
use serde_json::Value;

use super::CassetteError;
use super::model::{
    self, CapturedRequest, CapturedResponse, Cassette, Inputs, QueryValue, REDACTED,
};
use super::redact::{redact_json, redact_text, sensitive_header, sensitive_query_key};
use super::replay::base_path;
use super::server::{self, Incoming, Loopback, Outgoing};
use crate::{ConnectorDescriptor, Credentials};

/// Entry point of recording.
#[derive(Debug, Clone, Copy)]
pub struct Recorder;

/// One request forwarded upstream and its response.
#[derive(Debug, Clone)]
struct Exchange {
    request: Incoming,
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

/// A running recording proxy (stops when dropped).
#[derive(Debug)]
pub struct RecorderServer {
    server: Loopback,
    upstream: String,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
}

/// What the recorded call was, for [`RecorderServer::cassette`].
#[derive(Debug, Clone, Default)]
pub struct RecordedCall {
    /// `test_name` of the cassette.
    pub test_name: String,
    /// `description` of the cassette.
    pub description: String,
    /// Entity of the call.
    pub entity: String,
    /// Action of the call.
    pub action: String,
    /// `execute` params of the call.
    pub params: Value,
    /// Auth field → environment variable name that will hold it on replay. Fields not listed
    /// get their upper-cased name (`api_key` → `${API_KEY}`).
    pub auth_env: BTreeMap<String, String>,
    /// Server variables the client was built with (`subdomain`, ...).
    pub config: BTreeMap<String, String>,
}

impl RecordedCall {
    /// A call of `entity`/`action` with `params`, named `test_name`.
    pub fn new(
        test_name: impl Into<String>,
        entity: impl Into<String>,
        action: impl Into<String>,
        params: Value,
    ) -> Self {
        RecordedCall {
            test_name: test_name.into(),
            entity: entity.into(),
            action: action.into(),
            params,
            ..Default::default()
        }
    }

    /// The environment variable holding auth field `field` on replay.
    pub fn auth_env(mut self, field: impl Into<String>, var: impl Into<String>) -> Self {
        self.auth_env.insert(field.into(), var.into());
        self
    }

    /// A server variable the client was built with.
    pub fn config(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(name.into(), value.into());
        self
    }

    /// The cassette's description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }
}

impl Recorder {
    /// Start a proxy on 127.0.0.1:0 forwarding every request to `upstream_base_url` (the API's
    /// origin, e.g. `https://api.stripe.com`): the request path is appended to it. Absolute URLs
    /// to the upstream inside responses are pointed at the proxy, so the file request of a
    /// two-step download is captured too. Redirects are followed upstream.
    pub async fn start(
        upstream_base_url: impl Into<String>,
    ) -> Result<RecorderServer, CassetteError> {
        let upstream = upstream_base_url.into().trim_end_matches('/').to_string();
        if !(upstream.starts_with("http://") || upstream.starts_with("https://")) {
            return Err(CassetteError::Server(format!(
                "upstream base URL must start with http:// or https://: `{upstream}`"
            )));
        }
        let http = crate::transport::HttpClient::FollowRedirects
            .build(Duration::from_secs(60), Duration::from_secs(10))
            .map_err(CassetteError::Client)?;
        let exchanges: Arc<Mutex<Vec<Exchange>>> = Arc::default();
        let origin: Arc<OnceLock<String>> = Arc::default();
        let handler: server::Handler = {
            let exchanges = exchanges.clone();
            let origin = origin.clone();
            let upstream = upstream.clone();
            Arc::new(move |req: Incoming| {
                let http = http.clone();
                let exchanges = exchanges.clone();
                let origin = origin.clone();
                let upstream = upstream.clone();
                Box::pin(async move {
                    forward(
                        &http,
                        &upstream,
                        origin.get().map(String::as_str),
                        req,
                        &exchanges,
                    )
                    .await
                })
            })
        };
        let server = Loopback::start(handler).await?;
        let _ = origin.set(server.origin());
        Ok(RecorderServer {
            server,
            upstream,
            exchanges,
        })
    }
}

async fn forward(
    http: &reqwest::Client,
    upstream: &str,
    origin: Option<&str>,
    req: Incoming,
    exchanges: &Mutex<Vec<Exchange>>,
) -> Outgoing {
    let url = match &req.raw_query {
        Some(q) => format!("{upstream}{}?{q}", req.path),
        None => format!("{upstream}{}", req.path),
    };
    let failed = |message: &str| Outgoing {
        status: 502,
        headers: vec![("content-type".into(), "text/plain".into())],
        body: Bytes::from(format!("cassette recorder: {message}")),
    };
    let Ok(method) = reqwest::Method::from_bytes(req.method.as_bytes()) else {
        return failed("unsupported method");
    };
    let mut builder = http.request(method, &url);
    for (k, v) in &req.headers {
        // Bodies stay uncompressed so the cassette holds readable text.
        if server::is_hop_header(k) || k == "host" || k == "accept-encoding" {
            continue;
        }
        builder = builder.header(k.as_str(), v.as_str());
    }
    let resp = match builder.body(req.body.clone()).send().await {
        Ok(r) => r,
        // No details: reqwest's message names the URL, whose query may carry a key.
        Err(e) if e.is_timeout() => return failed("upstream request timed out"),
        Err(e) if e.is_connect() => return failed("cannot connect to the upstream"),
        Err(_) => return failed("upstream request failed"),
    };
    let status = resp.status().as_u16();
    let headers = server::header_list(resp.headers());
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(_) => return failed("upstream response body could not be read"),
    };
    if let Ok(mut ex) = exchanges.lock() {
        ex.push(Exchange {
            request: req,
            status,
            headers: headers.clone(),
            body: body.clone(),
        });
    }
    // Upstream URLs in the response lead back through the proxy.
    let body = match (origin, std::str::from_utf8(&body)) {
        (Some(origin), Ok(text)) if text.contains(upstream) => {
            Bytes::from(text.replace(upstream, origin))
        }
        _ => body,
    };
    Outgoing {
        status,
        headers,
        body,
    }
}

impl RecorderServer {
    /// `http://127.0.0.1:<port>`
    pub fn base_url(&self) -> String {
        self.server.origin()
    }

    /// The base URL to give a client of `descriptor`: the proxy's origin plus the path of the
    /// connector's base URL (`/v1`, ...), so upstream receives the real paths.
    pub fn client_base_url(&self, descriptor: &ConnectorDescriptor) -> String {
        format!("{}{}", self.base_url(), base_path(descriptor.base_url))
    }

    /// How many requests were forwarded so far.
    pub fn exchange_count(&self) -> usize {
        self.exchanges.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// Forget what was recorded (record one call per cassette).
    pub fn clear(&self) {
        if let Ok(mut e) = self.exchanges.lock() {
            e.clear();
        }
    }

    /// Build the cassette of the recorded call. `credentials` are the ones the client used: no
    /// auth header is kept, secret-looking values are redacted, and if any credential value
    /// still appears anywhere the cassette is refused ([`CassetteError::SecretLeak`]).
    ///
    /// The operation's request is the last one with the first request's method and path (so
    /// retries record their final answer); a later request elsewhere is the file request of a
    /// two-step download.
    pub fn cassette(
        &self,
        call: &RecordedCall,
        credentials: &Credentials,
    ) -> Result<Cassette, CassetteError> {
        let exchanges = self.exchanges.lock().map(|e| e.clone()).unwrap_or_default();
        let first = exchanges.first().ok_or(CassetteError::NothingRecorded)?;
        let same = |e: &Exchange| {
            e.request.method == first.request.method && e.request.path == first.request.path
        };
        let main = exchanges.iter().rev().find(|e| same(e)).unwrap_or(first);
        let file = exchanges.iter().rev().find(|e| !same(e));

        let secrets: Vec<(String, String)> = credentials
            .field_names()
            .filter_map(|f| {
                credentials
                    .get(f)
                    .map(|s| (f.to_string(), s.expose_secret().to_string()))
            })
            .filter(|(_, s)| s.len() >= 4)
            .collect();
        let secret_values: Vec<&str> = secrets.iter().map(|(_, s)| s.as_str()).collect();

        let mut auth_config = BTreeMap::new();
        for field in credentials.field_names() {
            let var = call
                .auth_env
                .get(field)
                .cloned()
                .unwrap_or_else(|| field.to_ascii_uppercase().replace(['-', '.', ' '], "_"));
            auth_config.insert(field.to_string(), format!("${{{var}}}"));
        }
        let mut params = if call.params.is_null() {
            Value::Object(serde_json::Map::new())
        } else {
            call.params.clone()
        };
        redact_json(&mut params);

        let cassette = Cassette {
            test_name: call.test_name.clone(),
            description: call.description.clone(),
            entity: call.entity.clone(),
            action: call.action.clone(),
            auth_config,
            auth_scheme: Some(credentials.scheme().to_string()),
            config: call.config.clone(),
            inputs: Inputs { params },
            captured_request: capture_request(&main.request, None, &secret_values),
            captured_response: capture_response(main, &secret_values),
            captured_file_request: file.map(|f| {
                capture_request(
                    &f.request,
                    Some(format!("{}{}", self.upstream, f.request.path)),
                    &secret_values,
                )
            }),
            captured_file_response: file.map(|f| capture_response(f, &secret_values)),
        };
        cassette.validate(&format!("`{}`", cassette.test_name))?;
        check_secrets(&cassette, &secrets)?;
        Ok(cassette)
    }
}

fn contains_any(text: &str, secrets: &[&str]) -> bool {
    secrets.iter().any(|s| text.contains(s))
}

fn capture_request(req: &Incoming, url: Option<String>, secrets: &[&str]) -> CapturedRequest {
    let mut query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in req.query_pairs() {
        let v = if sensitive_query_key(&k) || contains_any(&v, secrets) {
            REDACTED.to_string()
        } else {
            redact_text(&v)
        };
        query.entry(k).or_default().push(v);
    }
    let headers = req
        .headers
        .iter()
        .filter(|(k, v)| {
            !(sensitive_header(k)
                || server::is_hop_header(k)
                || k == "host"
                || contains_any(v, secrets))
        })
        .map(|(k, v)| (k.clone(), redact_text(v)))
        .collect();
    let mut body = model::body_value(&req.body, req.header("content-type"));
    redact_json(&mut body);
    CapturedRequest {
        method: req.method.clone(),
        path: req.path.clone(),
        url,
        query_params: query
            .into_iter()
            .map(|(k, v)| (k, QueryValue::from_values(v)))
            .collect(),
        headers,
        body,
        validation: Default::default(),
    }
}

fn capture_response(ex: &Exchange, secrets: &[&str]) -> CapturedResponse {
    let content_type = ex
        .headers
        .iter()
        .find(|(k, _)| k == "content-type")
        .map(|(_, v)| v.as_str());
    let mut body = model::body_value(&ex.body, content_type);
    redact_json(&mut body);
    CapturedResponse {
        status_code: ex.status,
        headers: ex
            .headers
            .iter()
            .filter(|(k, _)| !server::is_hop_header(k))
            .map(|(k, v)| {
                let v = if sensitive_header(k) || contains_any(v, secrets) {
                    REDACTED.to_string()
                } else {
                    redact_text(v)
                };
                (k.clone(), v)
            })
            .collect(),
        body,
    }
}

/// Refuse a cassette in which a credential value (raw, percent-encoded or JSON-escaped) appears.
fn check_secrets(c: &Cassette, secrets: &[(String, String)]) -> Result<(), CassetteError> {
    let mut parts: Vec<(String, String)> = vec![
        ("test_name".into(), c.test_name.clone()),
        ("description".into(), c.description.clone()),
        ("config".into(), json(&c.config)),
        ("inputs.params".into(), json(&c.inputs.params)),
    ];
    let requests = [
        ("captured_request", Some(&c.captured_request)),
        ("captured_file_request", c.captured_file_request.as_ref()),
    ];
    for (name, req) in requests {
        if let Some(r) = req {
            parts.push((format!("{name}.path"), r.path.clone()));
            parts.push((format!("{name}.url"), r.url.clone().unwrap_or_default()));
            parts.push((format!("{name}.query_params"), json(&r.query_params)));
            parts.push((format!("{name}.headers"), json(&r.headers)));
            parts.push((format!("{name}.body"), json(&r.body)));
        }
    }
    let responses = [
        ("captured_response", Some(&c.captured_response)),
        ("captured_file_response", c.captured_file_response.as_ref()),
    ];
    for (name, resp) in responses {
        if let Some(r) = resp {
            parts.push((format!("{name}.headers"), json(&r.headers)));
            parts.push((format!("{name}.body"), json(&r.body)));
        }
    }
    parts.push(("the YAML document".into(), c.to_yaml()?));
    for (field, secret) in secrets {
        let encoded =
            percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let escaped = Value::String(secret.clone()).to_string();
        let escaped = escaped.trim_matches('"').to_string();
        for (location, text) in &parts {
            if text.contains(secret.as_str()) || text.contains(&encoded) || text.contains(&escaped)
            {
                return Err(CassetteError::SecretLeak {
                    field: field.clone(),
                    location: location.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Any part of the cassette as JSON text, for the leak check.
fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
