//! What happens around every request: its id (`x-request-id`: the caller's when it is a short
//! token, else a new one; echoed in the answer), the time limit (504 after it), the metrics, and
//! one JSON access-log line on stderr when enabled. The log names the route template, never the
//! path's ids, a query string, a header or a body.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::ApiError;

/// The request id header.
pub const REQUEST_ID: &str = "x-request-id";

/// The caller's request id when it is 1 to 64 characters of `[A-Za-z0-9._-]`, else a new one
/// (32 hex digits).
fn request_id(headers: &HeaderMap) -> HeaderValue {
    let given = headers
        .get(REQUEST_ID)
        .filter(|v| {
            let b = v.as_bytes();
            (1..=64).contains(&b.len())
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(c))
        })
        .cloned();
    given.unwrap_or_else(|| {
        HeaderValue::from_str(&crate::crypto::random_hex(16))
            .unwrap_or(HeaderValue::from_static("0"))
    })
}

/// The middleware of every route.
pub(super) async fn observe(
    State(st): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = request_id(req.headers());
    req.headers_mut().insert(REQUEST_ID, id.clone());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let limit = st.config.request_timeout;
    let mut response = match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "the request was still running after the server's limit of {:.1} s",
                limit.as_secs_f64()
            ),
        )
        .into_response(),
    };
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    st.metrics.request(&route, &method, status, elapsed);
    if st.config.access_log {
        let line = serde_json::json!({
            "ts": super::rfc3339(crate::storage::now()),
            "request_id": id.to_str().unwrap_or_default(),
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": (elapsed.as_secs_f64() * 1e6).round() / 1e3,
        });
        eprintln!("{line}");
    }
    response.headers_mut().insert(REQUEST_ID, id);
    response
}
