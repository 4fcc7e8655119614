//! Replay: a loopback server answering a cassette's captured responses, checking what it receives.

use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde_json::Value;

use super::CassetteError;
use super::model::{self, CapturedRequest, CapturedResponse, Cassette, REDACTED};
use super::redact::{sensitive_header, sensitive_query_key};
use super::server::{self, Incoming, Loopback, Outgoing};
use crate::{Client, ClientBuilder, ConnectorDescriptor, Credentials, ExecuteResult, SecretString};

/// Entry points of replay.
#[derive(Debug, Clone, Copy)]
pub struct Replay;

/// Which captured request a received request is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestRole {
    /// `captured_request`: the operation's own request.
    Request,
    /// `captured_file_request`: the file request of a two-step download.
    FileRequest,
}

impl RequestRole {
    fn key(self) -> &'static str {
        match self {
            RequestRole::Request => "captured_request",
            RequestRole::FileRequest => "captured_file_request",
        }
    }
}

/// One difference between a received request and the captured one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The captured request compared with.
    pub role: RequestRole,
    /// Index of the received request (0 = first; retries count).
    pub index: usize,
    /// What differs: `method`, `path`, `query_params.limit`, `headers.accept`, `body.name`, ...
    pub field: String,
    /// The captured value (`(absent)` when the received request has something extra).
    pub expected: String,
    /// The received value (`(absent)` when missing). Secret-bearing values are masked.
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "request #{} vs {}.{}: expected {}, got {}",
            self.index,
            self.role.key(),
            self.field,
            self.expected,
            self.actual
        )
    }
}

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

fn same_path(a: &str, b: &str) -> bool {
    a == b || server::decode(a) == server::decode(b)
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

/// Does `text` match `pattern`, where each `***REDACTED***` in the pattern matches anything?
fn glob_match(pattern: &str, text: &str) -> bool {
    let pieces: Vec<&str> = pattern.split(REDACTED).collect();
    if pieces.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..];
    for piece in &pieces[1..pieces.len() - 1] {
        match rest.find(piece) {
            Some(i) => rest = &rest[i + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

const ABSENT: &str = "(absent)";

fn shown(value: &str, sensitive: bool) -> String {
    if sensitive {
        "***".into()
    } else {
        format!("`{value}`")
    }
}

fn compare(
    role: RequestRole,
    index: usize,
    captured: &CapturedRequest,
    got: &Incoming,
    out: &mut Vec<Mismatch>,
) {
    let mut push = |field: String, expected: String, actual: String| {
        out.push(Mismatch {
            role,
            index,
            field,
            expected,
            actual,
        });
    };
    let v = &captured.validation;
    if !captured.method.eq_ignore_ascii_case(&got.method) {
        push(
            "method".into(),
            captured.method.to_ascii_uppercase(),
            got.method.clone(),
        );
    }
    if !same_path(&captured.path, &got.path) {
        push(
            "path".into(),
            format!("`{}`", captured.path),
            format!("`{}`", got.path),
        );
    }

    // Query parameters.
    let mut received: Vec<(String, Vec<String>)> = Vec::new();
    for (k, val) in got.query_pairs() {
        match received.iter_mut().find(|(n, _)| *n == k) {
            Some((_, vals)) => vals.push(val),
            None => received.push((k, vec![val])),
        }
    }
    for (name, expected) in &captured.query_params {
        let sensitive = sensitive_query_key(name);
        let want = expected.values();
        let field = format!("query_params.{name}");
        match received.iter().find(|(n, _)| n == name) {
            None => push(field, shown(&want.join(","), sensitive), ABSENT.into()),
            Some((_, vals)) => {
                let ok = vals.len() == want.len()
                    && want.iter().zip(vals).all(|(w, g)| glob_match(w, g));
                if !ok {
                    push(
                        field,
                        shown(&want.join(","), sensitive),
                        shown(&vals.join(","), sensitive),
                    );
                }
            }
        }
    }
    if v.query_params_strict {
        for (name, vals) in &received {
            if !captured.query_params.contains_key(name) {
                push(
                    format!("query_params.{name}"),
                    ABSENT.into(),
                    shown(&vals.join(","), sensitive_query_key(name)),
                );
            }
        }
    }

    // Headers.
    let ignored = |k: &str| v.ignore_headers.iter().any(|i| i.eq_ignore_ascii_case(k));
    for (name, expected) in &captured.headers {
        if ignored(name) {
            continue;
        }
        let sensitive = sensitive_header(name);
        let field = format!("headers.{}", name.to_ascii_lowercase());
        match got.header(name) {
            None => push(field, shown(expected, sensitive), ABSENT.into()),
            Some(actual) if !glob_match(expected, actual) => {
                push(field, shown(expected, sensitive), shown(actual, sensitive));
            }
            Some(_) => {}
        }
    }
    if v.headers_strict {
        for (name, actual) in &got.headers {
            let transport = server::is_hop_header(name)
                || ["host", "accept-encoding", "user-agent"].contains(&name.as_str());
            if transport
                || ignored(name)
                || sensitive_header(name)
                || captured
                    .headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case(name))
            {
                continue;
            }
            push(
                format!("headers.{name}"),
                ABSENT.into(),
                shown(actual, false),
            );
        }
    }

    // Body.
    let received_body = model::body_value(&got.body, got.header("content-type"));
    if model::is_binary(&captured.body) {
        let want = model::body_bytes(&captured.body).ok().flatten();
        let have = (!got.body.is_empty()).then(|| got.body.to_vec());
        if want != have {
            push(
                "body".into(),
                format!("{} bytes", want.map_or(0, |b| b.len())),
                format!("{} bytes", got.body.len()),
            );
        }
    } else {
        json_match(
            &captured.body,
            &received_body,
            v.body_strict,
            "body",
            &mut push,
        );
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 200 {
        let cut: String = s.chars().take(200).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn json_match(
    expected: &Value,
    actual: &Value,
    strict: bool,
    path: &str,
    push: &mut impl FnMut(String, String, String),
) {
    match (expected, actual) {
        (Value::Null, _) if !strict => {}
        (Value::String(e), Value::String(a)) => {
            if !glob_match(e, a) {
                push(path.into(), short(expected), short(actual));
            }
        }
        (Value::String(e), _) if e == REDACTED => {}
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match a.get(k) {
                    Some(av) => json_match(ev, av, strict, &p, push),
                    None => push(p, short(ev), ABSENT.into()),
                }
            }
            if strict {
                for (k, av) in a {
                    if !e.contains_key(k) {
                        push(format!("{path}.{k}"), ABSENT.into(), short(av));
                    }
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if (strict && e.len() != a.len()) || a.len() < e.len() {
                push(
                    format!("{path}.length"),
                    e.len().to_string(),
                    a.len().to_string(),
                );
                return;
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                json_match(ev, av, strict, &format!("{path}[{i}]"), push);
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            if e != a && e.as_f64() != a.as_f64() {
                push(path.into(), short(expected), short(actual));
            }
        }
        (e, a) => {
            if e != a {
                let shown_actual = if a.is_null() { ABSENT.into() } else { short(a) };
                push(path.into(), short(e), shown_actual);
            }
        }
    }
}
