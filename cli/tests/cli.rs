//! The command line against a local Stripe double: output formats, parameters, help and exit
//! codes.
#![cfg(feature = "stripe")]

mod common;

use std::process::Stdio;

use airbyte_agent_runtime::serde_json::{self, Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_airbyte-agent"));
    cmd.args(args)
        .current_dir(std::env::temp_dir())
        .env_remove("STRIPE_API_KEY")
        .env_remove("STRIPE_BASE_URL")
        .env_remove("AIRBYTE_CLIENT_ID")
        .env_remove("AIRBYTE_CLIENT_SECRET")
        .stdin(Stdio::null());
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

async fn stripe_double() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(header("authorization", "Bearer sk_test_cli"))
        .and(query_param("limit", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "has_more": false,
            "data": [{"id": "cus_1", "email": "one@example.com"}, {"id": "cus_2", "email": "two@example.com"}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param("created[gte]", "1700000000"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "has_more": false, "data": [{"id": "cus_new"}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_404"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"message": "No such customer: 'cus_404'"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_401"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "Invalid API Key provided"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "cus_created"})))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn calls_print_json_compact_in_pipes_or_pretty_on_request() {
    let server = stripe_double().await;
    let uri = server.uri();
    let env = [("STRIPE_API_KEY", "sk_test_cli"), ("STRIPE_BASE_URL", &uri)];

    let out = run(&["stripe", "customers", "list", "--param", "limit=2"], &env).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout.trim_end().lines().count(),
        1,
        "compact in a pipe"
    );
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(v["data"][1]["id"], "cus_2");
    assert_eq!(v["meta"]["has_more"], false);

    let out = run(
        &[
            "stripe",
            "customers",
            "list",
            "--json",
            r#"{"limit": 2}"#,
            "--pretty",
        ],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.lines().count() > 5, "pretty output");
    let pretty: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(pretty, v);

    // Nested params: `created.gte=` builds {"created": {"gte": ...}} (sent as created[gte]).
    let out = run(
        &[
            "stripe",
            "customers",
            "list",
            "-p",
            "created.gte=1700000000",
        ],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("cus_new"), "{}", out.stdout);

    // Body params of a create.
    let out = run(
        &[
            "stripe",
            "customers",
            "create",
            "-p",
            "email=new@example.com",
            "-p",
            "metadata.plan=pro",
        ],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("cus_created"));
    let reqs = server.received_requests().await.expect("recorded");
    let create = reqs
        .iter()
        .find(|r| r.method.as_str() == "POST")
        .expect("create request");
    let body = String::from_utf8_lossy(&create.body);
    assert!(body.contains("email=new%40example.com"), "{body}");
    assert!(body.contains("metadata%5Bplan%5D=pro"), "{body}");
}

#[tokio::test]
async fn select_and_exclude_keep_the_output_small() {
    let server = stripe_double().await;
    let uri = server.uri();
    let env = [("STRIPE_API_KEY", "sk_test_cli"), ("STRIPE_BASE_URL", &uri)];
    let out = run(
        &[
            "stripe",
            "customers",
            "list",
            "-p",
            "limit=2",
            "--select",
            "id, email",
            "--exclude=email",
        ],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).expect("JSON");
    let records = v["data"].as_array().expect("records");
    assert!(!records.is_empty());
    for r in records {
        assert_eq!(r.as_object().map(|m| m.len()), Some(1), "{r}");
        assert!(r["id"].is_string(), "{r}");
    }
    assert_eq!(v["meta"]["has_more"], false, "meta is kept");
}

#[tokio::test]
async fn exit_codes_distinguish_usage_auth_and_api_errors() {
    let server = stripe_double().await;
    let uri = server.uri();
    let env = [("STRIPE_API_KEY", "sk_test_cli"), ("STRIPE_BASE_URL", &uri)];

    // Usage: 2.
    let out = run(&["nosuch", "customers", "list"], &env).await;
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("stripe"), "{}", out.stderr);
    let out = run(&["stripe", "custmers", "list"], &env).await;
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("customers"), "{}", out.stderr);
    let out = run(&["stripe", "customers", "fly"], &env).await;
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("list"), "{}", out.stderr);
    let out = run(&["stripe", "customers", "list", "-p", "limt=2"], &env).await;
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("starting_after"), "{}", out.stderr);
    let out = run(&["stripe", "customers", "list", "-p", "limit=lots"], &env).await;
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("limit"), "{}", out.stderr);
    let out = run(&["stripe", "customers", "get"], &env).await;
    assert_eq!(out.code, Some(2));
    assert!(out.stderr.contains("`id`"), "{}", out.stderr);
    let out = run(&["stripe", "customers", "list", "--param", "limit"], &env).await;
    assert_eq!(out.code, Some(2));
    let out = run(&["stripe", "customers", "list", "--json", "[1]"], &env).await;
    assert_eq!(out.code, Some(2));
    let out = run(&["stripe", "customers", "list", "--frobnicate"], &env).await;
    assert_eq!(out.code, Some(2));

    // Auth: 3 (missing credentials, rejected credentials).
    let out = run(
        &["stripe", "customers", "list"],
        &[("STRIPE_BASE_URL", &uri)],
    )
    .await;
    assert_eq!(out.code, Some(3));
    assert!(out.stderr.contains("STRIPE_API_KEY"), "{}", out.stderr);
    let out = run(&["stripe", "customers", "get", "-p", "id=cus_401"], &env).await;
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    assert!(out.stderr.contains("Invalid API Key"), "{}", out.stderr);
    assert!(!out.stderr.contains("sk_test_cli"));

    // API: 4.
    let out = run(&["stripe", "customers", "get", "-p", "id=cus_404"], &env).await;
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(out.stderr.contains("No such customer"), "{}", out.stderr);
    let out = run(
        &["stripe", "customers", "list", "-p", "limit=2"],
        &[
            ("STRIPE_API_KEY", "sk_test_cli"),
            ("STRIPE_BASE_URL", "http://127.0.0.1:9"),
        ],
    )
    .await;
    assert_eq!(out.code, Some(4), "{}", out.stderr);

    // Nothing invalid reached the double.
    let reqs = server.received_requests().await.expect("recorded");
    assert_eq!(reqs.len(), 2, "only the 401 and 404 calls were sent");
}

#[tokio::test]
async fn help_lists_entities_actions_and_parameters() {
    let out = run(&["--help"], &[]).await;
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("airbyte-agent mcp"));

    let out = run(&["stripe", "--help"], &[]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("customers:"), "{}", out.stdout);
    assert!(out.stdout.contains("get(id: string)"), "{}", out.stdout);
    assert!(out.stdout.contains("STRIPE_API_KEY"));
    assert!(out.stdout.contains("STRIPE_BASE_URL"));

    let out = run(&["stripe", "customers", "--help"], &[]).await;
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("delete(id: string)"), "{}", out.stdout);

    let out = run(&["stripe", "customers", "list", "--help"], &[]).await;
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.contains("starting_after"), "{}", out.stdout);

    // A connector alone lists its entities briefly: one line each, no action signatures.
    let out = run(&["stripe"], &[]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("customers "))
        .unwrap_or_else(|| panic!("no customers line: {}", out.stdout));
    // The entity's own description (our stripe spec), not one of its actions' summaries.
    assert!(line.contains("Paying customers"), "{line}");
    assert!(!line.contains("List customers"), "{line}");
    assert!(!out.stdout.contains("get(id: string)"), "{}", out.stdout);
    assert!(!out.stdout.contains("STRIPE_API_KEY"), "{}", out.stdout);

    // Entity headings describe the entity, not its first action (the spec gives `invoices` the
    // summary "Create an invoice").
    let out = run(&["stripe", "--help"], &[]).await;
    let heading = out
        .stdout
        .lines()
        .find(|l| l.starts_with("invoices:"))
        .unwrap_or_else(|| panic!("no invoices heading: {}", out.stdout));
    assert!(!heading.contains("Create an invoice"), "{heading}");
    assert!(
        heading.trim_start_matches("invoices:").trim().len() > 3,
        "{heading}"
    );

    let out = run(&["connectors"], &[]).await;
    assert_eq!(out.code, Some(0));
    assert!(out.stdout.lines().any(|l| l.starts_with("stripe\t")));

    let out = run(&["tools", "stripe", "--tools", "combined"], &[]).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let tools: Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(tools.as_array().map(Vec::len), Some(1));
    assert_eq!(tools[0]["name"], "stripe_execute");
}

#[tokio::test]
async fn env_file_supplies_credentials() {
    let server = stripe_double().await;
    let dir = std::env::temp_dir().join(format!("airbyte-agent-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("test.env");
    std::fs::write(
        &file,
        format!(
            "# test settings\nexport STRIPE_API_KEY=\"sk_test_cli\"\nSTRIPE_BASE_URL={}\n",
            server.uri()
        ),
    )
    .expect("write env file");
    let file_arg = file.to_string_lossy().into_owned();
    let out = run(
        &[
            "--env-file",
            &file_arg,
            "stripe",
            "customers",
            "list",
            "-p",
            "limit=2",
        ],
        &[],
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("cus_1"));

    let out = run(
        &[
            "--env-file",
            "/nonexistent/airbyte.env",
            "stripe",
            "customers",
            "list",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, Some(2));
}

#[tokio::test]
async fn hosted_mode_runs_through_the_airbyte_api() {
    let result = json!({"data": [{"id": "cus_hosted"}], "meta": {"has_more": false}});
    let api = common::airbyte_api("conn_1", result, 1).await;
    let uri = api.uri();
    let out = run(
        &["stripe", "customers", "list", "-p", "limit=1"],
        &[
            ("AIRBYTE_CLIENT_ID", "client"),
            ("AIRBYTE_CLIENT_SECRET", "client_secret_value"),
            ("SDK_DEV_ADP_API_HOST", &uri),
            ("STRIPE_CONNECTOR_ID", "conn_1"),
        ],
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stdout.contains("cus_hosted"), "{}", out.stdout);
    let exec = common::execute_bodies(&api).await;
    let body = exec.first().expect("execute call");
    assert_eq!(body["entity"], "customers");
    assert_eq!(body["action"], "list");
    assert_eq!(body["params"]["limit"], 1);
}

#[tokio::test]
async fn cassettes_are_recorded_then_replayed_offline() {
    let server = stripe_double().await;
    let uri = server.uri();
    let dir = std::env::temp_dir().join(format!("aa-cli-cassette-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("customers_list.yaml");
    let file_arg = file.to_string_lossy().into_owned();
    let env = [("STRIPE_API_KEY", "sk_test_cli"), ("STRIPE_BASE_URL", &uri)];

    let args = [
        "cassette",
        "record",
        "stripe",
        "customers",
        "list",
        "-p",
        "limit=2",
    ];
    let out = run(&args, &env).await;
    assert_eq!(out.code, Some(2), "--out is required: {}", out.stderr);
    let mut with_out = args.to_vec();
    with_out.extend(["--out", &file_arg]);
    let out = run(&with_out, &env).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("HTTP 200"), "{}", out.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("${STRIPE_API_KEY}"), "{text}");
    assert!(!text.contains("sk_test_cli"), "{text}");
    assert!(text.contains("cus_2"), "{text}");

    // Offline: the API double is gone; only the key's variable is needed.
    drop(server);
    let replay_env = [("STRIPE_API_KEY", "sk_test_other")];
    let out = run(&["cassette", "replay", "stripe", &file_arg], &replay_env).await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.starts_with("ok"), "{}", out.stdout);

    // A cassette whose call no longer matches what was captured fails, naming the difference.
    let changed = dir.join("changed.yaml");
    let edited = text.replacen("limit: 2", "limit: 3", 1);
    assert_ne!(edited, text, "{text}");
    std::fs::write(&changed, edited).unwrap();
    let changed_arg = changed.to_string_lossy().into_owned();
    let out = run(
        &["cassette", "replay", "stripe", &file_arg, &changed_arg],
        &replay_env,
    )
    .await;
    assert_eq!(out.code, Some(1), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("FAIL"), "{}", out.stdout);
    assert!(out.stdout.contains("limit"), "{}", out.stdout);
    assert!(out.stderr.contains("1 of 2"), "{}", out.stderr);

    // The variable the cassette names must be set.
    let out = run(&["cassette", "replay", "stripe", &file_arg], &[]).await;
    assert_ne!(out.code, Some(0));
    assert!(out.stderr.contains("STRIPE_API_KEY"), "{}", out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A reader that stops early (`| head`) ends the output quietly: no panic, success.
#[tokio::test]
async fn a_closed_pipe_ends_the_output_quietly() {
    for args in [
        &["completions", "bash"][..],
        &["connectors"][..],
        &["stripe"][..],
    ] {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_airbyte-agent"))
            .args(args)
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn airbyte-agent");
        // Close the reading end before the program writes.
        drop(child.stdout.take());
        let out = child.wait_with_output().await.expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
