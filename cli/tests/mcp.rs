//! The MCP server over stdio as real clients see it: rmcp's own client (the `initialize`
//! handshake of 2025-11-25 and the stateless 2026-07-28 revision) spawns `airbyte-agent mcp`,
//! lists tools and calls them against a local Stripe double; a raw JSON-RPC line writer covers
//! what a typed client cannot send (a line that is not JSON).
#![cfg(all(feature = "stripe", feature = "github"))]

mod common;

use std::process::Stdio;
use std::time::Duration;

use airbyte_agent_runtime::serde_json::{self, Map, Value, json};
use common::{
    McpClient as Client, agent_command, legacy_client, mcp_stripe_double, stateless_client,
    stripe_env,
};
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientRequest, CustomRequest, ErrorCode, ProtocolVersion,
};
use rmcp::service::ServiceError;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::ChildStdout;

fn args(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("arguments must be an object, got {other}"),
    }
}

async fn call(client: &Client, name: &str, arguments: Value) -> CallToolResult {
    client
        .call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(args(arguments)))
        .await
        .unwrap_or_else(|e| panic!("tools/call {name} failed: {e}"))
}

fn text(r: &CallToolResult) -> String {
    r.content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The JSON-RPC error of a failed request.
fn rpc_error(e: ServiceError) -> (ErrorCode, String) {
    match e {
        ServiceError::McpError(d) => (d.code, d.message.to_string()),
        other => panic!("expected a JSON-RPC error, got {other}"),
    }
}

/// What both protocol revisions must do the same way: tools, structured results, the errors.
async fn exercise(client: &Client, server: &wiremock::MockServer) {
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(tools.len() > 40, "{} tools", tools.len());
    let cl = tools
        .iter()
        .find(|t| t.name == "customers_list")
        .expect("customers_list");
    assert_eq!(cl.input_schema.get("type"), Some(&json!("object")));
    assert!(cl.input_schema["properties"]["limit"].is_object());
    assert_eq!(
        cl.annotations.as_ref().and_then(|a| a.read_only_hint),
        Some(true)
    );

    // A successful result: the records as structured content; the text block summarises them
    // instead of repeating the payload.
    let r = call(client, "customers_list", json!({"limit": 2})).await;
    assert_ne!(r.is_error, Some(true), "{r:?}");
    let structured = r.structured_content.clone().expect("structuredContent");
    assert_eq!(structured["data"][0]["id"], "cus_A");
    assert_eq!(structured["data"][1]["email"], "b@example.com");
    assert_eq!(structured["meta"]["has_more"], true);
    // ... as the tool's output schema declares (the record type's fields, typed).
    let output = serde_json::Value::Object(
        cl.output_schema
            .as_deref()
            .cloned()
            .expect("customers_list declares its output"),
    );
    assert!(
        output["$defs"]["Customer"]["properties"]["email"].is_object(),
        "{output}"
    );
    let validator = jsonschema::draft202012::new(&output).expect("output schema compiles");
    assert!(validator.is_valid(&structured), "{structured}");
    assert!(
        !validator.is_valid(&json!({"data": [{"id": 5}]})),
        "the schema types the record fields"
    );
    let t = text(&r);
    assert!(t.contains("2 record(s)"), "{t}");
    assert!(
        !t.contains("cus_A") && !t.contains("b@example.com"),
        "the text repeats the payload: {t}"
    );

    // Tool execution failures stay isError results with the dispatcher's wording.
    let r = call(client, "customers_list", json!({"limt": 2})).await;
    assert_eq!(r.is_error, Some(true), "{r:?}");
    let t = text(&r);
    assert!(t.contains("limt") && t.contains("starting_after"), "{t}");
    assert!(r.structured_content.is_none());
    let r = call(client, "customers_get", json!({"id": "cus_missing"})).await;
    assert_eq!(r.is_error, Some(true), "{r:?}");
    assert!(text(&r).contains("No such customer"), "{}", text(&r));

    // An unknown tool is a JSON-RPC invalid-params error naming the entity's tools.
    let e = client
        .call_tool(CallToolRequestParams::new("customers_fly"))
        .await
        .expect_err("unknown tool");
    let (code, message) = rpc_error(e);
    assert_eq!(code, ErrorCode::INVALID_PARAMS, "{message}");
    assert!(
        message.contains("customers_fly") && message.contains("customers_list"),
        "{message}"
    );
    assert!(!message.contains("sk_test_mcp"));

    // Malformed tools/call params (a name that is not a string, arguments that are not an
    // object) are invalid params too.
    for params in [
        json!({"name": 5}),
        json!({"name": "customers_list", "arguments": [1]}),
    ] {
        let e = client
            .send_request(ClientRequest::CustomRequest(CustomRequest::new(
                "tools/call",
                Some(params.clone()),
            )))
            .await
            .expect_err("malformed params");
        let (code, message) = rpc_error(e);
        assert_eq!(code, ErrorCode::INVALID_PARAMS, "{params}: {message}");
    }

    // Capabilities not declared are not served.
    let e = client
        .list_resources(None)
        .await
        .expect_err("resources are not served");
    assert_eq!(rpc_error(e).0, ErrorCode::METHOD_NOT_FOUND);
    let e = client
        .list_prompts(None)
        .await
        .expect_err("prompts are not served");
    assert_eq!(rpc_error(e).0, ErrorCode::METHOD_NOT_FOUND);

    // Only the successful list and the 404 reached the double.
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 2, "{requests:?}");
}

#[tokio::test]
async fn initialize_handshake_lists_and_calls_stripe_tools() {
    let server = mcp_stripe_double().await;
    let client = legacy_client(
        &["mcp", "--connector", "stripe", "--tools", "both"],
        &stripe_env(&server),
    )
    .await;
    let info = client.peer_info().expect("server info");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2025_11_25);
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("airbyte-agent")
    );
    // Only the tools capability is declared.
    let caps = serde_json::to_value(&info.capabilities).expect("capabilities");
    assert!(caps["tools"].is_object(), "{caps}");
    for undeclared in ["resources", "prompts", "completions", "logging"] {
        assert!(
            caps.get(undeclared).is_none(),
            "{undeclared} declared: {caps}"
        );
    }
    assert!(
        info.instructions
            .as_deref()
            .is_some_and(|s| s.contains("customers:")),
        "{info:?}"
    );
    exercise(&client, &server).await;
    // The combined tool answers too.
    let r = call(
        &client,
        "stripe_execute",
        json!({"entity": "customers", "action": "list", "params": {"limit": 2}}),
    )
    .await;
    assert_ne!(r.is_error, Some(true), "{r:?}");
    assert_eq!(
        r.structured_content.expect("structured")["data"][1]["id"],
        "cus_B"
    );
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn stateless_revision_serves_the_same_tools() {
    let server = mcp_stripe_double().await;
    let client = stateless_client(&["mcp", "--connector", "stripe"], &stripe_env(&server)).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(info.protocol_version, ProtocolVersion::V_2026_07_28);
    // The fixed catalogue carries a cache hint.
    let page = client.list_tools(None).await.expect("tools/list");
    assert_eq!(page.ttl_ms, Some(3_600_000));
    exercise(&client, &server).await;
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn several_connectors_are_prefixed_and_pages_over_the_limit_are_cut_at_a_record() {
    let server = mcp_stripe_double().await;
    let mut env = stripe_env(&server);
    env.push(("GITHUB_TOKEN", "ghp_test".to_string()));
    env.push(("GITHUB_BASE_URL", "http://127.0.0.1:9".to_string()));
    let client = legacy_client(
        &[
            "mcp",
            "--connector",
            "stripe,github",
            "--max-output-chars",
            "60",
        ],
        &env,
    )
    .await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(names.contains(&"stripe_customers_list"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("github_")), "{names:?}");
    // Every connector tool is prefixed; `connector_info` is the server's own, for both.
    assert!(
        names.iter().all(|n| n.starts_with("stripe_")
            || n.starts_with("github_")
            || *n == "connector_info"),
        "{names:?}"
    );
    let r = call(&client, "stripe_customers_list", json!({"limit": 2})).await;
    assert_ne!(r.is_error, Some(true), "{r:?}");
    assert!(
        text(&r).contains("[output truncated: showing 0 of 2 records"),
        "{}",
        text(&r)
    );
    let structured = r
        .structured_content
        .as_ref()
        .expect("the cut page is structured");
    assert_eq!(structured["data"], json!([]), "{structured}");
    client.cancel().await.expect("close");
}

#[tokio::test]
async fn missing_credentials_start_the_server_and_calls_say_what_to_set() {
    let client = legacy_client(&["mcp", "--connector", "stripe"], &[]).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(tools.iter().any(|t| t.name == "customers_list"));
    let r = call(&client, "customers_list", json!({"limit": 2})).await;
    assert_eq!(r.is_error, Some(true), "{r:?}");
    assert!(text(&r).contains("STRIPE_API_KEY"), "{}", text(&r));
    // Unknown tools are still protocol errors, not credential messages.
    let e = client
        .call_tool(CallToolRequestParams::new("nope"))
        .await
        .expect_err("unknown tool");
    assert_eq!(rpc_error(e).0, ErrorCode::INVALID_PARAMS);
    client.cancel().await.expect("close");
}

/// Hosted mode: with only Airbyte application credentials, tool calls go to Airbyte's execute
/// endpoint (application token first), and the provider's credentials never leave Airbyte.
#[tokio::test]
async fn hosted_mode_runs_tools_through_the_airbyte_api() {
    let result = json!({"data": [{"id": "cus_hosted", "email": "h@example.com"}],
                        "meta": {"has_more": false}});
    let api = common::airbyte_api("conn_mcp", result, 2).await;
    let client = legacy_client(
        &["mcp", "--connector", "stripe"],
        &[
            ("AIRBYTE_CLIENT_ID", "mcp-client".to_string()),
            ("AIRBYTE_CLIENT_SECRET", "mcp-client-secret".to_string()),
            ("SDK_DEV_ADP_API_HOST", api.uri()),
            ("STRIPE_CONNECTOR_ID", "conn_mcp".to_string()),
        ],
    )
    .await;
    for _ in 0..2 {
        let r = call(&client, "customers_list", json!({"limit": 1})).await;
        assert_ne!(r.is_error, Some(true), "{r:?}");
        assert_eq!(
            r.structured_content.expect("structured")["data"][0]["id"],
            "cus_hosted"
        );
    }
    client.cancel().await.expect("close");
    let exec = common::execute_bodies(&api).await;
    assert_eq!(exec.len(), 2);
    assert_eq!(exec[0]["entity"], "customers");
    assert_eq!(exec[0]["action"], "list");
    assert_eq!(exec[0]["params"]["limit"], 1);
}

async fn next(lines: &mut Lines<BufReader<ChildStdout>>) -> Value {
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("a reply within 30 s")
        .expect("read")
        .expect("the server closed stdout");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line:?}: {e}"))
}

/// A line that is not JSON gets a Parse error (-32700, id null) and the server keeps serving;
/// a batch is an Invalid Request (-32600). A typed client cannot send these, so the test writes
/// raw lines.
#[tokio::test]
async fn invalid_json_lines_get_parse_errors_over_raw_stdio() {
    let mut child = agent_command(&["mcp", "--connector", "stripe"], &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}});
    for msg in [
        init.to_string(),
        "{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": \"tools/li".to_string(),
        "[]".to_string(),
    ] {
        stdin
            .write_all(format!("{msg}\n").as_bytes())
            .await
            .expect("write");
    }
    stdin.flush().await.expect("flush");
    let r = next(&mut lines).await;
    assert_eq!(r["id"], 1, "{r}");
    assert_eq!(r["result"]["protocolVersion"], "2025-11-25", "{r}");
    let r = next(&mut lines).await;
    assert_eq!(r["error"]["code"], -32700, "{r}");
    assert_eq!(r["id"], Value::Null, "{r}");
    let r = next(&mut lines).await;
    assert_eq!(r["error"]["code"], -32600, "{r}");
    // Still serving.
    let msgs = [
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
    ];
    for m in msgs {
        stdin
            .write_all(format!("{m}\n").as_bytes())
            .await
            .expect("write");
    }
    stdin.flush().await.expect("flush");
    let r = next(&mut lines).await;
    assert_eq!(r["id"], 3, "{r}");
    assert!(
        r["result"]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty()),
        "{r}"
    );
    drop(stdin);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits after stdin closes")
        .expect("wait");
    assert!(status.success(), "{status}");
}
