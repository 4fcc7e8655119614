//! Secrets stay put: never in `Debug` output or errors, never sent to another origin.

use airbyte_agent_runtime::*;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{self, *};
use crate::{BEARER_CONN, auth_header};

#[tokio::test]
async fn secrets_never_in_debug_or_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "bad key"})))
        .mount(&server)
        .await;
    let creds = bearer_creds();
    assert!(!format!("{creds:?}").contains("sk_test_secret_value"));
    let c = client(&BEARER_CONN, creds, &server.uri());
    assert!(!format!("{c:?}").contains("sk_test_secret_value"));
    let err = c.execute("me", "get", json!({})).await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)));
    assert_eq!(err.message(), "bad key");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("sk_test_secret_value"), "{text}");
}

#[tokio::test]
async fn no_credentials_to_foreign_hosts() {
    // A two-step download whose file URL points at another origin gets no auth header.
    static FILE_OP: OperationDescriptor = OperationDescriptor {
        params: &[common::path("id")],
        response: ResponseDescriptor {
            file_url: Some("file.url"),
            ..RESPONSE
        },
        ..op(
            "files",
            "download",
            ActionKind::Download,
            Method::Get,
            "/files/{id}",
        )
    };
    static FILE_CONN: ConnectorDescriptor = connector(
        std::slice::from_ref(&BEARER),
        &[EntityDescriptor {
            name: "files",
            description: "",
            operations: std::slice::from_ref(&FILE_OP),
        }],
    );
    let api = MockServer::start().await;
    let cdn = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/files/f%2F1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"file": {"url": format!("{}/blob?sig=abc", cdn.uri())}})),
        )
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/blob"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"hello".to_vec()))
        .mount(&cdn)
        .await;
    let c = client(&FILE_CONN, bearer_creds(), &api.uri());
    let bytes = c
        .download(&FILE_OP, params(json!({"id": "f/1"})))
        .await
        .unwrap()
        .collect_bytes()
        .await
        .unwrap();
    assert_eq!(bytes, b"hello");
    assert!(auth_header(&api, "authorization").await.is_some());
    let cdn_req = &cdn.received_requests().await.unwrap()[0];
    assert!(cdn_req.headers.get("authorization").is_none());
    assert_eq!(cdn_req.headers.get("accept").unwrap(), "*/*");
}
