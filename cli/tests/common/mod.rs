//! Helpers shared by the CLI test binaries.
#![allow(dead_code)]

use airbyte_agent_runtime::serde_json::{self, Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Airbyte's API as hosted mode uses it: one application token (`app_token`, fetched once) and
/// `calls` execute calls on `connector_id` answering `result`.
pub async fn airbyte_api(connector_id: &str, result: Value, calls: u64) -> MockServer {
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/account/applications/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "app_token", "expires_in": 900})),
        )
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "/api/v1/integrations/connectors/{connector_id}/execute"
        )))
        .and(header("authorization", "Bearer app_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "result": result })))
        .expect(calls)
        .mount(&api)
        .await;
    api
}

/// The JSON bodies of the execute calls `api` received, in order.
pub async fn execute_bodies(api: &MockServer) -> Vec<Value> {
    api.received_requests()
        .await
        .expect("recorded")
        .iter()
        .filter(|r| r.url.path().ends_with("/execute"))
        .map(|r| serde_json::from_slice(&r.body).expect("JSON body"))
        .collect()
}

/// What one run of the binary printed.
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Run `airbyte-agent` with `args` in the temp directory, with no Stripe or Airbyte settings
/// from the test's own environment, plus `env`.
pub async fn run_cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_airbyte-agent"));
    cmd.args(args)
        .current_dir(std::env::temp_dir())
        .env_remove("STRIPE_API_KEY")
        .env_remove("STRIPE_BASE_URL")
        .env_remove("AIRBYTE_CLIENT_ID")
        .env_remove("AIRBYTE_CLIENT_SECRET")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("run airbyte-agent");
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A Stripe double for the MCP tests: `customers list` with `limit=2` and key `sk_test_mcp`
/// (two records, `has_more: true`), and a 404 for `customers/cus_missing`.
pub async fn mcp_stripe_double() -> MockServer {
    use wiremock::matchers::query_param;
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

/// `airbyte-agent` with `args`, in the temp directory, without any connector or Airbyte
/// credentials of the test's own environment, plus `env`.
pub fn agent_command(args: &[&str], env: &[(&str, String)]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_airbyte-agent"));
    cmd.args(args).current_dir(std::env::temp_dir());
    for k in [
        "AIRBYTE_CLIENT_ID",
        "AIRBYTE_CLIENT_SECRET",
        "STRIPE_API_KEY",
        "STRIPE_BASE_URL",
        "GITHUB_TOKEN",
        "GITHUB_ACCESS_TOKEN",
        "AIRBYTE_AGENT_MCP_TOKEN",
    ] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.kill_on_drop(true);
    cmd
}

/// An rmcp client of `airbyte-agent mcp` spawned over stdio.
pub type McpClient = rmcp::service::RunningService<rmcp::RoleClient, rmcp::model::ClientConfig>;

/// `airbyte-agent <args>` as an MCP stdio transport (its stderr inherited).
pub fn mcp_transport(args: &[&str], env: &[(&str, String)]) -> rmcp::transport::TokioChildProcess {
    let (child, _stderr) = rmcp::transport::TokioChildProcess::builder(agent_command(args, env))
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("spawn airbyte-agent mcp");
    child
}

/// A client that speaks the 2025-11-25 `initialize` handshake.
pub async fn legacy_client(args: &[&str], env: &[(&str, String)]) -> McpClient {
    use rmcp::ServiceExt;
    rmcp::model::ClientConfig::default()
        .with_protocol_version(rmcp::model::ProtocolVersion::V_2025_11_25)
        .serve(mcp_transport(args, env))
        .await
        .expect("initialize handshake")
}

/// A client that speaks the stateless 2026-07-28 revision (`server/discover`, per-request
/// metadata, no handshake).
pub async fn stateless_client(args: &[&str], env: &[(&str, String)]) -> McpClient {
    use rmcp::service::ClientServiceExt;
    rmcp::model::ClientConfig::default()
        .serve_with_lifecycle(
            mcp_transport(args, env),
            rmcp::service::ClientLifecycleMode::Discover {
                preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("server/discover")
}

/// The environment pointing Stripe at the MCP double ([`mcp_stripe_double`]).
pub fn stripe_env(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("STRIPE_API_KEY", "sk_test_mcp".to_string()),
        ("STRIPE_BASE_URL", server.uri()),
    ]
}
