//! The options the clap-based command line added: `--base-url`, `--output json|jsonl|table`,
//! configuration errors for unusable base URLs, refused connections that name the URL, and
//! shell completions.
#![cfg(feature = "stripe")]

mod common;

use airbyte_agent_runtime::serde_json::{self, Value, json};
use common::run_cli as run;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn stripe_double() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(header("authorization", "Bearer sk_test_flags"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "has_more": true,
            "data": [
                {"id": "cus_1", "email": "one@example.com", "name": "One"},
                {"id": "cus_22", "email": "two@example.com"}
            ]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": "cus_1", "email": "one@example.com"})),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn base_url_flag_wins_over_the_variable() {
    let server = stripe_double().await;
    let uri = server.uri();
    let key = [("STRIPE_API_KEY", "sk_test_flags")];
    let out = run(&["stripe", "customers", "list", "--base-url", &uri], &key).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("cus_22"), "{}", out.stdout);

    // The flag beats a variable pointing at a dead port.
    let env = [
        ("STRIPE_API_KEY", "sk_test_flags"),
        ("STRIPE_BASE_URL", "http://127.0.0.1:9"),
    ];
    let out = run(&["stripe", "customers", "list", "--base-url", &uri], &env).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let out = run(&["stripe", "check", "--compact", "--base-url", &uri], &key).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("\"status\":\"ok\""), "{}", out.stdout);
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(3));
}

#[tokio::test]
async fn output_formats() {
    let server = stripe_double().await;
    let uri = server.uri();
    let env = [
        ("STRIPE_API_KEY", "sk_test_flags"),
        ("STRIPE_BASE_URL", &uri),
    ];

    // jsonl: one record per line, no envelope.
    let out = run(&["stripe", "customers", "list", "--output", "jsonl"], &env).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let lines: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert_eq!(lines[1]["id"], "cus_22");

    // table: a header of the records' keys, one aligned row per record.
    let out = run(&["--output", "table", "stripe", "customers", "list"], &env).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let rows: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(rows.len(), 3, "{}", out.stdout);
    assert!(rows[0].starts_with("ID "), "{}", out.stdout);
    assert!(
        rows[0].contains("EMAIL") && rows[0].contains("NAME"),
        "{}",
        out.stdout
    );
    assert!(rows[1].starts_with("cus_1 "), "{}", out.stdout);
    let email_col = rows[0].find("EMAIL").expect("EMAIL column");
    assert_eq!(
        rows[2].find("two@example.com"),
        Some(email_col),
        "{}",
        out.stdout
    );

    // A single record as a table and as jsonl.
    let out = run(
        &[
            "stripe",
            "customers",
            "get",
            "-p",
            "id=cus_1",
            "--output=table",
        ],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    let out = run(
        &[
            "stripe",
            "customers",
            "get",
            "-p",
            "id=cus_1",
            "--output",
            "jsonl",
        ],
        &env,
    )
    .await;
    let v: Value = serde_json::from_str(out.stdout.trim()).expect("one JSON line");
    assert_eq!(v["email"], "one@example.com");

    // json stays the default; an unknown format is a usage error.
    let out = run(&["stripe", "customers", "list", "--output", "json"], &env).await;
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["meta"]["has_more"], true);
    let out = run(&["stripe", "customers", "list", "--output", "xml"], &env).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("jsonl"), "{}", out.stderr);
}

#[tokio::test]
async fn unusable_base_urls_are_configuration_errors_naming_the_setting() {
    let key = ("STRIPE_API_KEY", "sk_test_flags");
    let out = run(
        &["stripe", "customers", "list"],
        &[key, ("STRIPE_BASE_URL", "localhost:99")],
    )
    .await;
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(out.stderr.contains("STRIPE_BASE_URL"), "{}", out.stderr);
    assert!(out.stderr.contains("localhost:99"), "{}", out.stderr);

    let out = run(
        &["stripe", "customers", "list", "--base-url", "not a url"],
        &[key],
    )
    .await;
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(out.stderr.contains("--base-url"), "{}", out.stderr);
    let out = run(
        &["stripe", "check", "--base-url", "ftp://example.com"],
        &[key],
    )
    .await;
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(out.stderr.contains("http or https"), "{}", out.stderr);

    // A password in the URL is not echoed.
    let out = run(
        &[
            "stripe",
            "customers",
            "list",
            "--base-url",
            "gopher://u:hunter2@example.com",
        ],
        &[key],
    )
    .await;
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(!out.stderr.contains("hunter2"), "{}", out.stderr);
    assert!(!out.stderr.contains("sk_test_flags"), "{}", out.stderr);
}

#[tokio::test]
async fn a_refused_connection_names_the_url() {
    let key = ("STRIPE_API_KEY", "sk_test_flags");
    let out = run(
        &["stripe", "customers", "list"],
        &[key, ("STRIPE_BASE_URL", "http://127.0.0.1:9")],
    )
    .await;
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(out.stderr.contains("http://127.0.0.1:9"), "{}", out.stderr);
    assert!(out.stderr.contains("STRIPE_BASE_URL"), "{}", out.stderr);
    let out = run(
        &[
            "stripe",
            "customers",
            "list",
            "--base-url",
            "http://127.0.0.1:9/v1",
        ],
        &[key],
    )
    .await;
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(
        out.stderr.contains("http://127.0.0.1:9/v1"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--base-url"), "{}", out.stderr);
}

#[tokio::test]
async fn completions_cover_commands_connectors_entities_and_flags() {
    let out = run(&["completions", "bash"], &[]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let script = &out.stdout;
    assert!(
        script.contains("complete -F"),
        "not a bash completion script"
    );
    for word in [
        "mcp",
        "setup",
        "stripe",
        "customers",
        "--base-url",
        "--output",
        "jsonl",
    ] {
        assert!(
            script.contains(word),
            "`{word}` missing from the completion script"
        );
    }
    let out = run(&["completions", "zsh"], &[]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("#compdef airbyte-agent"),
        "{}",
        &out.stdout[..200.min(out.stdout.len())]
    );
    let out = run(&["completions", "tcsh"], &[]).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
}
