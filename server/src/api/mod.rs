//! The HTTP API: Airbyte's hosted protocol (application and scoped tokens, workspaces,
//! connectors, source templates, execute, workflows and automations), remote MCP at `/mcp`
//! (`mcp.rs`), plus `/healthz`, `/readyz` and Prometheus metrics at `/metrics`. Every error is
//! `{"errors": [{"userPresentableMessage": ...}]}`.

mod connectors;
mod embedded;
mod execute;
mod extract;
mod mcp;
mod oauth;
mod prepare;
mod refresh;
mod requests;
mod scoped;
mod templates;
mod tokens;
mod workflows;
mod workspaces;

use std::future::Future;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post, put};
use axum::{Json, Router};
use tokio::net::TcpListener;

use crate::config::ServerConfig;
use crate::crypto::MasterKey;
use crate::error::{ApiError, Error};
use crate::metrics::Metrics;
use crate::storage::Store;

pub use extract::Authed;
pub use mcp::WORKSPACE_HEADER;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    store: Store,
    key: MasterKey,
    config: ServerConfig,
    clients: execute::ClientCache,
    tokens: extract::TokenCache,
    refresh: tokio::sync::OnceCell<refresh::RefreshEndpoint>,
    mcp: mcp::McpCache,
    metrics: Metrics,
}

impl AppState {
    /// State over `store`, sealing with `key`.
    pub fn new(store: Store, key: MasterKey, config: ServerConfig) -> Arc<Self> {
        Arc::new(AppState {
            store,
            key,
            config,
            clients: execute::ClientCache::default(),
            tokens: extract::TokenCache::default(),
            refresh: tokio::sync::OnceCell::new(),
            mcp: mcp::McpCache::default(),
            metrics: Metrics::default(),
        })
    }

    /// The loopback endpoint OAuth2 token requests of this state's clients go to, started on
    /// first use.
    async fn refresh_endpoint(self: &Arc<Self>) -> Result<&refresh::RefreshEndpoint, Error> {
        self.refresh.get_or_try_init(|| refresh::start(self)).await
    }
}

/// The router of the whole API.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/api/v1/account/applications/token", post(tokens::token))
        .route(
            "/api/v1/workspaces",
            get(workspaces::list).post(workspaces::create),
        )
        .route(
            "/api/v1/integrations/connectors",
            get(connectors::list).post(connectors::create),
        )
        .route(
            "/api/v1/integrations/connectors/{id}",
            delete(connectors::delete),
        )
        .route(
            "/api/v1/integrations/connectors/{id}/execute",
            post(execute::execute),
        )
        .route(
            "/api/v1/integrations/connectors/{id}/execute/prepare",
            post(prepare::prepare),
        )
        .route(
            "/api/v1/integrations/templates/sources",
            get(templates::list).post(templates::create),
        )
        .route("/api/v1/embedded/scoped-token", post(scoped::scoped_token))
        .route(
            "/api/v1/embedded/templates/sources",
            get(embedded::list_templates),
        )
        .route("/api/v1/embedded/sources", post(embedded::create_source))
        .route(
            "/api/v1/integrations/connectors/oauth/initiate",
            post(oauth::initiate),
        )
        .route("/api/v1/oauth/callback", get(oauth::callback))
        .route("/api/v1/oauth/credentials", put(oauth::put_app))
        .route(
            "/api/v1/oauth/credentials/connector_type/{type}",
            delete(oauth::delete_app),
        )
        .merge(workflows::routes())
        .route("/mcp", any(mcp::mcp))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            requests::observe,
        ))
        .with_state(state)
}

/// Serve `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

async fn healthz() -> Response {
    Json(serde_json::json!({"status": "ok"})).into_response()
}

async fn readyz(State(st): State<Arc<AppState>>) -> Response {
    match st.store.ping().await {
        Ok(()) => Json(serde_json::json!({"status": "ready"})).into_response(),
        Err(_) => {
            let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "database unavailable");
            e.retry_after = Some(crate::error::UNAVAILABLE_RETRY_AFTER);
            e.into_response()
        }
    }
}

/// The metrics in Prometheus's text format (no token: they name routes, never tenants).
async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    let up = st.store.ping().await.is_ok();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.metrics.render(up),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found("Not Found")
}

/// RFC 3339 (UTC) text of Unix seconds.
pub(crate) fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_825_599), "2000-02-29T11:59:59Z");
    }
}
