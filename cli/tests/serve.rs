//! `airbyte-agent serve` as an operator and a user run it: `serve init` in an empty directory,
//! `serve --listen` on an ephemeral loopback port; then a connector created through the platform
//! API and called with `airbyte-agent stripe customers list` in hosted mode, and the guided
//! `airbyte-agent setup stripe` flow (template, connector, test query, `.env`) followed by a call
//! that reads only that `.env`; the server calls the provider double with what it stored.
#![cfg(all(feature = "serve", feature = "stripe"))]

mod common;

use std::process::Stdio;

use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, CreateOptions, Platform};
use airbyte_agent_runtime::serde_json::json;
use common::agent_command;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const STRIPE_KEY: &str = "sk_test_serve_0123456789";
/// The master key of these tests' runs on PostgreSQL (base64 of 32 bytes; test data only).
const PG_MASTER_KEY: &str = "Y2xpLXNlcnZlLXRlc3RzLW1hc3Rlci1rZXktMzJieXQ=";

fn field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

/// A directory with `serve init` done, and `serve` running in it against a Stripe double.
struct Served {
    dir: std::path::PathBuf,
    url: String,
    client_id: String,
    secret: String,
    organization_id: String,
    _stripe: MockServer,
    _server: Option<tokio::process::Child>,
}

impl Served {
    /// `airbyte-agent serve ...` in the directory, on SQLite there, or on the PostgreSQL
    /// database of `AIRBYTE_SERVER_TEST_PG` (`server/tests/pg.sh` sets it).
    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = agent_command(args, &[]);
        cmd.current_dir(&self.dir)
            .env_remove("AIRBYTE_SERVER_MASTER_KEY")
            .env_remove("AIRBYTE_SERVER_DATABASE_URL");
        if let Ok(url) = std::env::var("AIRBYTE_SERVER_TEST_PG") {
            // Every run on that database shares one master key (the server refuses a key that
            // does not open what the database already holds).
            cmd.env("AIRBYTE_SERVER_DATABASE_URL", url)
                .env("AIRBYTE_SERVER_MASTER_KEY", PG_MASTER_KEY);
        }
        cmd
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn served(name: &str) -> Served {
    let dir = std::env::temp_dir().join(format!("airbyte-agent-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let mut served = Served {
        dir,
        url: String::new(),
        client_id: String::new(),
        secret: String::new(),
        organization_id: String::new(),
        _stripe: MockServer::start().await,
        _server: None,
    };
    let init = served
        .command(&["serve", "init", "--organization", "acme"])
        .output()
        .await
        .expect("serve init runs");
    let out = String::from_utf8_lossy(&init.stdout).into_owned();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    served.client_id = field(&out, "client_id").to_string();
    served.secret = field(&out, "client_secret").to_string();
    served.organization_id = field(&out, "organization_id").to_string();

    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(header("authorization", format!("Bearer {STRIPE_KEY}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "has_more": false, "data": [{"id": "cus_self_hosted"}]
        })))
        .mount(&served._stripe)
        .await;
    let provider = format!("stripe={}", served._stripe.uri());
    let mut server = served
        .command(&[
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
    served.url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    served._server = Some(server);
    served
}

#[tokio::test]
async fn serve_init_then_hosted_calls_through_the_cli() {
    let s = served("serve").await;
    let stripe_descriptor = airbyte_agent_registry::find("stripe").expect("stripe is compiled in");
    let auth =
        AirbyteAuthConfig::new(s.client_id.clone(), s.secret.clone()).base_url(s.url.clone());
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
            ("AIRBYTE_CLIENT_ID", s.client_id.clone()),
            ("AIRBYTE_CLIENT_SECRET", s.secret.clone()),
            ("SDK_DEV_ADP_API_HOST", s.url.clone()),
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
    let list = s
        .command(&["serve", "connectors", "list"])
        .output()
        .await
        .expect("connectors list runs");
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains(&created.id), "{listed}");
    assert!(!listed.contains(STRIPE_KEY) && !listed.contains(&s.secret));
}

#[tokio::test]
async fn guided_setup_against_the_self_hosted_server_then_calls_from_its_env_file() {
    let s = served("setup").await;
    let work = s.dir.join("app");
    std::fs::create_dir_all(&work).expect("app dir");
    let setup = |extra: &[&str]| {
        let mut args = vec![
            "setup",
            "stripe",
            "--yes",
            "--client-id",
            &s.client_id,
            "--api-host",
            &s.url,
        ];
        args.extend_from_slice(extra);
        let mut cmd = agent_command(
            &args,
            &[
                ("AIRBYTE_CLIENT_SECRET", s.secret.clone()),
                ("STRIPE_API_KEY", STRIPE_KEY.to_string()),
            ],
        );
        cmd.current_dir(&work);
        cmd
    };
    let first = setup(&[]).output().await.expect("setup runs");
    let out = String::from_utf8_lossy(&first.stdout).into_owned();
    let err = String::from_utf8_lossy(&first.stderr).into_owned();
    assert_eq!(first.status.code(), Some(0), "{out}\n{err}");
    assert!(out.contains("(mode DIRECT)"), "{out}");
    assert!(out.contains("returned 1 record(s)"), "{out}");
    assert!(!out.contains(STRIPE_KEY) && !err.contains(STRIPE_KEY) && !out.contains(&s.secret));

    // A rerun finds what exists (template, connector) and creates nothing new.
    let again = setup(&[]).output().await.expect("setup reruns");
    let out2 = String::from_utf8_lossy(&again.stdout).into_owned();
    assert_eq!(again.status.code(), Some(0), "{out2}");
    assert!(!out2.contains("created `"), "{out2}");
    let list = s
        .command(&["serve", "connectors", "list"])
        .output()
        .await
        .expect("connectors list runs");
    let rows = String::from_utf8_lossy(&list.stdout)
        .lines()
        .skip(1)
        .filter(|l| l.contains(&s.organization_id) && l.contains("stripe"))
        .count();
    assert_eq!(rows, 1, "one connector after two setup runs");

    // The `.env` setup wrote is all a later call needs (no credentials in the environment).
    let mut call = agent_command(&["stripe", "customers", "list", "-p", "limit=1"], &[]);
    call.current_dir(&work).env_remove("SDK_DEV_ADP_API_HOST");
    let call = call.output().await.expect("the CLI runs");
    let stdout = String::from_utf8_lossy(&call.stdout);
    assert_eq!(
        call.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&call.stderr)
    );
    assert!(stdout.contains("cus_self_hosted"), "{stdout}");
}
