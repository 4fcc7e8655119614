//! HTTPS serving: `serve --tls-cert --tls-key` answers over TLS with the given certificate (a
//! self-signed test certificate for localhost and 127.0.0.1 in `tests/data/`, test data only),
//! refuses plain HTTP on that port, and names the flag of an unusable key file.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use common::{Database, process};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// `serve` arguments for TLS with the test certificate and `key`.
fn tls_args(key: &Path) -> Vec<String> {
    vec![
        "--tls-cert".into(),
        data("tls-cert.pem").display().to_string(),
        "--tls-key".into(),
        key.display().to_string(),
    ]
}

/// A fresh SQLite database, `init` done in its directory → (database, directory).
fn initialized() -> (Database, PathBuf) {
    let db = Database::sqlite();
    let dir = db.sqlite_dir();
    process::init(&dir, &db.url);
    (db, dir)
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
    let (db, dir) = initialized();
    let (mut child, url) = process::spawn_serve(
        &dir,
        &db.url,
        &tls_args(&data("tls-key.pem")),
        Stdio::inherit(),
    )
    .await;
    let addr = url
        .strip_prefix("https://")
        .unwrap_or_else(|| panic!("not an https address: {url}"))
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

    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn an_unusable_key_file_names_its_flag() {
    let (db, dir) = initialized();
    let junk = dir.join("junk.pem");
    std::fs::write(&junk, "not a key\n").expect("write");
    let out = process::command(&dir, &db.url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(tls_args(&junk))
        .output()
        .expect("serve runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("--tls-key"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
