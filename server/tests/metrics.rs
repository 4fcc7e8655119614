//! `/metrics`: scraped over HTTP after known traffic, every counter is asserted at the value
//! the traffic makes (each test server has its own counters). SQLite always; PostgreSQL when
//! `AIRBYTE_SERVER_TEST_PG` is set.

mod common;

use common::*;
use serde_json::json;

/// The value of the sample `series` (name and labels exactly as rendered), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(srv: &TestServer) -> String {
    let (s, text) = srv.send_text("GET", "/metrics", None, &[], None).await;
    assert_eq!(s, 200, "{text}");
    text
}

const EXECUTE: &str = "/api/v1/integrations/connectors/{id}/execute";

#[tokio::test]
async fn counters_follow_the_traffic() {
    for db in databases().await {
        let (_provider, srv, app, id) = with_stripe(&db).await;
        let exec = format!("/api/v1/integrations/connectors/{id}/execute");
        let list = json!({"entity": "customers", "action": "list"}).to_string();
        for _ in 0..3 {
            let (s, b) = srv
                .send("POST", &exec, Some(&app), Some(list.clone()))
                .await;
            assert_eq!(s, 200, "{b}");
        }
        let missing =
            json!({"entity": "customers", "action": "get", "params": {"id": "cus_missing"}});
        let (s, _) = srv
            .send("POST", &exec, Some(&app), Some(missing.to_string()))
            .await;
        assert_eq!(s, 404);
        let boom = json!({"entity": "customers", "action": "get", "params": {"id": "cus_boom"}});
        let (s, _) = srv
            .send("POST", &exec, Some(&app), Some(boom.to_string()))
            .await;
        assert_eq!(s, 502);
        let (s, _) = srv.send("POST", &exec, None, Some(list.clone())).await;
        assert_eq!(s, 401);
        let (s, _) = srv.send("GET", "/no/such/route", None, None).await;
        assert_eq!(s, 404);
        // One MCP tools/call, raw (stateless: no handshake needed for a call).
        let call = json!({
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "customers_list", "arguments": {"limit": 2}}
        });
        let (s, body) = srv
            .send_text(
                "POST",
                "/mcp?workspace_name=default",
                Some(&app),
                &[
                    ("accept", "application/json, text/event-stream"),
                    ("mcp-protocol-version", "2025-11-25"),
                ],
                Some(call.to_string()),
            )
            .await;
        assert_eq!(s, 200, "{body}");
        assert!(body.contains("structuredContent"), "{body}");

        let text = scrape(&srv).await;
        let req = |method: &str, route: &str, class: &str| {
            sample(
                &text,
                &format!(
                    "airbyte_server_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{class}\"}}"
                ),
            )
        };
        assert_eq!(req("POST", EXECUTE, "2xx"), Some(3.0), "{text}");
        assert_eq!(req("POST", EXECUTE, "4xx"), Some(2.0), "404 and 401");
        assert_eq!(req("POST", EXECUTE, "5xx"), Some(1.0), "502");
        assert_eq!(req("GET", "unmatched", "4xx"), Some(1.0));
        assert_eq!(req("POST", "/mcp", "2xx"), Some(1.0));
        assert_eq!(
            req("POST", "/api/v1/integrations/connectors", "2xx"),
            Some(1.0)
        );
        let count = sample(
            &text,
            &format!("airbyte_server_http_request_duration_seconds_count{{route=\"{EXECUTE}\"}}"),
        );
        assert_eq!(count, Some(6.0));
        let inf = sample(
            &text,
            &format!(
                "airbyte_server_http_request_duration_seconds_bucket{{route=\"{EXECUTE}\",le=\"+Inf\"}}"
            ),
        );
        assert_eq!(inf, Some(6.0));
        let sum = sample(
            &text,
            &format!("airbyte_server_http_request_duration_seconds_sum{{route=\"{EXECUTE}\"}}"),
        )
        .expect("sum");
        assert!(sum > 0.0);
        let exe = |via: &str, outcome: &str| {
            sample(
                &text,
                &format!("airbyte_server_executes_total{{via=\"{via}\",outcome=\"{outcome}\"}}"),
            )
        };
        assert_eq!(exe("api", "ok"), Some(3.0));
        assert_eq!(
            exe("api", "rejected"),
            Some(1.0),
            "the 404 (401 never reaches execute)"
        );
        assert_eq!(exe("api", "failed"), Some(1.0));
        assert_eq!(exe("mcp", "ok"), Some(1.0));
        assert_eq!(exe("mcp", "failed"), Some(0.0));
        assert_eq!(sample(&text, "airbyte_server_database_up"), Some(1.0));
        assert_eq!(
            sample(
                &text,
                "airbyte_server_token_refreshes_total{outcome=\"refreshed\"}"
            ),
            Some(0.0),
            "an API-key connector never refreshes"
        );
        // No id, name or secret in any label.
        assert!(!text.contains(&id) && !text.contains(STRIPE_KEY) && !text.contains("default"));

        // The scrape itself is counted by the next one.
        let again = scrape(&srv).await;
        assert_eq!(
            sample(
                &again,
                "airbyte_server_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"2xx\"}"
            ),
            Some(1.0)
        );
    }
}
