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

/// The MCP result of one tool call.
///
/// Every result carries the text block (compact JSON, or the error message): clients older than
/// MCP 2025-06-18 read only that. A successful, untruncated result is ALSO sent as
/// `structuredContent`, the same JSON value:
///
/// * an object result goes in as it is;
/// * any other value (array, string, number, boolean, null) is wrapped as
///   `{"result": <value>}`, because MCP requires `structuredContent` to be an object.
///
/// When the output-size guard truncated the text, `structuredContent` is omitted: the truncated
/// text is no longer valid JSON, and sending the full value there would defeat the guard (the
/// client would receive the huge payload after all). The truncation marker in the text tells
/// the model to narrow its request. Errors are `isError: true` with the text block only.
fn to_result(out: ToolOutput) -> CallToolResponse {
    if out.is_error {
        return CallToolResult::error(vec![ContentBlock::text(out.text)]).into();
    }
    let mut result = CallToolResult::success(vec![ContentBlock::text(out.text)]);
    // `value` is `None` when the output guard truncated the text.
    result.structured_content = out.value.map(structured_content);
    result.into()
}

/// The `structuredContent` of a successful result, per [`to_result`].
fn structured_content(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map),
        other => {
            let mut wrapped = Map::new();
            wrapped.insert("result".to_string(), other);
            Value::Object(wrapped)
        }
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

#[cfg(test)]
mod tests {
    use super::structured_content;
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
}
