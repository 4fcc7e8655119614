//! The double's own workspace rules, checked with raw HTTP: what a well-behaved client never
//! trips must still be refused.

use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, Platform};
use airbyte_agent_runtime::{Error, RetryPolicy};
use airbyte_agent_tests::airbyte_double::AirbyteDouble;
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

use super::{SECRET, env, platform_with};

/// Raw HTTP against the double, for the server-side rules a well-behaved client never trips.
async fn raw(
    double: &AirbyteDouble,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = double.base_url().trim_start_matches("http://").to_string();
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, json)
}

#[tokio::test]
async fn double_enforces_workspace_rules() {
    let env = env().await;
    let platform = platform_with(&env, RetryPolicy::none());
    let token = platform.application_token().await.expect("token");
    let token = token.expose_secret();
    let mine = platform.workspace("acme").workspace_id().await.expect("id");
    let theirs = Platform::new(
        AirbyteAuthConfig::new(format!("{}-other", env.client_id), SECRET.to_string())
            .base_url(env.double.base_url()),
    )
    .expect("platform")
    .workspace("acme")
    .workspace_id()
    .await
    .expect("their id");

    let base = "/api/v1/internal/workflows";
    let (status, created) = raw(
        &env.double,
        token,
        "POST",
        base,
        Some(json!({"workspace_id": mine, "name": "mine"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let wf = created["id"].as_str().expect("id").to_string();
    let cases = [
        ("GET", base.to_string(), None, 422, "no workspace_id"),
        (
            "POST",
            base.to_string(),
            Some(json!({"name": "n"})),
            422,
            "no workspace_id in body",
        ),
        (
            "POST",
            base.to_string(),
            Some(json!({"workspace_id": theirs, "name": "theirs"})),
            404,
            "another organization's workspace",
        ),
        (
            "GET",
            format!("{base}/{wf}?workspace_id={theirs}"),
            None,
            404,
            "another organization's workspace",
        ),
        (
            "GET",
            format!("{base}/{wf}?workspace_id=ws-unknown"),
            None,
            404,
            "unknown workspace",
        ),
        (
            "PUT",
            format!("{base}/{wf}?workspace_id={mine}"),
            Some(json!({})),
            405,
            "method",
        ),
        (
            "POST",
            format!("{base}/{wf}/automations?workspace_id={mine}"),
            Some(json!({"workspace_id": mine, "enabled": "yes"})),
            422,
            "enabled must be a boolean",
        ),
        (
            "POST",
            format!("{base}/{wf}/automations?workspace_id={mine}"),
            Some(json!({"workspace_id": theirs})),
            422,
            "query and body disagree",
        ),
    ];
    for (method, path, body, want, why) in cases {
        let (status, answer) = raw(&env.double, token, method, &path, body).await;
        assert_eq!(status, want, "{why}: {method} {path} -> {answer}");
    }
    let mut fields = Map::new();
    fields.insert("name".into(), json!(""));
    let e = platform
        .workspace("acme")
        .update_workflow(&wf, fields)
        .await
        .expect_err("empty name");
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
}
