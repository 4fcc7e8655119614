//! MCP server over stdio, built on the official Rust SDK (`rmcp`).
//!
//! Every use of the SDK's API is confined to this module so that upgrades touch one file.
//! Tools are registered through the SDK's dynamic tool routes: one route per tool of every
//! [`Dispatcher`], each calling the dispatcher with the tool's name.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use airbyte_agent_runtime::serde_json::{Map, Value};
use airbyte_agent_runtime::tools::{Dispatcher, Tool, ToolOutput};
use rmcp::handler::server::router::tool::{ToolRoute, ToolRouter};
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool as McpTool,
    ToolAnnotations as McpAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};

use crate::error::CliError;

/// The MCP server: the tools of one or more connectors.
pub struct AgentServer {
    router: ToolRouter<AgentServer>,
    instructions: String,
}

type CallFuture<'a> =
    Pin<Box<dyn Future<Output = Result<CallToolResponse, ErrorData>> + Send + 'a>>;

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
    McpTool::new(t.name.clone(), t.description.clone(), Arc::new(schema))
        .with_title(t.title.clone())
        .with_annotations(annotations)
}

fn to_result(out: ToolOutput) -> CallToolResponse {
    let content = vec![ContentBlock::text(out.text)];
    if out.is_error {
        CallToolResult::error(content).into()
    } else {
        CallToolResult::success(content).into()
    }
}

impl AgentServer {
    /// A server exposing every tool of `dispatchers`.
    pub fn new(dispatchers: Vec<Dispatcher>) -> Result<Self, CliError> {
        let mut router = ToolRouter::new();
        let mut instructions = String::from(
            "Tools of Airbyte agent connectors. Each tool runs one action of a SaaS API; arguments are validated before any request is sent.\n",
        );
        for dispatcher in dispatchers {
            instructions.push_str(dispatcher.tools().description());
            instructions.push('\n');
            let dispatcher = Arc::new(dispatcher);
            for tool in dispatcher.tools().tools() {
                if router.has_route(&tool.name) {
                    return Err(CliError::Usage(format!(
                        "two connectors expose a tool named `{}`; serve them with --prefix",
                        tool.name
                    )));
                }
                let d = Arc::clone(&dispatcher);
                let name = tool.name.clone();
                let route = ToolRoute::new_dyn(
                    to_mcp_tool(tool),
                    move |ctx: ToolCallContext<'_, AgentServer>| -> CallFuture<'_> {
                        let d = Arc::clone(&d);
                        let name = name.clone();
                        let args = ctx.arguments.map(Value::Object).unwrap_or(Value::Null);
                        Box::pin(async move { Ok(to_result(d.call(&name, args).await)) })
                    },
                );
                router.add_route(route);
            }
        }
        Ok(AgentServer {
            router,
            instructions,
        })
    }

    /// Names of the tools served.
    pub fn tool_names(&self) -> Vec<String> {
        self.router
            .list_all()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect()
    }

    /// Serve over stdin/stdout until the client disconnects.
    pub async fn serve_stdio(self) -> Result<(), CliError> {
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| CliError::Other(format!("MCP initialisation failed: {e}")))?;
        running
            .waiting()
            .await
            .map_err(|e| CliError::Other(format!("MCP server failed: {e}")))?;
        Ok(())
    }
}

impl ServerHandler for AgentServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "airbyte-agent",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(self.instructions.clone())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.router.list_all()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if !self.router.has_route(&request.name) {
            let names = self.tool_names().join(", ");
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "Unknown tool `{}`. Available tools: {names}.",
                request.name
            ))])
            .into());
        }
        self.router
            .call(ToolCallContext::new(self, request, context))
            .await
    }

    fn get_tool(&self, name: &str) -> Option<McpTool> {
        self.router.get(name).cloned()
    }
}
