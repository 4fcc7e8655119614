//! The MCP service of the Airbyte agent connectors, built on the official Rust SDK (`rmcp`
//! 3.x) and independent of any transport: the connectors' tools plus `connector_info`
//! (`catalog.rs`), listed in pages (`pages.rs`), the JSON-RPC checks every transport runs before
//! a message reaches the SDK (`jsonrpc.rs`), and the Streamable HTTP plumbing both HTTP front
//! ends share (`http.rs`). The CLI serves it over stdio and `--http`; the self-hosted server at
//! `/mcp`, one workspace's connectors per request.
//!
//! Every use of the SDK's server API is confined to this crate so that upgrades touch one
//! folder. Protocol revisions: the stateless 2026-07-28 revision (per-request metadata, no
//! handshake) and the `initialize` handshake of 2025-11-25 and 2025-06-18. Only the tools
//! capability is declared and served.
//!
//! What answers a connector's tool calls is a [`CallTool`]: a [`Dispatcher`] (the CLI), or
//! anything that runs the call its own way (the server runs it through its execute path).

#![warn(missing_docs)]

mod catalog;
pub mod http;
pub mod jsonrpc;
pub mod pages;

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use airbyte_agent_runtime::serde_json::{self, Map, Value};
use airbyte_agent_runtime::tools::{
    ConnectorTools, Dispatcher, Tool, ToolOutput, structured_content,
};
use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock,
    Implementation, ListToolsResult, PaginatedRequestParams, ProtocolVersion, ServerCapabilities,
    ServerConfig, Tool as McpTool, ToolAnnotations as McpAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};

pub use rmcp::ServerHandler;

/// How long a client may cache `tools/list` unless [`AgentServer::with_tools_ttl_ms`] says
/// otherwise (milliseconds): an hour, for a catalogue fixed for the life of the process.
pub const TOOLS_TTL_MS: u64 = 3_600_000;

/// The protocol revisions served, oldest first.
const PROTOCOL_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2026_07_28,
];

/// Why a catalogue cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// A connector exposes a tool named like the server's own describe tool.
    #[error(
        "`{connector}` exposes a tool named `{tool}`, the server's own describe tool; serve it with a prefix"
    )]
    ReservedName {
        /// The connector.
        connector: String,
        /// The tool.
        tool: String,
    },
    /// Two connectors expose a tool of the same name.
    #[error("two connectors expose a tool named `{0}`; serve them with a prefix")]
    DuplicateName(String),
}

/// A future answering one tool call: the dispatcher's output, or a message for the model when
/// the call could not be run at all (answered as an `isError` result).
pub type CallFuture<'a> = Pin<Box<dyn Future<Output = Result<ToolOutput, String>> + Send + 'a>>;

/// What runs the tool calls of one connector.
pub trait CallTool: Send + Sync + 'static {
    /// Run the tool `name` with `arguments` (a JSON object). Never panics.
    fn call<'a>(&'a self, name: &'a str, arguments: Value) -> CallFuture<'a>;
}

impl CallTool for Dispatcher {
    fn call<'a>(&'a self, name: &'a str, arguments: Value) -> CallFuture<'a> {
        Box::pin(async move { Ok(Dispatcher::call(self, name, arguments).await) })
    }
}

/// The tools of one connector, and what answers their calls.
pub enum Backend {
    /// Calls go to this caller (a [`Dispatcher`], or the server's execute path).
    Ready(Arc<dyn CallTool>),
    /// The connector could not be set up (missing credentials): its tools are listed, and every
    /// call answers with this message (which says what to set).
    Unavailable(String),
}

impl Backend {
    /// Calls answered by `caller`.
    pub fn ready(caller: impl CallTool) -> Self {
        Backend::Ready(Arc::new(caller))
    }
}

/// What answers a tool's calls.
#[derive(Debug, Clone, Copy)]
enum Route {
    /// `connector_info`, answered from the catalogue.
    Info,
    /// A connector's tool: index into `backends`.
    Backend(usize),
}

struct Inner {
    tools: Vec<McpTool>,
    /// Tool name → index into `tools`, and what answers it.
    by_name: HashMap<String, (usize, Route)>,
    backends: Vec<Backend>,
    /// Every served connector's tools, for `connector_info`.
    catalog: Vec<ConnectorTools>,
    pager: pages::Pager,
    instructions: String,
}

/// The MCP server: the tools of one or more connectors. Cheap to clone (one per HTTP session or
/// request).
#[derive(Clone)]
pub struct AgentServer {
    inner: Arc<Inner>,
    /// The `tools/list` cache hint (milliseconds).
    tools_ttl_ms: u64,
}

fn to_mcp_tool(t: &Tool) -> McpTool {
    let schema: Map<String, Value> = match &t.input_schema {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    let annotations = McpAnnotations::with_title(t.title.clone())
        .read_only(t.annotations.read_only)
        .destructive(t.annotations.destructive)
        .idempotent(t.annotations.idempotent)
        .open_world(t.annotations.open_world);
    let mut tool = McpTool::new(t.name.clone(), t.description.clone(), Arc::new(schema))
        .with_title(t.title.clone())
        .with_annotations(annotations);
    if let Value::Object(output) = &t.output_schema {
        tool.output_schema = Some(Arc::new(output.clone()));
    }
    tool
}

/// The MCP result of one tool call.
///
/// A successful result goes in `structuredContent` (an object result as it is, any other value
/// as `{"result": <value>}`, because MCP requires an object), as every tool's `outputSchema`
/// declares; the text block then only summarises it (record count and `meta`) instead of
/// repeating the payload. A page over the output limit arrives cut to the records that fit and
/// the text says so.
///
/// Any other result over the limit has no structured content (sending the full value would
/// defeat the guard) and the text block is the truncated JSON with the guard's marker. Errors
/// are `isError: true` with the dispatcher's message as text.
fn to_result(out: ToolOutput) -> CallToolResponse {
    if out.is_error {
        return CallToolResult::error(vec![ContentBlock::text(out.text)]).into();
    }
    let Some(value) = out.value else {
        return CallToolResult::success(vec![ContentBlock::text(out.text)]).into();
    };
    let structured = structured_content(value);
    let mut text = summary(&structured);
    if out.truncated
        && let Some(at) = out.text.rfind("\n[output truncated")
    {
        text.push_str(&out.text[at..]);
    }
    let mut content = vec![ContentBlock::text(text)];
    if let Some(link) = out.file.as_deref().and_then(|p| file_link(p, &structured)) {
        content.push(link);
    }
    let mut result = CallToolResult::success(content);
    result.structured_content = Some(structured);
    result.into()
}

/// A `resource_link` block for a saved download (`file://` URI, name, type and size).
fn file_link(path: &std::path::Path, described: &Value) -> Option<ContentBlock> {
    let absolute = std::path::absolute(path).ok()?;
    let uri = url::Url::from_file_path(&absolute).ok()?;
    let name = absolute.file_name()?.to_string_lossy().into_owned();
    let mut resource = rmcp::model::Resource::new(uri.to_string(), name);
    resource.mime_type = described["content_type"].as_str().map(str::to_string);
    resource.size = described["size"].as_u64();
    Some(ContentBlock::resource_link(resource))
}

/// The text block next to structured content: what the result holds, not the result.
fn summary(structured: &Value) -> String {
    let records = structured.get("data").and_then(Value::as_array);
    match records {
        Some(records) => {
            let mut s = format!(
                "{} record(s); the records are in structuredContent.data",
                records.len()
            );
            if let Some(meta) = structured.get("meta").filter(|m| !m.is_null()) {
                s.push_str("; meta: ");
                s.push_str(&serde_json::to_string(meta).unwrap_or_default());
            }
            s
        }
        None => {
            let keys: Vec<&str> = structured
                .as_object()
                .map(|m| m.keys().map(String::as_str).take(12).collect())
                .unwrap_or_default();
            format!(
                "The result is in structuredContent (fields: {}).",
                keys.join(", ")
            )
        }
    }
}

/// The MCP tool of `connector_info`: read-only, sends nothing.
fn info_tool(catalog: &[ConnectorTools]) -> McpTool {
    let (description, schema) = catalog::definition(catalog);
    let schema = match schema {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let title = "Describe connectors, entities, parameters and fields";
    let annotations = McpAnnotations::with_title(title)
        .read_only(true)
        .destructive(false)
        .idempotent(true)
        .open_world(false);
    let mut tool = McpTool::new(catalog::NAME, description, Arc::new(schema))
        .with_title(title)
        .with_annotations(annotations);
    if let Value::Object(output) = airbyte_agent_runtime::tools::any_output_schema() {
        tool.output_schema = Some(Arc::new(output));
    }
    tool
}

impl AgentServer {
    /// A server of `backends` (each connector's tools and what answers them), `tools/list` in
    /// pages of `page_size` tools. Tool names must be unique (see [`McpError`]).
    pub fn new(
        backends: Vec<(ConnectorTools, Backend)>,
        page_size: usize,
    ) -> Result<Self, McpError> {
        let catalog: Vec<ConnectorTools> = backends.iter().map(|(t, _)| t.clone()).collect();
        let mut tools = vec![info_tool(&catalog)];
        let mut by_name = HashMap::from([(catalog::NAME.to_string(), (0, Route::Info))]);
        let mut instructions = format!(
            "Tools of Airbyte agent connectors. Each tool runs one action of a SaaS API; arguments are validated before any request is sent. `{}` describes an entity's actions, parameters and record fields without sending anything.\n",
            catalog::NAME
        );
        let mut served = Vec::new();
        for (index, (connector_tools, backend)) in backends.into_iter().enumerate() {
            instructions.push_str(connector_tools.description());
            instructions.push('\n');
            for tool in connector_tools.tools() {
                if tool.name == catalog::NAME {
                    return Err(McpError::ReservedName {
                        connector: connector_tools.descriptor().name.to_string(),
                        tool: tool.name.clone(),
                    });
                }
                if by_name.contains_key(&tool.name) {
                    return Err(McpError::DuplicateName(tool.name.clone()));
                }
                by_name.insert(tool.name.clone(), (tools.len(), Route::Backend(index)));
                tools.push(to_mcp_tool(tool));
            }
            served.push(backend);
        }
        let pager = pages::Pager::new(tools.iter().map(|t| t.name.as_ref()), page_size);
        Ok(AgentServer {
            inner: Arc::new(Inner {
                tools,
                by_name,
                backends: served,
                catalog,
                pager,
                instructions,
            }),
            tools_ttl_ms: TOOLS_TTL_MS,
        })
    }

    /// How long clients may keep `tools/list` (2026-07-28 cache hints), in milliseconds; 0 when
    /// the catalogue may change at any time (the server's workspaces gain and lose connectors).
    pub fn with_tools_ttl_ms(mut self, ttl_ms: u64) -> Self {
        self.tools_ttl_ms = ttl_ms;
        self
    }

    /// The answer of `connector_info`: structured content with a summary, or an `isError`
    /// result saying what to change.
    fn info(&self, args: &Map<String, Value>) -> CallToolResponse {
        match catalog::call(&self.inner.catalog, args) {
            Ok((structured, summary)) => {
                let mut result = CallToolResult::success(vec![ContentBlock::text(summary)]);
                result.structured_content = Some(structured);
                result.into()
            }
            Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]).into(),
        }
    }

    /// The error for a tool name that is not served: JSON-RPC invalid params, naming the tools
    /// of the same entity (or all of them, when few).
    fn unknown_tool(&self, name: &str) -> ErrorData {
        let stem = name.rsplit_once('_').map_or(name, |(s, _)| s);
        let mut near: Vec<&str> = self
            .inner
            .tools
            .iter()
            .map(|t| t.name.as_ref())
            .filter(|n: &&str| n.rsplit_once('_').is_some_and(|(s, _)| s == stem))
            .collect();
        if near.is_empty() && self.inner.tools.len() <= 40 {
            near = self.inner.tools.iter().map(|t| t.name.as_ref()).collect();
        }
        let hint = if near.is_empty() {
            format!(
                "{} tools are served; see tools/list",
                self.inner.tools.len()
            )
        } else {
            format!("tools: {}", near.join(", "))
        };
        ErrorData::invalid_params(format!("unknown tool `{name}`; {hint}"), None)
    }
}

impl ServerHandler for AgentServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "airbyte-agent",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(self.inner.instructions.clone())
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(PROTOCOL_VERSIONS)
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let cursor = request.as_ref().and_then(|r| r.cursor.as_deref());
        let (page, next) = self
            .inner
            .pager
            .page(&self.inner.tools, cursor)
            .map_err(|message| ErrorData::invalid_params(message, None))?;
        // The catalogue is the same for every caller of this server; clients may keep it as
        // long as `tools_ttl_ms` says (2026-07-28 cache hints).
        let mut result = ListToolsResult::with_all_items(page)
            .with_ttl_ms(self.tools_ttl_ms)
            .with_cache_scope(CacheScope::Private);
        result.next_cursor = next;
        Ok(result)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(&(_, route)) = self.inner.by_name.get(request.name.as_ref()) else {
            return Err(self.unknown_tool(&request.name));
        };
        let backend = match route {
            Route::Info => return Ok(self.info(&request.arguments.unwrap_or_default())),
            Route::Backend(index) => index,
        };
        let args = Value::Object(request.arguments.unwrap_or_default());
        match self.inner.backends.get(backend) {
            Some(Backend::Ready(d)) => match d.call(&request.name, args).await {
                Ok(out) => Ok(to_result(out)),
                Err(why) => Ok(CallToolResult::error(vec![ContentBlock::text(why)]).into()),
            },
            Some(Backend::Unavailable(why)) => {
                Ok(CallToolResult::error(vec![ContentBlock::text(why.clone())]).into())
            }
            None => Err(self.unknown_tool(&request.name)),
        }
    }

    fn get_tool(&self, name: &str) -> Option<McpTool> {
        let &(tool, _) = self.inner.by_name.get(name)?;
        self.inner.tools.get(tool).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::{structured_content, summary};
    use airbyte_agent_runtime::serde_json::json;

    #[test]
    fn objects_go_in_as_they_are() {
        let v = structured_content(json!({"data": [{"id": "a"}], "meta": {"has_more": false}}));
        assert_eq!(
            v,
            json!({"data": [{"id": "a"}], "meta": {"has_more": false}})
        );
    }

    #[test]
    fn other_values_are_wrapped_in_an_object() {
        assert_eq!(structured_content(json!([1, 2])), json!({"result": [1, 2]}));
        assert_eq!(structured_content(json!("ok")), json!({"result": "ok"}));
        assert_eq!(structured_content(json!(null)), json!({"result": null}));
    }

    #[test]
    fn summaries_name_the_shape_not_the_payload() {
        let s = summary(&json!({"data": [{"id": "cus_secretish"}], "meta": {"has_more": true}}));
        assert_eq!(
            s,
            "1 record(s); the records are in structuredContent.data; meta: {\"has_more\":true}"
        );
        let s = summary(&json!({"id": "cus_1", "email": "a@b"}));
        assert_eq!(s, "The result is in structuredContent (fields: id, email).");
    }

    /// The server shares one built tool set between the dispatchers it makes per call; a set of
    /// another connector is never used for the client's calls.
    #[test]
    fn dispatchers_share_matching_tools_and_rebuild_others() {
        use airbyte_agent_runtime::tools::{ConnectorTools, Dispatcher, ToolOptions};
        use airbyte_agent_runtime::{Client, Credentials};
        use std::sync::Arc;
        let stripe = airbyte_agent_stripe::StripeConnector::descriptor();
        let github = airbyte_agent_github::GithubConnector::descriptor();
        let client = Client::builder(
            stripe,
            Credentials::new("bearerAuth").set("api_key", "sk_test_x"),
        )
        .build()
        .expect("client");
        let shared = Arc::new(ConnectorTools::with_options(
            stripe,
            ToolOptions::new().prefix("s"),
        ));
        let d = Dispatcher::with_tools(client.clone(), Arc::clone(&shared));
        assert!(std::ptr::eq(d.tools(), &*shared), "shared, not rebuilt");
        let other = Arc::new(ConnectorTools::with_options(
            github,
            ToolOptions::new().prefix("g"),
        ));
        let d = Dispatcher::with_tools(client, other);
        assert!(std::ptr::eq(d.tools().descriptor(), stripe));
        assert!(d.tools().tool("g_customers_list").is_some(), "same options");
    }
}
