//! MCP server numbers, printed as one JSON line each (no assertions):
//!
//! * `spawn_to_tools_list_ms`: process spawn → `initialize` → first `tools/list` answer (raw
//!   stdio lines), median of several runs, for one connector and for every compiled-in one;
//! * `tools_list_bytes`: the size of that `tools/list` answer;
//! * `tools_call_ms`: p50/p90 of sequential `tools/call customers_list` round trips through
//!   rmcp's client against a loopback Stripe mock, over stdio and over Streamable HTTP;
//! * `peak_rss_kib`: the server's peak RSS (`/usr/bin/time -v`) serving every compiled-in
//!   connector through a `tools/list` and calls.
//!
//! ```sh
//! cargo bench -p airbyte-agent-cli --bench mcp --features all-connectors
//! ```

use std::process::Stdio;
use std::time::{Duration, Instant};

use airbyte_agent_runtime::serde_json::{self, Map, Value, json};
use rmcp::model::{CallToolRequestParams, ClientConfig, ProtocolVersion};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt, service::RunningService};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_airbyte-agent");
const TOKEN: &str = "bench-bearer-token-0123456789";
const SPAWN_RUNS: usize = 9;
const CALLS: usize = 300;

fn command(args: &[&str], stripe: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(std::env::temp_dir())
        .env("STRIPE_API_KEY", "sk_test_bench")
        .env("STRIPE_BASE_URL", stripe)
        .env("AIRBYTE_AGENT_MCP_TOKEN", TOKEN)
        .env_remove("AIRBYTE_CLIENT_ID")
        .env_remove("AIRBYTE_CLIENT_SECRET")
        .kill_on_drop(true);
    cmd
}

fn mcp_args(connectors: &str) -> Vec<&str> {
    vec!["mcp", "--connector", connectors]
}

/// Spawn → first `tools/list` answer over raw stdio lines; returns (elapsed, answer bytes).
async fn spawn_to_list(connectors: &str, stripe: &str) -> (Duration, usize) {
    let start = Instant::now();
    let mut child = command(&mcp_args(connectors), stripe)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let msgs = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    ];
    let mut text = String::new();
    for m in msgs {
        text.push_str(&m.to_string());
        text.push('\n');
    }
    stdin.write_all(text.as_bytes()).await.expect("write");
    stdin.flush().await.expect("flush");
    loop {
        let line = lines.next_line().await.expect("read").expect("answer");
        let v: Value = serde_json::from_str(&line).expect("JSON");
        if v["id"] == 2 {
            let elapsed = start.elapsed();
            drop(stdin);
            let _ = child.wait().await;
            return (elapsed, line.len());
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn call_latencies(client: &RunningService<RoleClient, ClientConfig>) -> Vec<Duration> {
    let mut args = Map::new();
    args.insert("limit".into(), json!(2));
    // Warm-up: connection pools, first-call allocations.
    for _ in 0..10 {
        let _ = client
            .call_tool(CallToolRequestParams::new("customers_list").with_arguments(args.clone()))
            .await;
    }
    let mut out = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let t = Instant::now();
        let r = client
            .call_tool(CallToolRequestParams::new("customers_list").with_arguments(args.clone()))
            .await
            .expect("tools/call");
        out.push(t.elapsed());
        assert_ne!(r.is_error, Some(true), "{r:?}");
    }
    out.sort();
    out
}

fn report(name: &str, v: Value) {
    let mut m = Map::new();
    m.insert("measure".into(), json!(name));
    if let Value::Object(o) = v {
        m.extend(o);
    }
    println!("{}", Value::Object(m));
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let stripe = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "has_more": false,
            "data": [{"id": "cus_A", "email": "a@example.com"}, {"id": "cus_B", "email": "b@example.com"}]
        })))
        .mount(&stripe)
        .await;
    let uri = stripe.uri();

    let out = Command::new(BIN)
        .arg("connectors")
        .output()
        .await
        .expect("connectors");
    let all: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split('\t').next().map(str::to_string))
        .collect();
    let all_list = all.join(",");

    for (label, connectors) in [("1", "stripe".to_string()), ("all", all_list.clone())] {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..SPAWN_RUNS {
            let (t, b) = spawn_to_list(&connectors, &uri).await;
            times.push(t);
            bytes = b;
        }
        times.sort();
        report(
            "spawn_to_tools_list_ms",
            json!({"connectors": label, "count": connectors.split(',').count(),
                   "p50": ms(percentile(&times, 0.5)), "min": ms(times[0]), "runs": SPAWN_RUNS}),
        );
        report(
            "tools_list_bytes",
            json!({"connectors": label, "count": connectors.split(',').count(), "bytes": bytes}),
        );
    }

    // tools/call over stdio (rmcp client, 2025-11-25 handshake).
    let (transport, _) = TokioChildProcess::builder(command(&mcp_args("stripe"), &uri))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let client = ClientConfig::default()
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
        .serve(transport)
        .await
        .expect("initialize");
    let lat = call_latencies(&client).await;
    report(
        "tools_call_ms",
        json!({"transport": "stdio", "calls": CALLS, "p50": ms(percentile(&lat, 0.5)),
               "p90": ms(percentile(&lat, 0.9))}),
    );
    let _ = client.cancel().await;

    // tools/call over Streamable HTTP (rmcp client with the bearer token).
    let mut args = mcp_args("stripe");
    args.extend(["--http", "127.0.0.1:0"]);
    let mut server = command(&args, &uri)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn --http");
    let mut err = BufReader::new(server.stderr.take().expect("stderr")).lines();
    let url = loop {
        let line = err
            .next_line()
            .await
            .expect("read")
            .expect("listening line");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().expect("url").to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = err.next_line().await {} });
    for (revision, version) in [
        ("2025-11-25", ProtocolVersion::V_2025_11_25),
        ("2026-07-28", ProtocolVersion::V_2026_07_28),
    ] {
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url.clone()).auth_header(TOKEN),
        );
        let client = if version == ProtocolVersion::V_2026_07_28 {
            use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
            ClientConfig::default()
                .serve_with_lifecycle(
                    transport,
                    ClientLifecycleMode::Discover {
                        preferred_versions: vec![version],
                    },
                )
                .await
                .expect("discover")
        } else {
            ClientConfig::default()
                .with_protocol_version(version)
                .serve(transport)
                .await
                .expect("initialize")
        };
        let lat = call_latencies(&client).await;
        report(
            "tools_call_ms",
            json!({"transport": "http", "revision": revision, "calls": CALLS,
                   "p50": ms(percentile(&lat, 0.5)), "p90": ms(percentile(&lat, 0.9))}),
        );
        let _ = client.cancel().await;
    }
    let _ = server.kill().await;

    // Peak RSS serving every connector: tools/list plus calls, under /usr/bin/time -v.
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-v")
        .arg(BIN)
        .args(mcp_args(&all_list))
        .current_dir(std::env::temp_dir())
        .env("STRIPE_API_KEY", "sk_test_bench")
        .env("STRIPE_BASE_URL", &uri)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match timed.spawn() {
        Ok(c) => c,
        Err(e) => {
            report(
                "peak_rss_kib",
                json!({"error": format!("/usr/bin/time: {e}")}),
            );
            return;
        }
    };
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let call_name = if all.len() > 1 {
        "stripe_customers_list"
    } else {
        "customers_list"
    };
    let mut text = String::new();
    let mut msgs = vec![
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    ];
    for i in 0..50 {
        msgs.push(
            json!({"jsonrpc": "2.0", "id": 10 + i, "method": "tools/call",
                         "params": {"name": call_name, "arguments": {"limit": 2}}}),
        );
    }
    for m in msgs {
        text.push_str(&m.to_string());
        text.push('\n');
    }
    stdin.write_all(text.as_bytes()).await.expect("write");
    stdin.flush().await.expect("flush");
    let mut answered = 0;
    while answered < 51 {
        match lines.next_line().await {
            Ok(Some(line)) if line.contains("\"id\":") => answered += 1,
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    drop(stdin);
    let out = child.wait_with_output().await.expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let rss = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes):"))
        .and_then(|v| v.trim().parse::<u64>().ok());
    report(
        "peak_rss_kib",
        json!({"connectors": all.len(), "answers": answered, "max_rss_kib": rss}),
    );
}
