//! Remote MCP at `/mcp`, driven by rmcp's Streamable HTTP client (the 2025-11-25 handshake and
//! the stateless 2026-07-28 revision) against the real server on 127.0.0.1: the workspace's
//! connectors' tools, tool calls through the execute path to a loopback Stripe double, scoped
//! tokens never reaching another workspace, application tokens naming their workspace, and
//! raw requests for what a well-behaved client never sends. SQLite always; PostgreSQL when
//! `AIRBYTE_SERVER_TEST_PG` is set.

mod common;

use std::collections::HashMap;

use common::*;
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService, ServiceError};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value, json};

type Client = RunningService<RoleClient, ClientConfig>;

/// reqwest is built without a default TLS provider in this workspace; rmcp's client needs one
/// installed, even for plain http.
fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn transport(
    url: &str,
    token: &str,
    headers: &[(&'static str, &str)],
) -> StreamableHttpClientTransport<reqwest::Client> {
    install_tls_provider();
    let custom: HashMap<reqwest::header::HeaderName, reqwest::header::HeaderValue> = headers
        .iter()
        .map(|(k, v)| {
            (
                reqwest::header::HeaderName::from_static(k),
                reqwest::header::HeaderValue::from_str(v).expect("header value"),
            )
        })
        .collect();
    StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_string())
            .auth_header(token)
            .custom_headers(custom),
    )
}

/// A client that speaks the 2025-11-25 `initialize` handshake.
async fn legacy(url: &str, token: &str, headers: &[(&'static str, &str)]) -> Client {
    ClientConfig::default()
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
        .serve(transport(url, token, headers))
        .await
        .expect("initialize handshake")
}

/// A client of the stateless 2026-07-28 revision (`server/discover`, no handshake).
async fn stateless(url: &str, token: &str, headers: &[(&'static str, &str)]) -> Client {
    ClientConfig::default()
        .serve_with_lifecycle(
            transport(url, token, headers),
            ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            },
        )
        .await
        .expect("server/discover")
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("an object")
}

async fn create_in(srv: &TestServer, token: &str, ws: &str, name: &str) -> String {
    let (s, b) = srv.create_stripe_in(token, ws, Some(name)).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().expect("id").to_string()
}

async fn workspace(srv: &TestServer, token: &str, name: &str) {
    let (s, b) = srv
        .send(
            "POST",
            "/api/v1/workspaces",
            Some(token),
            Some(json!({"name": name}).to_string()),
        )
        .await;
    assert_eq!(s, 201, "{b}");
}

async fn scoped(srv: &TestServer, app_token: &str, ws: &str) -> String {
    let (s, t) = srv
        .send(
            "POST",
            "/api/v1/embedded/scoped-token",
            Some(app_token),
            Some(json!({"workspace_name": ws}).to_string()),
        )
        .await;
    assert_eq!(s, 200, "{t}");
    t["token"].as_str().expect("token").to_string()
}

/// tools/list and two tools/calls (a page, and a provider error that echoes the key).
async fn exercise(client: &Client, prefix: &str) {
    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    let list = format!("{prefix}customers_list");
    assert!(names.contains(&list.as_str()), "{names:?}");
    assert!(names.contains(&"connector_info"), "{names:?}");
    let r = client
        .call_tool(CallToolRequestParams::new(list).with_arguments(args(json!({"limit": 2}))))
        .await
        .expect("tools/call");
    assert_ne!(r.is_error, Some(true), "{r:?}");
    let structured = r.structured_content.clone().expect("structuredContent");
    assert_eq!(structured["data"][0]["id"], "cus_1", "{structured}");
    assert_eq!(structured["data"][1]["email"], "user2@example.com");
    assert!(
        !serde_json::to_string(&r)
            .expect("json")
            .contains(STRIPE_KEY)
    );

    // The provider echoes the stored key in its error: the model never sees it.
    let r = client
        .call_tool(
            CallToolRequestParams::new(format!("{prefix}customers_get"))
                .with_arguments(args(json!({"id": "cus_echo"}))),
        )
        .await
        .expect("tools/call");
    assert_eq!(r.is_error, Some(true), "{r:?}");
    let text = serde_json::to_string(&r).expect("json");
    assert!(!text.contains(STRIPE_KEY), "{text}");
    assert!(text.contains("***"), "{text}");

    // Bad arguments are the dispatcher's model-facing error, nothing sent.
    let r = client
        .call_tool(
            CallToolRequestParams::new(format!("{prefix}customers_list"))
                .with_arguments(args(json!({"limit": "many"}))),
        )
        .await
        .expect("tools/call");
    assert_eq!(r.is_error, Some(true), "{r:?}");
}

/// A scoped token and an application token naming the workspace (header or query) get the
/// workspace's tools, over both protocol revisions, and their calls run through execute.
#[tokio::test]
async fn mcp_serves_one_workspace_and_calls_through_execute() {
    for db in databases().await {
        let (_provider, srv, app, _) = with_stripe(&db).await;
        let mcp = format!("{}/mcp", srv.url);
        let tok = scoped(&srv, &app, "default").await;

        let c = legacy(&mcp, &tok, &[]).await;
        let info = c.peer_info().expect("server info");
        assert_eq!(
            info.server_info.as_ref().map(|i| i.name.as_str()),
            Some("airbyte-agent")
        );
        exercise(&c, "").await;
        let _ = c.cancel().await;

        let c = stateless(&mcp, &tok, &[]).await;
        exercise(&c, "").await;
        let _ = c.cancel().await;

        let c = legacy(&mcp, &app, &[("x-workspace-name", "default")]).await;
        exercise(&c, "").await;
        let _ = c.cancel().await;
        let c = stateless(&format!("{mcp}?workspace_name=default"), &app, &[]).await;
        exercise(&c, "").await;
        let _ = c.cancel().await;
    }
}

/// Workspace A's scoped token sees A's one connector (unprefixed tools) and never B's two
/// (prefixed with their ids): not listed, not callable, B not selectable.
#[tokio::test]
async fn scoped_tokens_never_reach_another_workspace() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let app = srv.token(&srv.app).await;
        workspace(&srv, &app, "wa").await;
        workspace(&srv, &app, "wb").await;
        create_in(&srv, &app, "wa", "a").await;
        let b1 = create_in(&srv, &app, "wb", "b1").await;
        let b2 = create_in(&srv, &app, "wb", "b2").await;
        let short = |id: &str| -> String {
            id.chars()
                .filter(char::is_ascii_alphanumeric)
                .take(8)
                .collect()
        };
        let (p1, p2) = (
            format!("stripe_{}_", short(&b1)),
            format!("stripe_{}_", short(&b2)),
        );
        let mcp = format!("{}/mcp", srv.url);

        let ta = scoped(&srv, &app, "wa").await;
        let c = legacy(&mcp, &ta, &[]).await;
        let tools = c.list_all_tools().await.expect("tools/list");
        assert_eq!(
            tools.len(),
            stripe_tool_count() + 1,
            "A's one connector plus connector_info"
        );
        assert!(
            tools.iter().all(|t| !t.name.starts_with("stripe_")),
            "nothing of B is listed"
        );
        let e = c
            .call_tool(CallToolRequestParams::new(format!("{p1}customers_list")))
            .await
            .expect_err("B's tool is unknown to A");
        assert!(matches!(e, ServiceError::McpError(_)), "{e}");
        exercise(&c, "").await;
        let _ = c.cancel().await;

        // B's token sees B's two connectors, each under its own prefix.
        let tb = scoped(&srv, &app, "wb").await;
        let c = stateless(&mcp, &tb, &[]).await;
        let tools = c.list_all_tools().await.expect("tools/list");
        assert_eq!(tools.len(), 2 * stripe_tool_count() + 1);
        exercise(&c, &p1).await;
        exercise(&c, &p2).await;
        let _ = c.cancel().await;

        // A's token naming B, by header or query: B does not exist for it; naming A is fine.
        let accept = ("accept", "application/json, text/event-stream");
        for (path, header, want) in [
            ("/mcp?workspace_name=wb", None, 404),
            ("/mcp", Some(("x-workspace-name", "wb")), 404),
            ("/mcp", Some(("x-workspace-name", "wa")), 200),
            ("/mcp?workspace_name=wa", None, 200),
            // The names older clients send for the workspace.
            ("/mcp?customer_name=wb", None, 404),
            ("/mcp?customer_name=wa", None, 200),
            ("/mcp?external_user_id=wa", None, 200),
        ] {
            let mut h = vec![accept];
            h.extend(header);
            let (s, body) = srv
                .send_text("POST", path, Some(&ta), &h, Some(initialize_body()))
                .await;
            assert_eq!(s, want, "{path} {header:?}: {body}");
            if want == 404 {
                assert!(body.contains("userPresentableMessage"), "{body}");
            }
        }
        // A's tools follow A's connectors (the built server is kept only while they stay).
        let a2 = create_in(&srv, &app, "wa", "a2").await;
        let c = legacy(&mcp, &ta, &[]).await;
        let tools = c.list_all_tools().await.expect("tools/list");
        assert_eq!(
            tools.len(),
            2 * stripe_tool_count() + 1,
            "a second connector"
        );
        exercise(&c, &format!("stripe_{}_", short(&a2))).await;
        let (s, _) = srv
            .send(
                "DELETE",
                &format!("/api/v1/integrations/connectors/{a2}"),
                Some(&app),
                None,
            )
            .await;
        assert_eq!(s, 202);
        let tools = c.list_all_tools().await.expect("tools/list");
        assert_eq!(tools.len(), stripe_tool_count() + 1, "deleted again");
        assert!(tools.iter().all(|t| !t.name.starts_with("stripe_")));
        let _ = c.cancel().await;

        // Header and query naming different workspaces.
        let (s, body) = srv
            .send_text(
                "POST",
                "/mcp?workspace_name=wb",
                Some(&app),
                &[accept, ("x-workspace-name", "wa")],
                Some(initialize_body()),
            )
            .await;
        assert_eq!(s, 400, "{body}");
    }
}

fn stripe_tool_count() -> usize {
    airbyte_agent_runtime::tools::ConnectorTools::new(stripe())
        .tools()
        .len()
}

fn initialize_body() -> String {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"}
        }
    })
    .to_string()
}

/// Path, token, extra headers, expected status, what the case is.
type RefusedCase<'a> = (
    &'a str,
    Option<&'a str>,
    &'a [(&'a str, &'a str)],
    u16,
    &'a str,
);

/// No token, a wrong token, an application token without a workspace, another organization's
/// workspace, and a body that is not JSON-RPC: each answered with its status, never served.
#[tokio::test]
async fn refused_requests_get_their_status() {
    for db in databases().await {
        let (_provider, srv, app, _) = with_stripe(&db).await;
        let other = srv.second_organization().await;
        let other_token = srv.token(&other).await;
        workspace(&srv, &other_token, "globex-only").await;
        let org = ("x-organization-id", other.organization_id.as_str());
        let cases: [RefusedCase; 6] = [
            ("/mcp", None, &[], 401, "no token"),
            ("/mcp", Some("abat_not_a_token"), &[], 401, "unknown token"),
            ("/mcp", Some(""), &[], 401, "empty token"),
            ("/mcp", Some(&app), &[], 422, "no workspace named"),
            (
                "/mcp?workspace_name=globex-only",
                Some(&app),
                &[],
                404,
                "another organization's workspace",
            ),
            (
                "/mcp?workspace_name=default",
                Some(&app),
                &[org],
                403,
                "another organization's id",
            ),
        ];
        for (path, token, extra, want, what) in cases {
            let mut headers = vec![("accept", "application/json, text/event-stream")];
            headers.extend_from_slice(extra);
            let (s, body) = srv
                .send_text("POST", path, token, &headers, Some(initialize_body()))
                .await;
            assert_eq!(s, want, "{what}: {body}");
            assert!(body.contains("userPresentableMessage"), "{what}: {body}");
            if want == 422 {
                assert!(body.contains("X-Workspace-Name"), "{body}");
            }
        }
        // Not JSON: the JSON-RPC parse error. Over the server's body limit (1 MiB): 413 in the
        // protocol's shape, nothing parsed.
        let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(1024 * 1024 + 1));
        for (body, want, marker) in [
            ("{not json".to_string(), 400, "-32700"),
            (big, 413, "userPresentableMessage"),
        ] {
            let (s, text) = srv
                .send_text(
                    "POST",
                    "/mcp?workspace_name=default",
                    Some(&app),
                    &[("accept", "application/json, text/event-stream")],
                    Some(body),
                )
                .await;
            assert_eq!(s, want, "{text}");
            assert!(text.contains(marker), "{text}");
        }

        // The 401 carries the challenge MCP clients look for.
        install_tls_provider();
        let r = reqwest::Client::new()
            .post(format!("{}/mcp", srv.url))
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(initialize_body())
            .send()
            .await
            .expect("POST /mcp");
        assert_eq!(r.status().as_u16(), 401);
        assert_eq!(
            r.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );

        // rmcp's client surfaces the 401 (no session is made).
        let r = ClientConfig::default()
            .serve(transport(&format!("{}/mcp", srv.url), "abat_wrong", &[]))
            .await;
        assert!(r.is_err(), "a wrong token never initializes");
    }
}

/// `tools/call` over `/mcp` against the execute endpoint, p50 of 300 `customers_list` calls on
/// loopback (ignored by default: a measurement, not a check). `cargo test -p
/// airbyte-agent-server --release --test mcp -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "measurement"]
async fn tools_call_p50_over_mcp() {
    const N: usize = 300;
    let p50 = |mut v: Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    for db in databases().await {
        let (_provider, srv, app, id) = with_stripe(&db).await;
        let exec = format!("/api/v1/integrations/connectors/{id}/execute");
        let body = json!({"entity": "customers", "action": "list", "params": {"limit": 2}});
        let c = legacy(
            &format!("{}/mcp", srv.url),
            &scoped(&srv, &app, "default").await,
            &[],
        )
        .await;
        let call = || {
            CallToolRequestParams::new("customers_list").with_arguments(args(json!({"limit": 2})))
        };
        for _ in 0..20 {
            c.call_tool(call()).await.expect("warm mcp");
            srv.send("POST", &exec, Some(&app), Some(body.to_string()))
                .await;
        }
        let (mut m, mut e) = (Vec::with_capacity(N), Vec::with_capacity(N));
        for _ in 0..N {
            let t = std::time::Instant::now();
            let r = c.call_tool(call()).await.expect("mcp");
            m.push(t.elapsed());
            assert_ne!(r.is_error, Some(true));
            let t = std::time::Instant::now();
            let (s, _) = srv
                .send("POST", &exec, Some(&app), Some(body.to_string()))
                .await;
            e.push(t.elapsed());
            assert_eq!(s, 200);
        }
        eprintln!(
            "{}: tools/call over /mcp p50 {:?}, execute p50 {:?} (n={N}, raw HTTP/1.1 per execute, one rmcp client connection pool for MCP)",
            if db.sqlite_file.is_some() {
                "sqlite"
            } else {
                "postgres"
            },
            p50(m),
            p50(e)
        );
        let _ = c.cancel().await;
    }
}
