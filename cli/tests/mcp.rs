//! The MCP server as a real client sees it: spawn `airbyte-agent mcp`, speak JSON-RPC over
//! stdio, list tools and call them against a local Stripe double.
#![cfg(all(feature = "stripe", feature = "github"))]

mod common;

use std::process::Stdio;
use std::time::Duration;

use airbyte_agent_runtime::serde_json::{self, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct McpClient {
    child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

impl McpClient {
    fn spawn(args: &[&str], env: &[(&str, String)]) -> McpClient {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_airbyte-agent"));
        cmd.args(args)
            .current_dir(std::env::temp_dir())
            .env_remove("AIRBYTE_CLIENT_ID")
            .env_remove("AIRBYTE_CLIENT_SECRET")
            .env_remove("STRIPE_API_KEY")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_ACCESS_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn airbyte-agent");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        McpClient {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
            next_id: 1,
        }
    }

    async fn send(&mut self, msg: Value) {
        let mut line = serde_json::to_string(&msg).expect("json");
        line.push('\n');
        self.stdin
            .write_all(line.as_bytes())
            .await
            .expect("write request");
        self.stdin.flush().await.expect("flush");
    }

    /// Send a request and wait for the response with the same id (skipping notifications).
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
                .await
                .expect("response within 30 s")
                .expect("read stdout")
                .expect("server closed stdout early");
            let msg: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("server wrote non-JSON line {line:?}: {e}"));
            if msg.get("id") == Some(&json!(id)) {
                assert!(msg.get("error").is_none(), "{method} failed: {msg}");
                return msg["result"].clone();
            }
        }
    }

    async fn initialize(&mut self) -> Value {
        let result = self
            .request(
                "initialize",
                json!({
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "test-client", "version": "0.0.1"}
                }),
            )
            .await;
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .await;
        result
    }

    /// The whole `tools/call` result.
    async fn call_result(&mut self, name: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }

    async fn call(&mut self, name: &str, arguments: Value) -> (bool, String) {
        let r = self.call_result(name, arguments).await;
        let text = r["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("no text content: {r}"))
            .to_string();
        (r["isError"] == json!(true), text)
    }

    /// Close stdin and expect a clean exit.
    async fn shutdown(mut self) {
        drop(self.stdin);
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("server exits after stdin closes")
            .expect("wait");
        assert!(status.success(), "server exit status {status}");
    }
}

async fn stripe_double() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param("limit", "2"))
        .and(header("authorization", "Bearer sk_test_mcp"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "url": "/v1/customers",
            "has_more": true,
            "data": [
                {"id": "cus_A", "object": "customer", "email": "a@example.com", "created": 1700000000},
                {"id": "cus_B", "object": "customer", "email": "b@example.com", "created": 1700000001}
            ]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_missing"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"type": "invalid_request_error", "message": "No such customer: 'cus_missing'"}
        })))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn mcp_server_lists_and_calls_stripe_tools() {
    let server = stripe_double().await;
    let mut mcp = McpClient::spawn(
        &["mcp", "--connector", "stripe", "--tools", "both"],
        &[
            ("STRIPE_API_KEY", "sk_test_mcp".to_string()),
            ("STRIPE_BASE_URL", server.uri()),
        ],
    );
    let init = mcp.initialize().await;
    assert_eq!(init["serverInfo"]["name"], "airbyte-agent");
    assert!(init["capabilities"]["tools"].is_object(), "{init}");
    assert!(
        init["instructions"]
            .as_str()
            .is_some_and(|s| s.contains("customers:")),
        "{init}"
    );

    let list = mcp.request("tools/list", json!({})).await;
    let tools = list["tools"].as_array().expect("tools array");
    assert!(tools.len() > 40, "{} tools", tools.len());
    let find = |name: &str| {
        tools
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no tool {name}"))
            .clone()
    };
    let cl = find("customers_list");
    assert_eq!(cl["inputSchema"]["type"], "object");
    assert_eq!(cl["inputSchema"]["additionalProperties"], false);
    assert!(cl["inputSchema"]["properties"]["limit"].is_object());
    assert_eq!(cl["annotations"]["readOnlyHint"], true);
    let cd = find("customers_delete");
    assert_eq!(cd["annotations"]["destructiveHint"], true);
    assert_eq!(cd["inputSchema"]["required"], json!(["id"]));
    let combined = find("stripe_execute");
    assert!(
        combined["inputSchema"]["properties"]["entity"]["enum"]
            .as_array()
            .is_some_and(|e| e.contains(&json!("customers")))
    );

    let r = mcp.call_result("customers_list", json!({"limit": 2})).await;
    assert_eq!(r["isError"], false, "{r}");
    let text = r["content"][0]["text"].as_str().expect("text block kept");
    let v: Value = serde_json::from_str(text).expect("JSON result");
    assert_eq!(v["data"][0]["id"], "cus_A");
    assert_eq!(v["data"][1]["email"], "b@example.com");
    assert_eq!(v["meta"]["has_more"], true);
    // The same value, structured (MCP 2025-06-18): an object result goes in as it is.
    let structured = &r["structuredContent"];
    assert!(structured.is_object(), "{r}");
    assert_eq!(structured, &v);
    assert_eq!(structured["data"][1]["id"], "cus_B");

    // The same call through the combined tool.
    let (is_error, text) = mcp
        .call(
            "stripe_execute",
            json!({"entity": "customers", "action": "list", "params": {"limit": 2}}),
        )
        .await;
    assert!(!is_error, "{text}");
    assert!(text.contains("cus_B"));

    // Errors are tool results the model can read, with the valid choices.
    let (is_error, text) = mcp.call("customers_list", json!({"limt": 2})).await;
    assert!(is_error);
    assert!(
        text.contains("limt") && text.contains("starting_after"),
        "{text}"
    );
    let r = mcp
        .call_result("customers_get", json!({"id": "cus_missing"}))
        .await;
    assert_eq!(r["isError"], true, "{r}");
    let text = r["content"][0]["text"].as_str().expect("error text");
    assert!(text.contains("No such customer"), "{text}");
    // Errors are text only.
    assert!(r.get("structuredContent").is_none(), "{r}");
    let r = mcp.call_result("customers_list", json!({"limt": 2})).await;
    assert_eq!(r["isError"], true, "{r}");
    assert!(r.get("structuredContent").is_none(), "{r}");
    let (is_error, text) = mcp.call("customers_fly", json!({})).await;
    assert!(is_error);
    assert!(text.contains("customers_list"), "{text}");
    assert!(!text.contains("sk_test_mcp"));

    // Exactly the two successful list calls reached the double (validation failures send nothing).
    let requests = server.received_requests().await.expect("recorded");
    let lists = requests
        .iter()
        .filter(|r| r.url.path() == "/v1/customers")
        .count();
    assert_eq!(lists, 2);
    mcp.shutdown().await;
}

#[tokio::test]
async fn mcp_server_prefixes_tools_of_several_connectors() {
    let server = stripe_double().await;
    let mut mcp = McpClient::spawn(
        &[
            "mcp",
            "--connector",
            "stripe",
            "--connector",
            "github",
            "--max-output-chars",
            "60",
        ],
        &[
            ("STRIPE_API_KEY", "sk_test_mcp".to_string()),
            ("STRIPE_BASE_URL", server.uri()),
            ("GITHUB_TOKEN", "ghp_test".to_string()),
            ("GITHUB_BASE_URL", "http://127.0.0.1:9".to_string()),
        ],
    );
    mcp.initialize().await;
    let list = mcp.request("tools/list", json!({})).await;
    let names: Vec<&str> = list["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"stripe_customers_list"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("github_")), "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("stripe_") || n.starts_with("github_"))
    );

    let r = mcp
        .call_result("stripe_customers_list", json!({"limit": 2}))
        .await;
    assert_eq!(r["isError"], false, "{r}");
    let text = r["content"][0]["text"].as_str().expect("text block");
    assert!(text.contains("[output truncated: showing 60 of"), "{text}");
    // A truncated result is not sent in full as structured content either.
    assert!(r.get("structuredContent").is_none(), "{r}");
    mcp.shutdown().await;
}

#[tokio::test]
async fn mcp_refuses_to_start_without_credentials() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_airbyte-agent"))
        .args(["mcp", "--connector", "stripe"])
        .current_dir(std::env::temp_dir())
        .env_remove("STRIPE_API_KEY")
        .env_remove("AIRBYTE_CLIENT_ID")
        .env_remove("AIRBYTE_CLIENT_SECRET")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("STRIPE_API_KEY"), "{err}");
}

/// Hosted mode: with only Airbyte application credentials, tool calls go to Airbyte's execute
/// endpoint (application token first), and the provider's credentials never leave Airbyte.
#[tokio::test]
async fn mcp_server_runs_tools_through_the_airbyte_api() {
    let result = json!({"data": [{"id": "cus_hosted", "email": "h@example.com"}],
                        "meta": {"has_more": false}});
    let api = common::airbyte_api("conn_mcp", result, 2).await;
    let mut mcp = McpClient::spawn(
        &["mcp", "--connector", "stripe"],
        &[
            ("AIRBYTE_CLIENT_ID", "mcp-client".to_string()),
            ("AIRBYTE_CLIENT_SECRET", "mcp-client-secret".to_string()),
            ("SDK_DEV_ADP_API_HOST", api.uri()),
            ("STRIPE_CONNECTOR_ID", "conn_mcp".to_string()),
        ],
    );
    mcp.initialize().await;
    let list = mcp.request("tools/list", json!({})).await;
    assert!(
        list["tools"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["name"] == "customers_list")),
        "{list}"
    );
    for _ in 0..2 {
        let r = mcp.call_result("customers_list", json!({"limit": 1})).await;
        assert_eq!(r["isError"], false, "{r}");
        assert_eq!(r["structuredContent"]["data"][0]["id"], "cus_hosted", "{r}");
    }
    mcp.shutdown().await;

    // One application token for both calls; each call named the entity, action and params.
    let exec = common::execute_bodies(&api).await;
    assert_eq!(exec.len(), 2);
    assert_eq!(exec[0]["entity"], "customers");
    assert_eq!(exec[0]["action"], "list");
    assert_eq!(exec[0]["params"]["limit"], 1);
}
