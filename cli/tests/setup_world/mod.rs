//! The world the setup tests run in: the Airbyte API double (tests crate), a Stripe-shaped
//! provider, a temp directory with the env file, and the binary run with piped input.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use airbyte_agent_runtime::ConnectorDescriptor;
use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, Platform};
use airbyte_agent_runtime::serde_json::json;
use airbyte_agent_tests::airbyte_double::{Account, AirbyteDouble, Definition};
use tokio::io::AsyncWriteExt;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const ORG: &str = "org-setup";
pub const SECRET: &str = "setup-secret-value-123";
pub const GOOD_KEY: &str = "sk_test_setup_good";
pub static N: AtomicUsize = AtomicUsize::new(0);

pub fn stripe() -> &'static ConnectorDescriptor {
    airbyte_agent_registry::find("stripe").expect("stripe is compiled in")
}

pub struct World {
    pub double: AirbyteDouble,
    pub _provider: MockServer,
    pub client_id: String,
    pub dir: PathBuf,
}

impl World {
    pub fn env_file(&self) -> PathBuf {
        self.dir.join(".env")
    }

    pub fn platform(&self) -> Platform {
        Platform::new(
            AirbyteAuthConfig::new(self.client_id.clone(), SECRET.to_string())
                .organization_id(ORG)
                .base_url(self.double.base_url()),
        )
        .unwrap()
    }

    pub fn mask(&self, text: &str) -> String {
        text.replace(&self.double.base_url(), "<api>")
            .replace(&self.env_file().display().to_string(), "<env-file>")
            .replace(&self.client_id, "<client-id>")
            .replace(SECRET, "<secret>")
            .replace(GOOD_KEY, "<key>")
    }
}

pub async fn world(workspaces: &[&str]) -> World {
    let provider = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(header(
            "authorization",
            format!("Bearer {GOOD_KEY}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "has_more": true,
            "data": [{"id": "cus_1", "object": "customer"}]
        })))
        .mount(&provider)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "Invalid API Key provided", "type": "invalid_request_error"}
        })))
        .mount(&provider)
        .await;
    let n = N.fetch_add(1, Ordering::SeqCst);
    let client_id = format!("setup-client-{}-{n}", std::process::id());
    let mut b = AirbyteDouble::builder()
        .account(Account::new(client_id.clone(), SECRET, [ORG]))
        .definition(Definition::new(stripe(), provider.uri()));
    if !workspaces.is_empty() {
        b = b.workspaces(ORG, workspaces.iter().copied());
    }
    let double = b.start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("aa-setup-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    World {
        double,
        _provider: provider,
        client_id,
        dir,
    }
}

/// One connector definition, the `default` workspace, and an env file holding the Airbyte
/// application credentials.
pub async fn world_with(definition: Definition, provider: MockServer) -> World {
    let n = N.fetch_add(1, Ordering::SeqCst);
    let client_id = format!("setup-client-{}-{n}", std::process::id());
    let double = AirbyteDouble::builder()
        .account(Account::new(client_id.clone(), SECRET, [ORG]))
        .workspaces(ORG, ["default"])
        .definition(definition)
        .start()
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("aa-setup-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join(".env"),
        format!("AIRBYTE_CLIENT_ID={client_id}\nAIRBYTE_CLIENT_SECRET={SECRET}\n"),
    )
    .unwrap();
    World {
        double,
        _provider: provider,
        client_id,
        dir,
    }
}

pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub fn command(w: &World, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_airbyte-agent"));
    cmd.args(args)
        .arg("--api-host")
        .arg(w.double.base_url())
        .arg("--env-file")
        .arg(w.env_file())
        .current_dir(&w.dir);
    for k in [
        "AIRBYTE_CLIENT_ID",
        "AIRBYTE_CLIENT_SECRET",
        "AIRBYTE_ORGANIZATION_ID",
        "AIRBYTE_WORKSPACE_NAME",
        "SDK_DEV_ADP_API_HOST",
        "STRIPE_API_KEY",
        "STRIPE_CONNECTOR_ID",
    ] {
        cmd.env_remove(k);
    }
    cmd
}

pub async fn run(w: &World, args: &[&str], input: &str) -> Out {
    let mut cmd = command(w, args);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn airbyte-agent");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("setup finishes")
        .unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn env_text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

#[cfg(unix)]
pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}
