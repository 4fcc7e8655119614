//! `/mcp`: the MCP service of `airbyte-agent-mcp` (the one the CLI serves with `airbyte-agent
//! mcp --http`) over Streamable HTTP, serving the tools of one workspace's connectors plus
//! `connector_info`.
//!
//! Every request carries a bearer token. A workspace-scoped token serves its workspace; an
//! application token names one of its organization's workspaces with the `X-Workspace-Name`
//! header or the `workspace_name` query parameter (or its older names `customer_name` and
//! `external_user_id`): 422 without one, 404 for a workspace it cannot see, which includes every
//! other organization's. Nothing is kept between requests
//! (no `Mcp-Session-Id`), so any instance answers any request.
//!
//! Tool names: a workspace with one connector serves its tools unprefixed (`customers_list`, as
//! the CLI does for one connector); with several, each connector's tools carry its type
//! (`stripe_customers_list`), and a type present more than once also the connector id's first
//! eight characters (`stripe_1a2b3c4d_customers_list`). A tool call runs through
//! [`execute::connector_client`], the execute endpoint's own path (the record re-read and
//! checked, stored credentials, the direct runtime, the locking refresh endpoint), with the
//! tool arguments checked by the runtime's dispatcher; stored secrets are scrubbed from error
//! texts. Connectors whose definition is not compiled in are not served.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use airbyte_agent_mcp::{AgentServer, Backend, CallFuture, CallTool, pages};
use airbyte_agent_runtime::ConnectorDescriptor;
use airbyte_agent_runtime::tools::{
    ConnectorTools, Dispatcher, ToolErrorKind, ToolOptions, ToolOutput,
};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::AppState;
use super::connectors::workspace;
use super::execute::{self, outcome_of};
use super::extract::Authed;
use crate::error::ApiError;
use crate::metrics::{Outcome, Via};
use crate::registry;
use crate::storage::{ConnectorRecord, Workspace};

/// The header an application token names its workspace with.
pub const WORKSPACE_HEADER: &str = "x-workspace-name";

/// Most tool sets and workspace servers kept built (each).
const MAX_CACHED: usize = 1024;

/// A tool set's key: definition id and prefix.
type ToolsKey = (&'static str, Option<String>);

/// What `/mcp` keeps built between requests: tool sets by definition id and prefix (the schemas
/// of a connector's tools are derived once), and each workspace's server while its connectors
/// stay the same (its calls re-read the connector record every time, so nothing about
/// credentials is cached here).
#[derive(Default)]
pub(crate) struct McpCache {
    tools: Mutex<HashMap<ToolsKey, Arc<ConnectorTools>>>,
    /// Workspace id → (its served connectors' ids and definitions, the server).
    servers: Mutex<HashMap<String, (String, AgentServer)>>,
}

impl std::fmt::Debug for McpCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpCache").finish_non_exhaustive()
    }
}

impl McpCache {
    fn tools(
        &self,
        d: &'static ConnectorDescriptor,
        prefix: Option<String>,
    ) -> Arc<ConnectorTools> {
        let mut map = self.tools.lock().unwrap_or_else(|p| p.into_inner());
        let key = (d.definition_id, prefix);
        if let Some(t) = map.get(&key) {
            return Arc::clone(t);
        }
        let mut options = ToolOptions::new();
        if let Some(p) = &key.1 {
            options = options.prefix(p.clone());
        }
        let tools = Arc::new(ConnectorTools::with_options(d, options));
        if map.len() >= MAX_CACHED {
            map.clear();
        }
        map.insert(key, Arc::clone(&tools));
        tools
    }

    fn server(&self, workspace_id: &str, fingerprint: &str) -> Option<AgentServer> {
        let map = self.servers.lock().unwrap_or_else(|p| p.into_inner());
        map.get(workspace_id)
            .filter(|(f, _)| f == fingerprint)
            .map(|(_, s)| s.clone())
    }

    fn keep(&self, workspace_id: &str, fingerprint: String, server: &AgentServer) {
        let mut map = self.servers.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_CACHED {
            map.clear();
        }
        map.insert(workspace_id.to_string(), (fingerprint, server.clone()));
    }
}

/// Every method at `/mcp`.
pub(crate) async fn mcp(
    State(st): State<Arc<AppState>>,
    auth: Result<Authed, ApiError>,
    req: Request,
) -> Response {
    let auth = match auth {
        Ok(a) => a,
        Err(e) => return challenge(e),
    };
    let limit = st.config.max_body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "request body is too large")
            .into_response();
    }
    let named = match named_workspace(&req) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    let server = match workspace_of(&st, &auth, named.as_deref()).await {
        Ok(w) => match workspace_server(&st, &auth, &w).await {
            Ok(s) => s,
            Err(e) => return e.into_response(),
        },
        Err(e) => return e.into_response(),
    };
    let service = airbyte_agent_mcp::http::stateless_service(server);
    airbyte_agent_mcp::http::forward(&service, req, limit)
        .await
        .map(axum::body::Body::new)
}

/// A refused token's answer, with the `WWW-Authenticate` challenge MCP clients look for.
fn challenge(e: ApiError) -> Response {
    let unauthorized = e.status == StatusCode::UNAUTHORIZED;
    let mut r = e.into_response();
    if unauthorized {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

/// The workspace the request names (header or query), if any.
fn named_workspace(req: &Request) -> Result<Option<String>, ApiError> {
    let from_header = req
        .headers()
        .get(WORKSPACE_HEADER)
        .map(|v| {
            v.to_str()
                .map_err(|_| ApiError::bad_request("X-Workspace-Name is not valid text"))
        })
        .transpose()?;
    let Query(q) = Query::<super::extract::WorkspaceQuery>::try_from_uri(req.uri())
        .map_err(|e| ApiError::bad_request(e.body_text()))?;
    let name = match (from_header, q.name()) {
        (Some(h), Some(n)) if h != n => {
            return Err(ApiError::bad_request(
                "X-Workspace-Name and workspace_name name different workspaces",
            ));
        }
        (Some(h), _) => Some(h),
        (None, n) => n,
    };
    Ok(name.map(str::to_string))
}

/// The workspace the request is for (see the module docs).
async fn workspace_of(
    st: &AppState,
    auth: &Authed,
    name: Option<&str>,
) -> Result<Workspace, ApiError> {
    match (name, &auth.workspace_id) {
        (Some(name), _) => workspace(st, auth, name).await,
        (None, Some(id)) => st
            .store
            .workspace_by_id(&auth.organization_id, id)
            .await?
            .ok_or_else(|| ApiError::not_found("the token's workspace no longer exists")),
        (None, None) => Err(ApiError::unprocessable(
            "an application token must name a workspace: send X-Workspace-Name or ?workspace_name=",
        )),
    }
}

/// The prefix of each served connector's tools (see the module docs).
fn prefixes(served: &[(&ConnectorRecord, &'static ConnectorDescriptor)]) -> Vec<Option<String>> {
    if served.len() < 2 {
        return vec![None; served.len()];
    }
    served
        .iter()
        .map(|(rec, d)| {
            let slug = d.name.replace('-', "_");
            let shared = served.iter().filter(|(_, o)| o.name == d.name).count() > 1;
            Some(if shared {
                let id: String = rec
                    .id
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(8)
                    .collect();
                format!("{slug}_{id}")
            } else {
                slug
            })
        })
        .collect()
}

/// The MCP server of workspace `w`'s connectors, their calls scoped to `w`.
async fn workspace_server(
    st: &Arc<AppState>,
    auth: &Authed,
    w: &Workspace,
) -> Result<AgentServer, ApiError> {
    let records = st.store.list_connectors(w, None).await?;
    let served: Vec<(&ConnectorRecord, &'static ConnectorDescriptor)> = records
        .iter()
        .filter_map(|r| registry::by_definition_id(&r.definition_id).map(|d| (r, d)))
        .collect();
    let fingerprint: String = served
        .iter()
        .map(|(r, d)| format!("{}:{};", r.id, d.definition_id))
        .collect();
    if let Some(server) = st.mcp.server(&w.id, &fingerprint) {
        return Ok(server);
    }
    // The workspace is the scope of every call (the client id plays no part in executing).
    let scope = Authed {
        organization_id: w.organization_id.clone(),
        client_id: auth.client_id.clone(),
        workspace_id: Some(w.id.clone()),
    };
    let mut backends = Vec::with_capacity(served.len());
    for ((rec, d), prefix) in served.iter().zip(prefixes(&served)) {
        let tools = st.mcp.tools(d, prefix);
        let caller = WorkspaceTool {
            st: Arc::downgrade(st),
            scope: scope.clone(),
            connector_id: rec.id.clone(),
            tools: Arc::clone(&tools),
        };
        backends.push((ConnectorTools::clone(&tools), Backend::ready(caller)));
    }
    // A workspace gains and loses connectors at any time and a stateless server cannot say so
    // (no `list_changed`): clients must not keep `tools/list`.
    let server = AgentServer::new(backends, pages::DEFAULT_PAGE_SIZE)
        .map_err(|e| {
            ApiError::unprocessable(format!("this workspace's tools cannot be served: {e}"))
        })?
        .with_tools_ttl_ms(0);
    st.mcp.keep(&w.id, fingerprint, &server);
    Ok(server)
}

/// The tool calls of one stored connector.
struct WorkspaceTool {
    /// Weak: the state owns the cache this caller's server sits in.
    st: Weak<AppState>,
    /// The workspace the calls are limited to.
    scope: Authed,
    connector_id: String,
    tools: Arc<ConnectorTools>,
}

/// The metrics outcome of a tool call.
fn tool_outcome(out: &ToolOutput) -> Outcome {
    match out.error_kind {
        _ if !out.is_error => Outcome::Ok,
        Some(ToolErrorKind::Transient | ToolErrorKind::Other) | None => Outcome::Failed,
        Some(_) => Outcome::Rejected,
    }
}

impl CallTool for WorkspaceTool {
    fn call<'a>(&'a self, name: &'a str, arguments: Value) -> CallFuture<'a> {
        Box::pin(async move {
            let Some(st) = self.st.upgrade() else {
                return Err("the server is stopping; call again shortly".to_string());
            };
            let (outcome, out) =
                match execute::connector_client(&st, &self.scope, &self.connector_id).await {
                    Ok(direct) => {
                        let dispatcher = Dispatcher::with_tools(
                            direct.client().clone(),
                            Arc::clone(&self.tools),
                        );
                        let mut out = dispatcher.call(name, arguments).await;
                        direct.scrub_text(&mut out.text);
                        (tool_outcome(&out), Ok(out))
                    }
                    Err(e) => (outcome_of(e.status), Err(e.message)),
                };
            st.metrics.execute(Via::Mcp, outcome);
            out
        })
    }
}
