//! The server binary as separate processes: `init` once, any number of `serve` instances on
//! one database and master key file, killed with SIGKILL when a test says so.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_airbyte-agent-server");

/// What `init` printed.
#[derive(Debug, Clone)]
pub struct Init {
    /// Organization id.
    pub organization_id: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
}

/// The binary with `dir`'s master key file and database `db` (the environment's own settings
/// removed).
pub fn command(dir: &Path, db: &str) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_remove("AIRBYTE_SERVER_MASTER_KEY")
        .env("AIRBYTE_SERVER_DATABASE_URL", db)
        .env("AIRBYTE_SERVER_MASTER_KEY_FILE", key_file(dir));
    c
}

/// The master key file the instances of `dir` share.
pub fn key_file(dir: &Path) -> PathBuf {
    dir.join("server.key")
}

/// `init` against `db` (master key in `dir`).
pub fn init(dir: &Path, db: &str) -> Init {
    let out = command(dir, db).arg("init").output().expect("init runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "init: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_string()
    };
    Init {
        organization_id: field("organization_id"),
        client_id: field("client_id"),
        client_secret: field("client_secret"),
    }
}

/// A running `serve` process (killed when dropped).
pub struct Instance {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Spawn to the first `/healthz` 200.
    pub startup: Duration,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    /// `serve --listen 127.0.0.1:0` on `db` with `extra` arguments.
    pub async fn start(dir: &Path, db: &str, extra: &[String]) -> Self {
        let started = Instant::now();
        let (child, url) = spawn_serve(dir, db, extra, Stdio::null()).await;
        loop {
            let (s, _) = super::send_raw(&url, "GET", "/healthz", None, &[], None).await;
            if s == 200 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "never healthy");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Instance {
            child,
            url,
            startup: started.elapsed(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no graceful shutdown, in-flight requests die with it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `serve --listen 127.0.0.1:0` on `db` with `extra` arguments and `stderr` as given → the
/// process and the address it prints first (`http://…`, or `https://…` with TLS).
pub async fn spawn_serve(dir: &Path, db: &str, extra: &[String], stderr: Stdio) -> (Child, String) {
    let mut child = command(dir, db)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(stderr)
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
    (child, url)
}
