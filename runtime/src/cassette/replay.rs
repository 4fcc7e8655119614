//! Replay: a loopback server answering a cassette's captured responses, checking what it receives.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::Value;

use super::CassetteError;
use super::compare::{Mismatch, RequestRole, compare, same_path};
use super::model::{self, CapturedRequest, CapturedResponse, Cassette};
use super::server::{self, Incoming, Loopback, Outgoing};
use crate::{Client, ClientBuilder, ConnectorDescriptor, Credentials, ExecuteResult, SecretString};

/// Entry points of replay.
#[derive(Debug, Clone, Copy)]
pub struct Replay;

/// The outcome of [`Replay::run`].
#[derive(Debug)]
pub struct ReplayReport {
    /// What `execute(entity, action, inputs.params)` returned.
    pub result: crate::Result<ExecuteResult>,
    /// Differences between the requests received and the captured ones (empty: all matched).
    pub mismatches: Vec<Mismatch>,
    /// How many requests the server received (retries included).
    pub requests: usize,
}

/// A running replay server (stops when dropped).
#[derive(Debug)]
pub struct ReplayServer {
    server: Loopback,
    received: Arc<Mutex<Vec<(RequestRole, Incoming)>>>,
    request: CapturedRequest,
    file_request: Option<CapturedRequest>,
}

struct Plan {
    response: Outgoing,
    file: Option<(CapturedRequest, Outgoing)>,
}

impl Replay {
    /// Start a server on 127.0.0.1:0 answering `cassette`'s captured response (and, for the file
    /// request of a two-step download, its captured file response).
    pub async fn start(cassette: &Cassette) -> Result<ReplayServer, CassetteError> {
        cassette.validate(&format!("`{}`", cassette.test_name))?;
        let received: Arc<Mutex<Vec<(RequestRole, Incoming)>>> = Arc::default();
        let plan: Arc<Mutex<Option<Plan>>> = Arc::default();
        let handler: server::Handler = {
            let received = received.clone();
            let plan = plan.clone();
            Arc::new(move |req: Incoming| {
                let out = match plan.lock() {
                    Ok(guard) => match guard.as_ref() {
                        Some(p) => {
                            let (role, out) = match &p.file {
                                Some((file_req, out)) if is_file_request(file_req, &req) => {
                                    (RequestRole::FileRequest, out.clone())
                                }
                                _ => (RequestRole::Request, p.response.clone()),
                            };
                            if let Ok(mut r) = received.lock() {
                                r.push((role, req));
                            }
                            out
                        }
                        None => unavailable(),
                    },
                    Err(_) => unavailable(),
                };
                Box::pin(async move { out })
            })
        };
        let server = Loopback::start(handler).await?;
        let origin = server.origin();
        let file_prefix = cassette
            .captured_file_request
            .as_ref()
            .and_then(upstream_prefix);
        let response = outgoing(
            &cassette.captured_response,
            file_prefix.as_deref().map(|p| (p, origin.as_str())),
        )
        .map_err(|m| invalid(cassette, format!("captured_response.body: {m}")))?;
        let file = match (
            &cassette.captured_file_request,
            &cassette.captured_file_response,
        ) {
            (Some(req), Some(resp)) => Some((
                req.clone(),
                outgoing(resp, None)
                    .map_err(|m| invalid(cassette, format!("captured_file_response.body: {m}")))?,
            )),
            _ => None,
        };
        if let Ok(mut p) = plan.lock() {
            *p = Some(Plan { response, file });
        }
        Ok(ReplayServer {
            server,
            received,
            request: cassette.captured_request.clone(),
            file_request: cassette.captured_file_request.clone(),
        })
    }

    /// Replay `cassette` through a real [`Client`]: resolve the `${ENV_VAR}` auth values with
    /// `env`, start a [`ReplayServer`], point a client at it (the runtime's auth, URL building
    /// and retry code all run), call `execute(entity, action, inputs.params)` and compare.
    pub async fn run(
        cassette: &Cassette,
        descriptor: &'static ConnectorDescriptor,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ReplayReport, CassetteError> {
        Self::run_with(cassette, descriptor, env, |b| b).await
    }

    /// [`Replay::run`] with a hook to adjust the client (retry policy, timeouts, ...).
    pub async fn run_with(
        cassette: &Cassette,
        descriptor: &'static ConnectorDescriptor,
        env: impl Fn(&str) -> Option<String>,
        configure: impl FnOnce(ClientBuilder) -> ClientBuilder,
    ) -> Result<ReplayReport, CassetteError> {
        cassette.validate(&format!("`{}`", cassette.test_name))?;
        let scheme = cassette
            .auth_scheme
            .clone()
            .or_else(|| descriptor.auth_schemes.first().map(|s| s.key.to_string()))
            .unwrap_or_default();
        let mut credentials = Credentials::for_scheme(scheme);
        let mut secrets = Vec::new();
        for (field, reference) in &cassette.auth_config {
            let var =
                model::env_reference(reference).ok_or_else(|| CassetteError::LiteralSecret {
                    origin: format!("`{}`", cassette.test_name),
                    field: field.clone(),
                })?;
            let value = env(var).ok_or_else(|| CassetteError::MissingEnv {
                field: field.clone(),
                var: var.to_string(),
            })?;
            if !value.is_empty() {
                secrets.push(value.clone());
            }
            credentials.insert(field.clone(), SecretString::from(value));
        }
        let server = Self::start(cassette).await?;
        let mut builder =
            Client::builder(descriptor, credentials).base_url(server.client_base_url(descriptor));
        for (k, v) in &cassette.config {
            builder = builder.server_variable(k.clone(), v.clone());
        }
        let client = configure(builder).build().map_err(CassetteError::Client)?;
        let result = client
            .execute(
                &cassette.entity,
                &cassette.action,
                cassette.inputs.params.clone(),
            )
            .await;
        let mut mismatches = server.mismatches();
        for m in &mut mismatches {
            for s in &secrets {
                m.expected = m.expected.replace(s.as_str(), "***");
                m.actual = m.actual.replace(s.as_str(), "***");
            }
        }
        Ok(ReplayReport {
            result,
            mismatches,
            requests: server.request_count(),
        })
    }
}

fn invalid(c: &Cassette, message: String) -> CassetteError {
    CassetteError::Invalid {
        origin: format!("`{}`", c.test_name),
        message,
    }
}

fn unavailable() -> Outgoing {
    Outgoing {
        status: 503,
        headers: Vec::new(),
        body: Bytes::from_static(b"replay server not ready"),
    }
}

impl ReplayServer {
    /// `http://127.0.0.1:<port>`
    pub fn base_url(&self) -> String {
        self.server.origin()
    }

    /// The base URL to give a client of `descriptor`: this server's origin plus the path of the
    /// connector's base URL (`/v1`, `/api/v2`, ...), so requests carry the same paths as on the
    /// real API.
    pub fn client_base_url(&self, descriptor: &ConnectorDescriptor) -> String {
        format!("{}{}", self.base_url(), base_path(descriptor.base_url))
    }

    /// How many requests were received so far.
    pub fn request_count(&self) -> usize {
        self.received.lock().map(|r| r.len()).unwrap_or(0)
    }

    /// Every difference between the received requests and the captured ones, under the captured
    /// validation flags. A captured request never received is reported too.
    pub fn mismatches(&self) -> Vec<Mismatch> {
        let received = match self.received.lock() {
            Ok(r) => r.clone(),
            Err(_) => Vec::new(),
        };
        let mut out = Vec::new();
        for (index, (role, req)) in received.iter().enumerate() {
            let captured = match role {
                RequestRole::FileRequest => match &self.file_request {
                    Some(f) => f,
                    None => continue,
                },
                _ => &self.request,
            };
            compare(*role, index, captured, req, &mut out);
        }
        let expected = [
            (RequestRole::Request, Some(&self.request)),
            (RequestRole::FileRequest, self.file_request.as_ref()),
        ];
        for (role, captured) in expected {
            if let Some(c) = captured
                && !received.iter().any(|(r, _)| *r == role)
            {
                out.push(Mismatch {
                    role,
                    index: received.len(),
                    field: "request".into(),
                    expected: format!("{} {}", c.method, c.path),
                    actual: "(not received)".into(),
                });
            }
        }
        out
    }
}

/// The path part of a base URL template: `https://{sub}.x.com/api/v2` → `/api/v2`,
/// `{instance_url}/services` → `/services`.
pub(crate) fn base_path(template: &str) -> &str {
    let rest = if let Some(after) = template
        .strip_prefix("https://")
        .or_else(|| template.strip_prefix("http://"))
    {
        after.find('/').map(|i| &after[i..]).unwrap_or("")
    } else if template.starts_with('{') {
        template.find('}').map(|i| &template[i + 1..]).unwrap_or("")
    } else {
        template
    };
    rest.trim_end_matches('/')
}

/// The upstream prefix of a captured file URL: the part before its path (`https://files.x.com`).
fn upstream_prefix(file: &CapturedRequest) -> Option<String> {
    let url = file.url.as_deref()?;
    let scheme_end = url.find("://")? + 3;
    let at = url[scheme_end..].find(file.path.as_str())? + scheme_end;
    Some(url[..at].to_string())
}

fn is_file_request(file: &CapturedRequest, req: &Incoming) -> bool {
    file.method.eq_ignore_ascii_case(&req.method) && same_path(&file.path, &req.path)
}

/// The response to serve for a captured one. `rewrite` = (upstream prefix, replay origin): the
/// file URL inside a two-step download's metadata response is pointed at the replay server.
fn outgoing(resp: &CapturedResponse, rewrite: Option<(&str, &str)>) -> Result<Outgoing, String> {
    let mut headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("content-encoding"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let content_type = resp
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.to_ascii_lowercase());
    let json_type = content_type.as_deref().is_some_and(|c| c.contains("json"));
    let body = match &resp.body {
        // A JSON response whose body is a string that is not itself JSON: a JSON string.
        Value::String(s) if json_type && serde_json::from_str::<Value>(s).is_err() => {
            Value::String(s.clone()).to_string().into_bytes()
        }
        other => model::body_bytes(other)?.unwrap_or_default(),
    };
    if content_type.is_none() {
        let ct = match &resp.body {
            v if model::is_binary(v) => Some("application/octet-stream"),
            Value::Object(_) | Value::Array(_) => Some("application/json"),
            Value::String(_) => Some("text/plain; charset=utf-8"),
            _ => None,
        };
        if let Some(ct) = ct {
            headers.push(("content-type".into(), ct.into()));
        }
    }
    let body = match rewrite {
        Some((from, to)) if !model::is_binary(&resp.body) => match String::from_utf8(body) {
            Ok(text) => text.replace(from, to).into_bytes(),
            Err(e) => e.into_bytes(),
        },
        _ => body,
    };
    Ok(Outgoing {
        status: resp.status_code,
        headers,
        body: Bytes::from(body),
    })
}
