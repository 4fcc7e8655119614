//! `airbyte-agent serve` as an operator and a user run it: `serve init` in an empty directory,
//! `serve --listen` on an ephemeral loopback port, a connector created through the platform API,
//! then `airbyte-agent stripe customers list` in hosted mode against that server, which calls the
//! provider double with the credentials it stored.
#![cfg(all(feature = "serve", feature = "stripe"))]

mod common;

use std::process::Stdio;

use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, CreateOptions, Platform};
use airbyte_agent_runtime::serde_json::json;
use common::agent_command;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const STRIPE_KEY: &str = "sk_test_serve_0123456789";

fn field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

#[tokio::test]
async fn serve_init_then_hosted_calls_through_the_cli() {
    let dir = std::env::temp_dir().join(format!("airbyte-agent-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let in_dir = |args: &[&str]| {
        let mut cmd = agent_command(args, &[]);
        cmd.current_dir(&dir)
            .env_remove("AIRBYTE_SERVER_MASTER_KEY")
            .env_remove("AIRBYTE_SERVER_DATABASE_URL");
        cmd
    };

    let init = in_dir(&["serve", "init", "--organization", "acme"])
        .output()
        .await
        .expect("serve init runs");
    let out = String::from_utf8_lossy(&init.stdout).into_owned();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let client_id = field(&out, "client_id").to_string();
    let secret = field(&out, "client_secret").to_string();
    assert!(dir.join("airbyte-agent-server.db").exists(), "SQLite file");

    let stripe = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param("limit", "1"))
        .and(header("authorization", format!("Bearer {STRIPE_KEY}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "has_more": false, "data": [{"id": "cus_self_hosted"}]
        })))
        .expect(1)
        .mount(&stripe)
        .await;

    let provider = format!("stripe={}", stripe.uri());
    let mut server = in_dir(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--provider-base-url",
        &provider,
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit())
    .spawn()
    .expect("serve starts");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let first = lines.next_line().await.expect("read").unwrap_or_default();
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();

    let stripe_descriptor = airbyte_agent_registry::find("stripe").expect("stripe is compiled in");
    let auth = AirbyteAuthConfig::new(client_id.clone(), secret.clone()).base_url(url.clone());
    let created = Platform::new(auth)
        .expect("platform")
        .workspace("default")
        .create_connector_json(
            stripe_descriptor,
            json!({"api_key": STRIPE_KEY})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            CreateOptions::new(),
        )
        .await
        .expect("connector created on the self-hosted server");

    let call = agent_command(
        &["stripe", "customers", "list", "-p", "limit=1"],
        &[
            ("AIRBYTE_CLIENT_ID", client_id),
            ("AIRBYTE_CLIENT_SECRET", secret.clone()),
            ("SDK_DEV_ADP_API_HOST", url),
            ("STRIPE_CONNECTOR_ID", created.id.clone()),
        ],
    )
    .output()
    .await
    .expect("the CLI runs");
    let stdout = String::from_utf8_lossy(&call.stdout);
    let stderr = String::from_utf8_lossy(&call.stderr);
    assert_eq!(call.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("cus_self_hosted"), "{stdout}");
    assert!(!stdout.contains(STRIPE_KEY) && !stderr.contains(STRIPE_KEY));

    // The operator's listing names the connector, never its secret.
    let list = in_dir(&["serve", "connectors", "list"])
        .output()
        .await
        .expect("connectors list runs");
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains(&created.id), "{listed}");
    assert!(!listed.contains(STRIPE_KEY) && !listed.contains(&secret));

    let _ = server.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}
