//! The `airbyte-agent-server` binary as an operator runs it: `init` in an empty directory,
//! `serve` on an ephemeral loopback port, the hosted client against it, `connectors list`
//! without secrets, and `rotate-master-key`.

mod common;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use airbyte_agent_runtime::Credentials;
use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, CreateOptions, Platform};
use common::*;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_airbyte-agent-server");

fn run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("AIRBYTE_SERVER_MASTER_KEY")
        .env_remove("AIRBYTE_SERVER_DATABASE_URL")
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
}

struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `serve` on port 0 → (process, base URL, time until it answered /healthz).
async fn serve(dir: &Path, extra: &[&str]) -> (Serving, String, Duration) {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .current_dir(dir)
        .env_remove("AIRBYTE_SERVER_MASTER_KEY")
        .env_remove("AIRBYTE_SERVER_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        line
    })
    .await
    .expect("reader");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let probe = TestServerProbe(url.clone());
    assert_eq!(probe.get("/healthz").await, 200);
    (Serving(child), url, started.elapsed())
}

struct TestServerProbe(String);

impl TestServerProbe {
    async fn get(&self, path: &str) -> u16 {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let addr = self.0.trim_start_matches("http://");
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let req = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw).await;
        String::from_utf8_lossy(&raw)
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }
}

#[tokio::test]
async fn init_serve_list_rotate() {
    let dir = std::env::temp_dir().join(format!("airbyte-agent-server-bin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");

    let (ok, out, err) = run(&dir, &["init", "--organization", "acme"]);
    assert!(ok, "{err}");
    let client_id = field(&out, "client_id").to_string();
    let secret = field(&out, "client_secret").to_string();
    let org = field(&out, "organization_id").to_string();
    assert!(
        dir.join("airbyte-agent-server.key").exists(),
        "default key file"
    );
    assert!(
        dir.join("airbyte-agent-server.db").exists(),
        "default SQLite file"
    );

    let provider = stripe_provider().await;
    let provider_arg = format!("stripe={}", provider.uri());
    let (server, url, startup) = serve(&dir, &["--provider-base-url", &provider_arg]).await;
    eprintln!("startup (spawn to /healthz 200, debug build): {startup:?}");

    let auth = AirbyteAuthConfig::new(client_id.clone(), secret.clone())
        .organization_id(org)
        .base_url(url.clone())
        .workspace_name("default");
    let ws = Platform::new(auth).expect("platform").workspace("default");
    let client = ws
        .create_hosted(
            stripe(),
            &Credentials::new("bearerAuth").set("api_key", STRIPE_KEY),
            CreateOptions::new(),
        )
        .await
        .expect("created");
    let r = client
        .execute("customers", "list", json!({"limit": 2}))
        .await
        .expect("execute");
    assert_eq!(r.data[0]["id"], json!("cus_1"));
    drop(server);

    let (ok, out, err) = run(&dir, &["connectors", "list"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("stripe") && out.contains("bearerAuth"),
        "{out}"
    );
    assert!(!out.contains(STRIPE_KEY));

    let old_key = std::fs::read_to_string(dir.join("airbyte-agent-server.key")).expect("key");
    let (ok, out, err) = run(&dir, &["rotate-master-key"]);
    assert!(ok, "{err}");
    assert!(out.contains("re-wrapped 1 data keys"), "{out}");
    let new_key = std::fs::read_to_string(dir.join("airbyte-agent-server.key")).expect("key");
    assert_ne!(old_key, new_key);
    assert!(!dir.join("airbyte-agent-server.key.new").exists());

    // The rotated database still executes with the new key file.
    let (_server, url, _) = serve(&dir, &["--provider-base-url", &provider_arg]).await;
    let auth = AirbyteAuthConfig::new(client_id, secret)
        .base_url(url)
        .workspace_name("default");
    let again = airbyte_agent_runtime::Client::hosted(stripe(), auth)
        .build()
        .expect("client");
    let r = again
        .execute("customers", "list", json!({}))
        .await
        .expect("after rotation");
    assert_eq!(r.data.as_array().map(Vec::len), Some(2));

    // A missing key file next to sealed records is refused, not replaced.
    let (ok, _, err) = run(&dir, &["serve", "--master-key-file", "elsewhere.key"]);
    assert!(!ok && err.contains("sealed connectors"), "{err}");
    assert!(!dir.join("elsewhere.key").exists());

    let (ok, _, err) = run(&dir, &["serve", "--listen", "nonsense"]);
    assert!(!ok && err.contains("--listen"), "{err}");
    let (ok, _, err) = run(&dir, &["serve", "--database", "mysql://x"]);
    assert!(!ok && err.contains("database URL"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
