//! `airbyte-agent mcp --http 127.0.0.1:0`: the same tools over Streamable HTTP, driven by rmcp's
//! HTTP client (the 2025-11-25 handshake and the stateless 2026-07-28 revision), plus raw HTTP
//! requests for what a well-behaved client never sends: no or a wrong bearer token, a foreign
//! `Origin`, a body that is not JSON. Loopback only.
#![cfg(feature = "stripe")]

mod common;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use airbyte_agent_runtime::serde_json::{Map, Value, json};
use common::{agent_command, mcp_stripe_double};
use rmcp::model::{
    CallToolRequestParams, ClientConfig, ClientRequest, CustomRequest, ErrorCode, ProtocolVersion,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService, ServiceError};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;

const TOKEN: &str = "test-bearer-token-0123456789";

/// A running `mcp --http` server: its URL and everything it wrote to stderr so far.
struct HttpServer {
    _child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
}

/// reqwest is built without a default TLS provider in this workspace (the runtime configures
/// its own); the HTTP clients of these tests need one installed, even for plain http.
fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

async fn start(extra: &[&str], env: &[(&str, String)]) -> HttpServer {
    install_tls_provider();
    let mut args = vec!["mcp", "--connector", "stripe", "--http", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = agent_command(&args, env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn airbyte-agent mcp --http");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let stderr = Arc::new(Mutex::new(String::new()));
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the server starts within 30 s")
            .expect("read stderr")
            .expect("the server exited before listening");
        stderr.lock().expect("lock").push_str(&line);
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().expect("a URL").to_string();
        }
    };
    let sink = Arc::clone(&stderr);
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().expect("lock").push_str(&line);
        }
    });
    HttpServer {
        _child: child,
        url,
        stderr,
    }
}

fn env(server: &wiremock::MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("STRIPE_API_KEY", "sk_test_mcp".to_string()),
        ("STRIPE_BASE_URL", server.uri()),
        ("AIRBYTE_AGENT_MCP_TOKEN", TOKEN.to_string()),
    ]
}

fn transport(url: &str) -> StreamableHttpClientTransport<reqwest::Client> {
    StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_string()).auth_header(TOKEN),
    )
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("an object")
}

fn rpc_code(e: ServiceError) -> ErrorCode {
    match e {
        ServiceError::McpError(d) => d.code,
        other => panic!("expected a JSON-RPC error, got {other}"),
    }
}

async fn exercise(client: &RunningService<RoleClient, ClientConfig>) {
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(
        tools.iter().any(|t| t.name == "customers_list"),
        "{tools:?}"
    );
    let r = client
        .call_tool(
            CallToolRequestParams::new("customers_list").with_arguments(args(json!({"limit": 2}))),
        )
        .await
        .expect("tools/call");
    assert_ne!(r.is_error, Some(true), "{r:?}");
    let structured = r.structured_content.expect("structured");
    assert_eq!(structured["data"][1]["id"], "cus_B");
    // The structured content fits the output schema tools/list declares.
    let declared = tools
        .iter()
        .find(|t| t.name == "customers_list")
        .and_then(|t| t.output_schema.as_deref().cloned())
        .expect("customers_list declares its output");
    let validator = jsonschema::draft202012::new(&Value::Object(declared)).expect("compiles");
    assert!(validator.is_valid(&structured), "{structured}");
    let info = client
        .call_tool(CallToolRequestParams::new("connector_info"))
        .await
        .expect("connector_info over HTTP");
    assert!(info.structured_content.is_some(), "{info:?}");
    let page = client.list_tools(None).await.expect("tools/list");
    assert!(
        page.ttl_ms.is_some_and(|t| t > 0),
        "a cache hint over HTTP too"
    );
    let r = client
        .call_tool(
            CallToolRequestParams::new("customers_list").with_arguments(args(json!({"limt": 2}))),
        )
        .await
        .expect("tools/call");
    assert_eq!(r.is_error, Some(true), "{r:?}");
    let e = client
        .call_tool(CallToolRequestParams::new("customers_fly"))
        .await
        .expect_err("unknown tool");
    assert_eq!(rpc_code(e), ErrorCode::INVALID_PARAMS);
    let e = client
        .send_request(ClientRequest::CustomRequest(CustomRequest::new(
            "tools/call",
            Some(json!({"name": 5})),
        )))
        .await
        .expect_err("malformed params");
    assert_eq!(rpc_code(e), ErrorCode::INVALID_PARAMS);
}

#[tokio::test]
async fn http_serves_the_same_tools_in_both_revisions() {
    let stripe = mcp_stripe_double().await;
    let server = start(&[], &env(&stripe)).await;

    let legacy = ClientConfig::default()
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
        .serve(transport(&server.url))
        .await
        .expect("initialize over HTTP");
    assert_eq!(
        legacy.peer_info().map(|i| i.protocol_version.clone()),
        Some(ProtocolVersion::V_2025_11_25)
    );
    exercise(&legacy).await;
    legacy.cancel().await.expect("close");

    let stateless = ClientConfig::default()
        .serve_with_lifecycle(
            transport(&server.url),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("server/discover over HTTP");
    assert_eq!(
        stateless.peer_info().map(|i| i.protocol_version.clone()),
        Some(ProtocolVersion::V_2026_07_28)
    );
    exercise(&stateless).await;
    stateless.cancel().await.expect("close");

    // Two successful list calls reached the provider; the token never reached the logs.
    let lists = stripe
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .filter(|r| r.url.path() == "/v1/customers")
        .count();
    assert_eq!(lists, 2);
    let log = server.stderr.lock().expect("lock").clone();
    assert!(!log.contains(TOKEN), "{log}");
    assert!(!log.contains("sk_test_mcp"), "{log}");
}

#[tokio::test]
async fn http_requires_the_token_checks_origin_and_answers_bad_json() {
    let stripe = mcp_stripe_double().await;
    let server = start(&["--allow-origin", "http://localhost:5173"], &env(&stripe)).await;
    let http = reqwest::Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}})
    .to_string();
    let post = |body: String| {
        http.post(&server.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
    };

    let r = post(init.clone()).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        r.headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    let r = post(init.clone())
        .bearer_auth("test-bearer-token-wrong-guess")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);

    let r = post(init.clone())
        .bearer_auth(TOKEN)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 403);
    let r = post(init.clone())
        .bearer_auth(TOKEN)
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200, "{:?}", r.text().await);

    // Not JSON: a JSON-RPC parse error, as HTTP 400.
    let r = post("{\"jsonrpc\": \"2.0\", \"id\": 2, \"meth".to_string())
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json_or_text().await;
    assert_eq!(body["error"]["code"], -32700, "{body}");
    assert_eq!(body["id"], Value::Null, "{body}");

    let r = http
        .post(server.url.replace("/mcp", "/other"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 404);
    let log = server.stderr.lock().expect("lock").clone();
    assert!(!log.contains(TOKEN), "{log}");
}

#[tokio::test]
async fn http_needs_a_long_token_and_a_loopback_address() {
    let run = |args: &[&str], env: &[(&str, String)]| {
        let mut cmd = agent_command(args, env);
        cmd.stdin(Stdio::null());
        async move { cmd.output().await.expect("run") }
    };
    let base = ["mcp", "--connector", "stripe", "--http", "127.0.0.1:0"];
    let key = ("STRIPE_API_KEY", "sk_test_mcp".to_string());
    let out = run(&base, std::slice::from_ref(&key)).await;
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("AIRBYTE_AGENT_MCP_TOKEN"), "{err}");

    let out = run(
        &base,
        &[
            key.clone(),
            ("AIRBYTE_AGENT_MCP_TOKEN", "tiny-secret".to_string()),
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(5));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("too short") && !err.contains("tiny-secret"),
        "{err}"
    );

    let out = run(
        &["mcp", "--connector", "stripe", "--http", "0.0.0.0:0"],
        &[key, ("AIRBYTE_AGENT_MCP_TOKEN", TOKEN.to_string())],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[tokio::test]
async fn http_without_provider_credentials_still_serves_and_says_what_to_set() {
    let server = start(&[], &[("AIRBYTE_AGENT_MCP_TOKEN", TOKEN.to_string())]).await;
    let client = ClientConfig::default()
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
        .serve(transport(&server.url))
        .await
        .expect("initialize over HTTP");
    let r = client
        .call_tool(CallToolRequestParams::new("customers_list"))
        .await
        .expect("tools/call");
    assert_eq!(r.is_error, Some(true), "{r:?}");
    let text: String = r
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect();
    assert!(text.contains("STRIPE_API_KEY"), "{text}");
    client.cancel().await.expect("close");
}

trait JsonOrText {
    async fn json_or_text(self) -> Value;
}

impl JsonOrText for reqwest::Response {
    async fn json_or_text(self) -> Value {
        let text = self.text().await.expect("body");
        airbyte_agent_runtime::serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}
