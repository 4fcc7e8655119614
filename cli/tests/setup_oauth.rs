//! `airbyte-agent setup <connector> --oauth`: Airbyte's consent URL, a browser (a plain HTTP
//! client here) coming back to the loopback listener, refused consent, and connectors without an
//! OAuth option.
#![cfg(feature = "stripe")]

use std::process::Stdio;
use std::time::Duration;

use airbyte_agent_runtime::serde_json::json;
use airbyte_agent_tests::airbyte_double::Definition;
use tokio::io::AsyncWriteExt;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod setup_world;
use setup_world::*;

/// A browser's part: `GET url` over a plain socket; returns the status line, the `Location`
/// header and the body.
async fn browser_get(url: &str) -> (String, Option<String>, String) {
    use tokio::io::AsyncReadExt;
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, target) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, t)| (h, format!("/{t}")));
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(
        format!("GET {target} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.lines().next().unwrap_or("").to_string();
    let location = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("location")
            .then(|| v.trim().to_string())
    });
    (status, location, body.to_string())
}

/// Runs `setup gong --oauth`, playing the browser with `visit` once the CLI prints the consent
/// URL and its callback address.
#[cfg(feature = "gong")]
async fn oauth_setup<F, Fut>(visit: F) -> (World, Out)
where
    F: FnOnce(String, String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    let provider = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/users"))
        .and(header("authorization", "Bearer gong-oauth-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "requestId": "r1", "records": {"totalRecords": 1}, "users": [{"id": "u1"}]
        })))
        .mount(&provider)
        .await;
    let gong = airbyte_agent_registry::find("gong").expect("gong is compiled in");
    let definition = Definition::new(gong, provider.uri()).oauth(json!({
        "access_token": "gong-oauth-token", "refresh_token": "gong-refresh-token"
    }));
    let w = world_with(definition, provider).await;
    let mut cmd = command(&w, &["setup", "gong", "--oauth", "--yes"]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn airbyte-agent");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = String::new();
    let (mut consent, mut callback) = (None, None);
    while callback.is_none() {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the CLI prints the consent URL")
            .unwrap()
            .unwrap_or_else(|| panic!("setup ended before the consent step:\n{stdout}"));
        stdout.push_str(&line);
        stdout.push('\n');
        let t = line.trim();
        if t.starts_with("http") && t.contains("/oauth/consent") {
            consent = Some(t.to_string());
        }
        if t.starts_with("waiting")
            && let Some(i) = t.find("http://127.0.0.1:")
        {
            callback = Some(t[i..].to_string());
        }
    }
    visit(consent.expect("consent URL printed"), callback.unwrap()).await;
    let mut rest = String::new();
    let mut out = lines.into_inner();
    out.read_to_string(&mut rest).await.unwrap();
    stdout.push_str(&rest);
    let done = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("setup finishes")
        .unwrap();
    let out = Out {
        code: done.status.code(),
        stdout,
        stderr: String::from_utf8_lossy(&done.stderr).into_owned(),
    };
    (w, out)
}

#[cfg(feature = "gong")]
#[tokio::test]
async fn oauth_consent_in_a_browser_creates_the_connector() {
    let (w, out) = oauth_setup(|consent, callback| async move {
        // A stray request first: the CLI keeps waiting for the real callback.
        let (status, _, _) = browser_get(&callback.replace("/callback", "/favicon.ico")).await;
        assert!(status.contains("404"), "{status}");
        // Airbyte's consent page redirects to the CLI's loopback callback with a secret id.
        let (status, location, _) = browser_get(&consent).await;
        assert!(status.contains("302"), "{status}");
        let location = location.expect("redirect");
        assert!(location.starts_with(&callback), "{location} vs {callback}");
        let (status, _, page) = browser_get(&location).await;
        assert!(status.contains("200"), "{status}");
        assert!(page.contains("Access granted"), "{page}");
    })
    .await;
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("OAuth consent"), "{}", out.stdout);
    assert!(
        out.stdout.contains("users.list returned 1 record(s)"),
        "{}",
        out.stdout
    );
    let conns = w.double.connectors();
    assert_eq!(conns.len(), 1);
    assert_eq!(
        conns[0].credentials.get("access_token"),
        Some(&json!("gong-oauth-token"))
    );
    assert!(conns[0].source_template_id.is_some());
    let env = env_text(&w.env_file());
    assert!(
        env.contains(&format!("GONG_CONNECTOR_ID={}", conns[0].id)),
        "{env}"
    );
    assert!(!out.stdout.contains("gong-oauth-token"));
}

#[cfg(feature = "gong")]
#[tokio::test]
async fn refused_oauth_consent_is_an_auth_error() {
    let (w, out) = oauth_setup(|_, callback| async move {
        let (status, _, page) = browser_get(&format!(
            "{callback}?error=access_denied&error_description=User+said+no"
        ))
        .await;
        assert!(status.contains("200"), "{status}");
        assert!(page.contains("not granted"), "{page}");
    })
    .await;
    assert_eq!(out.code, Some(3), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("access_denied"), "{}", out.stderr);
    assert!(out.stderr.contains("User said no"), "{}", out.stderr);
    assert!(out.stderr.contains("--oauth"), "{}", out.stderr);
    assert!(w.double.connectors().is_empty());
}

#[tokio::test]
async fn oauth_needs_a_connector_with_an_oauth_option() {
    let w = world(&["default"]).await;
    let out = run(&w, &["setup", "stripe", "--oauth", "--yes"], "").await;
    assert_eq!(out.code, Some(2), "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("no OAuth option"), "{}", out.stderr);
}
