//! Streamable HTTP plumbing shared by the HTTP front ends (the CLI's `mcp --http`, the
//! self-hosted server's `/mcp`): the SDK's service in the two shapes they use, and
//! [`forward`], which runs the JSON-RPC checks of `jsonrpc.rs` on a POST body (400 with the
//! JSON-RPC error, 413 past the front end's limit) before the SDK sees it. Path, `Origin` and
//! bearer checks are each front end's own.

use std::convert::Infallible;
use std::sync::Arc;

use airbyte_agent_runtime::serde_json::{self, Value};
use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::AgentServer;
use crate::jsonrpc::{Checked, check};

/// The largest request body the CLI reads (the server uses its own configured limit).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// A response body.
pub type Body = BoxBody<Bytes, Infallible>;

/// The SDK's Streamable HTTP service over [`AgentServer`]s.
pub type Service = StreamableHttpService<AgentServer, LocalSessionManager>;

/// A `text/plain` response.
pub fn plain(status: StatusCode, text: &str) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(text.to_string())).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn json_error(error: &Value) -> Response<Body> {
    let body = serde_json::to_vec(error).unwrap_or_default();
    let mut r = Response::new(Full::new(Bytes::from(body)).boxed());
    *r.status_mut() = StatusCode::BAD_REQUEST;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// One server for every session (the CLI): sessions kept in this process, JSON answers, the
/// SDK's `Host` check (DNS rebinding) on, browser origins limited to `origins`.
pub fn session_service(server: AgentServer, origins: Vec<String>) -> Service {
    let config = StreamableHttpServerConfig::default()
        .with_allowed_origins(origins)
        .enforce_origin_validation()
        .with_json_response(true)
        .with_sse_keep_alive(None);
    service(server, config)
}

/// A service answering requests with `server` and keeping nothing between them (no
/// `Mcp-Session-Id`), so any instance behind a load balancer can answer any request; made per
/// request by a front end that picks the server from the request (the self-hosted server: the
/// caller's workspace). No `Host` or `Origin` check: such a front end authenticates every
/// request with a bearer token, which a rebound or cross-site page cannot supply.
pub fn stateless_service(server: AgentServer) -> Service {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .disable_allowed_hosts()
        .disable_allowed_origins()
        .with_json_response(true)
        .with_sse_keep_alive(None);
    service(server, config)
}

fn service(server: AgentServer, config: StreamableHttpServerConfig) -> Service {
    StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}

/// Hand an authorised request to `service`: a POST body is read (at most `max_body` bytes, 413
/// past that) and checked first, so bad JSON-RPC gets its JSON-RPC error and a malformed
/// notification a bare 202; other methods go to the SDK as they are.
pub async fn forward<B>(service: &Service, req: Request<B>, max_body: usize) -> Response<Body>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: std::fmt::Display + Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if req.method() != Method::POST {
        return service.handle(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, max_body).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            let limit = if max_body.is_multiple_of(1024 * 1024) {
                format!("{} MiB", max_body / (1024 * 1024))
            } else {
                format!("{max_body} bytes")
            };
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("Payload Too Large: the request body exceeds {limit}"),
            );
        }
    };
    match check(&bytes) {
        Checked::Reply(error) => return json_error(&error),
        Checked::Ignore if !bytes.iter().all(u8::is_ascii_whitespace) => {
            let mut r = Response::new(Full::new(Bytes::new()).boxed());
            *r.status_mut() = StatusCode::ACCEPTED;
            return r;
        }
        _ => {}
    }
    service
        .handle(Request::from_parts(parts, Full::new(bytes)))
        .await
}
