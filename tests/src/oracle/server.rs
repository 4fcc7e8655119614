//! A small recording HTTP/1.1 server on 127.0.0.1 that serves one case's canned responses.
//!
//! One server is started per replay run and reused by every case: the runner installs a
//! [`Script`] before a case, runs the call, then [`MockServer::take_requests`] returns what was
//! received (and clears it).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The bytes served for every `GET /__files/...` (two-step downloads).
pub const DOWNLOAD_BYTES: &[u8] = b"%PDF-1.4\n%mock-download\n\x00\x01\x02\x03\xfe\xff\nend\n";

/// A canned HTTP response.
#[derive(Debug, Clone)]
pub struct CannedResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Bytes,
}

impl CannedResponse {
    /// A `200 application/json` response.
    pub fn json(value: &serde_json::Value) -> Self {
        CannedResponse {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Bytes::from(value.to_string()),
        }
    }
}

/// What the server answers during one case.
#[derive(Debug, Clone)]
pub struct Script {
    /// Answer to the operation's request (anything not matched below).
    pub response: CannedResponse,
    /// Paths answered with `token_response` on POST.
    pub token_paths: Vec<String>,
    /// Token endpoint answer.
    pub token_response: Option<CannedResponse>,
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct ObservedRequest {
    /// Method, upper-case.
    pub method: String,
    /// Path exactly as on the wire (percent-encoded).
    pub path: String,
    /// Query string exactly as on the wire (empty when absent).
    pub raw_query: String,
    /// Header names (lower-case) and values, in order received.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Bytes,
}

#[derive(Default)]
struct State {
    script: Option<Script>,
    requests: Vec<ObservedRequest>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave the state half-written in a harmful way.
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// The recording server. Stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl MockServer {
    /// Bind to `127.0.0.1:0` and start serving (must run inside a Tokio runtime).
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&state), req));
                    // Connection errors (client went away) are irrelevant to the replay.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(MockServer { addr, state, task })
    }

    /// `host:port` of the server.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// `http://host:port`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Install the responses of the next case and clear recorded requests.
    pub fn set_script(&self, script: Script) {
        let mut s = lock(&self.state);
        s.script = Some(script);
        s.requests.clear();
    }

    /// Take (and clear) the requests received since the last call.
    pub fn take_requests(&self) -> Vec<ObservedRequest> {
        std::mem::take(&mut lock(&self.state).requests)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let observed = ObservedRequest {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        raw_query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let canned = {
        let mut s = lock(&state);
        let canned = choose(s.script.as_ref(), &observed);
        s.requests.push(observed);
        canned
    };
    Ok(build(canned))
}

fn choose(script: Option<&Script>, req: &ObservedRequest) -> CannedResponse {
    let Some(script) = script else {
        return CannedResponse {
            status: 500,
            headers: vec![],
            body: Bytes::from_static(b"no case installed"),
        };
    };
    if req.method == "POST"
        && script.token_paths.iter().any(|p| p == &req.path)
        && let Some(token) = &script.token_response
    {
        return token.clone();
    }
    if req.method == "GET" && req.path.starts_with("/__files/") {
        return CannedResponse {
            status: 200,
            headers: vec![("Content-Type".into(), "application/octet-stream".into())],
            body: Bytes::from_static(DOWNLOAD_BYTES),
        };
    }
    script.response.clone()
}

fn build(canned: CannedResponse) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(canned.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (k, v) in &canned.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Full::new(canned.body.clone()))
        .unwrap_or_else(|_| {
            let mut r = Response::new(Full::new(Bytes::from_static(b"bad canned response")));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn send(origin_host: &str, raw: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(origin_host).await.unwrap();
        s.write_all(raw.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        String::from_utf8_lossy(&buf).into_owned()
    }

    #[tokio::test]
    async fn records_requests_and_serves_the_script() {
        let server = MockServer::start().await.unwrap();
        server.set_script(Script {
            response: CannedResponse {
                status: 201,
                headers: vec![("X-Mock".into(), "1".into())],
                body: Bytes::from_static(b"{\"ok\":true}"),
            },
            token_paths: vec!["/oauth/token".into()],
            token_response: Some(CannedResponse::json(
                &serde_json::json!({"access_token": "t"}),
            )),
        });
        let host = server.host();
        let r = send(
            &host,
            "POST /v1/x%2Fy?a=1&b=%5B HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer s\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
        )
        .await;
        assert!(r.starts_with("HTTP/1.1 201"), "{r}");
        assert!(r.to_ascii_lowercase().contains("x-mock: 1"), "{r}");
        assert!(r.ends_with("{\"ok\":true}"), "{r}");
        let r = send(
            &host,
            "POST /oauth/token HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(r.contains("access_token"), "{r}");
        let r = send(
            &host,
            "GET /__files/a.bin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(
            r.contains("%mock-download") && r.ends_with("\nend\n"),
            "{r}"
        );
        assert!(r.contains("application/octet-stream"), "{r}");

        let reqs = server.take_requests();
        assert_eq!(reqs.len(), 3);
        assert_eq!(reqs[0].method, "POST");
        assert_eq!(reqs[0].path, "/v1/x%2Fy");
        assert_eq!(reqs[0].raw_query, "a=1&b=%5B");
        assert_eq!(&reqs[0].body[..], b"abc");
        assert!(
            reqs[0]
                .headers
                .iter()
                .any(|(k, v)| k == "authorization" && v == "Bearer s")
        );
        assert!(server.take_requests().is_empty(), "taking clears");
    }
}
