//! HTTPS serving: `serve --tls-cert --tls-key` answers over TLS with the given certificate (a
//! self-signed test certificate for localhost and 127.0.0.1 in `tests/data/`, test data only),
//! refuses plain HTTP on that port, and names the flag of an unusable key file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

const BIN: &str = env!("CARGO_BIN_EXE_airbyte-agent-server");

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn workdir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("airbyte-server-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let init = Command::new(BIN)
        .args(["init"])
        .current_dir(&dir)
        .env_remove("AIRBYTE_SERVER_MASTER_KEY")
        .env_remove("AIRBYTE_SERVER_DATABASE_URL")
        .output()
        .expect("init runs");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    dir
}

fn serve(dir: &Path, key: &Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(data("tls-cert.pem"))
        .arg("--tls-key")
        .arg(key)
        .current_dir(dir)
        .env_remove("AIRBYTE_SERVER_MASTER_KEY")
        .env_remove("AIRBYTE_SERVER_DATABASE_URL")
        .kill_on_drop(true);
    cmd
}

async fn https_get(addr: &str, path: &str) -> String {
    let mut roots = rustls::RootCertStore::empty();
    let cert = CertificateDer::from_pem_file(data("tls-cert.pem")).expect("test certificate");
    roots.add(cert).expect("root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::try_from("localhost").expect("name");
    let mut tls = connector
        .connect(name, tcp)
        .await
        .expect("TLS handshake with the server");
    let req = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
    tls.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw).await;
    String::from_utf8_lossy(&raw).into_owned()
}

#[tokio::test]
async fn serves_https_with_the_given_certificate_and_refuses_plain_http() {
    let dir = workdir("ok");
    let mut child = serve(&dir, &data("tls-key.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next_line().await.expect("read").unwrap_or_default();
    let addr = first
        .strip_prefix("listening on https://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();

    let answer = https_get(&addr, "/healthz").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"ok\""), "{answer}");
    let missing = https_get(&addr, "/nowhere").await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

    // Plain HTTP on the TLS port gets no HTTP answer.
    let mut tcp = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut raw = Vec::new();
    let _ = tcp.read_to_end(&mut raw).await;
    assert!(!String::from_utf8_lossy(&raw).contains("HTTP/1.1 200"));

    let _ = child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_unusable_key_file_names_its_flag() {
    let dir = workdir("bad");
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not a key\n").expect("write");
    let out = serve(&dir, &junk).output().await.expect("serve runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--tls-key"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
