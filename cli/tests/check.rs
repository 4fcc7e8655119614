//! `airbyte-agent <connector> check` in direct mode: JSON report and exit codes against a
//! Stripe-shaped provider on loopback (ok, rejected key, unreachable, per entity).
#![cfg(feature = "stripe")]

use std::process::Stdio;

use airbyte_agent_runtime::serde_json::{self, Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn check(args: &[&str], key: &str, base: &str) -> (Option<i32>, Value, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_airbyte-agent"));
    cmd.args(["stripe", "check", "--compact"])
        .args(args)
        .current_dir(std::env::temp_dir())
        .env_remove("AIRBYTE_CLIENT_ID")
        .env_remove("AIRBYTE_CLIENT_SECRET")
        .env("STRIPE_API_KEY", key)
        .env("STRIPE_BASE_URL", base)
        .stdin(Stdio::null());
    let out = cmd.output().await.expect("run airbyte-agent");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let report = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (
        out.status.code(),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn check_reports_and_exit_codes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(header("authorization", "Bearer sk_test_ok"))
        .and(query_param("limit", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "has_more": true, "data": [{"id": "cus_1"}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "Invalid API Key provided"}
        })))
        .mount(&server)
        .await;

    let (code, r, _) = check(&[], "sk_test_ok", &server.uri()).await;
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["status"], "ok");
    assert_eq!(r["mode"], "direct");
    assert_eq!(r["entity"], "customers");
    assert_eq!(r["action"], "list");
    assert_eq!(r["records"], 1);
    assert!(r["elapsed_ms"].is_u64());

    let (code, r, err) = check(&["--entity", "customers"], "sk_test_ok", &server.uri()).await;
    assert_eq!(code, Some(0), "{r} {err}");

    let (code, r, err) = check(&[], "sk_test_revoked", &server.uri()).await;
    assert_eq!(code, Some(3), "{r} {err}");
    assert_eq!(r["status"], "auth_failed");
    assert_eq!(r["http_status"], 401);
    assert!(!err.contains("sk_test_revoked"));

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (code, r, _) = check(&[], "sk_test_ok", &format!("http://127.0.0.1:{port}")).await;
    assert_eq!(code, Some(4), "{r}");
    assert_eq!(r["status"], "unreachable");

    let (code, _, err) = check(&["--entity", "nope"], "sk_test_ok", &server.uri()).await;
    assert_eq!(code, Some(2), "{err}");
}
