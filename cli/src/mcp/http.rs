//! MCP over Streamable HTTP (`airbyte-agent mcp --http 127.0.0.1:PORT`), at `/mcp`.
//!
//! In front of the SDK's HTTP service, every request goes through, in order: the path (`/mcp`,
//! else 404), the `Origin` check (a browser origin must be one given with `--allow-origin`, else
//! 403; requests without `Origin` pass), the bearer token (`Authorization: Bearer <token>`,
//! compared in constant time, else 401), and for POSTs the JSON-RPC checks of `jsonrpc.rs`
//! (400 with the JSON-RPC error; `airbyte_agent_mcp::http::forward`). The token is a configured secret: it is never printed or
//! logged. Only loopback addresses are served; the SDK's `Host` check (DNS rebinding) stays on.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use airbyte_agent_mcp::AgentServer;
use airbyte_agent_mcp::http::{Body, MAX_BODY, Service, forward, plain, session_service};
use airbyte_agent_runtime::{ExposeSecret, SecretString};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, ORIGIN, WWW_AUTHENTICATE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use subtle::ConstantTimeEq;

use crate::error::CliError;

/// The shortest bearer token accepted.
pub const MIN_TOKEN_LEN: usize = 16;
/// The endpoint path.
const PATH: &str = "/mcp";

struct Gate {
    token: SecretString,
    origins: Vec<String>,
    mcp: Service,
}

/// `https://app.example.com/` and `HTTPS://APP.example.com` are the same origin.
fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

impl Gate {
    fn origin_allowed(&self, req: &Request<Incoming>) -> bool {
        let Some(origin) = req.headers().get(ORIGIN) else {
            return true;
        };
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origin = normalize_origin(origin);
        self.origins.iter().any(|o| normalize_origin(o) == origin)
    }

    fn authorized(&self, req: &Request<Incoming>) -> bool {
        let Some(value) = req.headers().get(AUTHORIZATION) else {
            return false;
        };
        let Some(given) = value.to_str().ok().and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        }) else {
            return false;
        };
        let expected = self.token.expose_secret().as_bytes();
        bool::from(given.trim().as_bytes().ct_eq(expected))
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
        if req.uri().path() != PATH {
            return Ok(plain(
                StatusCode::NOT_FOUND,
                "Not Found: the MCP endpoint is /mcp",
            ));
        }
        if !self.origin_allowed(&req) {
            return Ok(plain(
                StatusCode::FORBIDDEN,
                "Forbidden: this Origin is not allowed (see --allow-origin)",
            ));
        }
        if !self.authorized(&req) {
            let mut r = plain(
                StatusCode::UNAUTHORIZED,
                "Unauthorized: send Authorization: Bearer <token>",
            );
            r.headers_mut().insert(
                WWW_AUTHENTICATE,
                hyper::header::HeaderValue::from_static("Bearer"),
            );
            return Ok(r);
        }
        Ok(forward(&self.mcp, req, MAX_BODY).await)
    }
}

/// Serve `server` on `addr` until interrupted (Ctrl-C).
pub async fn serve(
    server: AgentServer,
    addr: SocketAddr,
    token_var: &str,
    token: String,
    origins: Vec<String>,
) -> Result<(), CliError> {
    if !addr.ip().is_loopback() {
        return Err(CliError::Usage(format!(
            "--http serves loopback addresses only (127.0.0.1, ::1), not {}; put a reverse proxy in front for anything else",
            addr.ip()
        )));
    }
    if token.trim().chars().count() < MIN_TOKEN_LEN {
        return Err(CliError::Config(format!(
            "{token_var} is too short for a bearer token: use at least {MIN_TOKEN_LEN} random characters"
        )));
    }
    let mcp = session_service(server, origins.clone());
    let gate = Arc::new(Gate {
        token: SecretString::from(token.trim().to_string()),
        origins,
        mcp,
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Config(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::Other(format!("cannot read the listening address: {e}")))?;
    eprintln!("MCP server listening on http://{local}{PATH} (bearer token from {token_var})");
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    eprintln!("warning: accept failed: {e}");
                    continue;
                }
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let gate = Arc::clone(&gate);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| Arc::clone(&gate).handle(req));
            // A client that goes away mid-request is not the server's problem.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
