//! The generated Gong and Pylon crates end to end through their typed APIs over loopback:
//! basic auth from an access key, OAuth2 refresh before the first call, the fail-closed privacy
//! filter on Gong calls, cursor pagination, and a JSON create body.

use airbyte_agent_gong::{
    GongAccessKeyAuthenticationAuthConfig, GongConnector, GongOauth20AuthenticationAuthConfig,
};
use airbyte_agent_pylon::{PylonAuthConfig, PylonConnector};
use base64::Engine;
use futures_util::StreamExt;
use serde_json::json;
use wiremock::matchers::{body_json, body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn call(id: &str, private: bool) -> serde_json::Value {
    json!({"id": id, "title": format!("Call {id}"), "duration": 60, "isPrivate": private,
           "started": "2024-05-01T10:00:00Z", "unknown_extra": true})
}

#[tokio::test]
async fn gong_access_key_is_sent_as_basic_auth_and_private_calls_are_filtered_out() {
    let server = MockServer::start().await;
    let expected = base64::engine::general_purpose::STANDARD.encode("key-id:key-secret-value");
    Mock::given(method("GET"))
        .and(path("/v2/calls"))
        .and(header(
            "authorization",
            format!("Basic {expected}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "calls": [call("c1", false), call("c2", true), call("c3", false)],
            "records": {"totalRecords": 3, "cursor": null}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let gong = GongConnector::builder(GongAccessKeyAuthenticationAuthConfig::new(
        "key-id",
        "key-secret-value",
    ))
    .base_url(server.uri())
    .build()
    .expect("connector builds");
    let page = gong.calls().list().await.expect("list succeeds");
    let ids: Vec<_> = page.data.iter().filter_map(|c| c.id.clone()).collect();
    assert_eq!(ids, ["c1", "c3"], "the private call must not be returned");
    assert_eq!(page.meta.total_records, Some(3));
}

#[tokio::test]
async fn gong_filter_fails_closed_when_the_privacy_flag_cannot_be_read() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/calls"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "calls": [{"id": "c1", "title": "no privacy flag here"}],
        })))
        .mount(&server)
        .await;
    let gong = GongConnector::builder(GongAccessKeyAuthenticationAuthConfig::new("k", "s"))
        .base_url(server.uri())
        .build()
        .expect("connector builds");
    let result = gong.calls().list().await;
    assert!(
        result.is_err(),
        "an unreadable privacy flag must not leak records: {result:?}"
    );
}

#[tokio::test]
async fn gong_oauth_refreshes_on_401_replays_and_hands_tokens_to_the_callback() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/users"))
        .and(header("authorization", "Bearer at-stale"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"errors": ["expired"]})))
        .expect(1)
        .mount(&server)
        .await;
    let client_auth = base64::engine::general_purpose::STANDARD.encode("cid:csecret");
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .and(header(
            "authorization",
            format!("Basic {client_auth}").as_str(),
        ))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=rt-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at-fresh", "refresh_token": "rt-2", "token_type": "Bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/users"))
        .and(header("authorization", "Bearer at-fresh"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [{"id": "u1", "emailAddress": "ana@example.com"}],
            "records": {"cursor": "next-1"}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let auth = GongOauth20AuthenticationAuthConfig::new("at-stale", "rt-1")
        .client_id("cid")
        .client_secret("csecret");
    let gong = GongConnector::builder(auth)
        .base_url(server.uri())
        .refresh_url(format!("{}/oauth2/token", server.uri()))
        .on_token_refresh(move |tokens| {
            let _ = tx.send(format!("{tokens:?}"));
        })
        .build()
        .expect("connector builds");
    let page = gong
        .users()
        .list()
        .await
        .expect("list succeeds after refresh and replay");
    assert_eq!(page.data[0].id.as_deref(), Some("u1"));
    assert_eq!(page.meta.cursor.as_deref(), Some("next-1"));
    let shown = rx.recv().await.expect("callback received the new tokens");
    assert!(
        !shown.contains("at-fresh") && !shown.contains("rt-2"),
        "{shown}"
    );
}

#[tokio::test]
async fn pylon_list_follows_the_cursor_and_create_sends_json() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/issues"))
        .and(query_param("start_time", "2024-01-01T00:00:00Z"))
        .and(query_param("end_time", "2024-02-01T00:00:00Z"))
        .and(header("authorization", "Bearer pylon-token"))
        .and(wiremock::matchers::query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "i1", "title": "First"}],
            "pagination": {"cursor": "cur-2", "has_next_page": true}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/issues"))
        .and(query_param("cursor", "cur-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [{"id": "i2", "title": "Second"}],
            "pagination": {"cursor": null, "has_next_page": false}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/issues"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"title": "Printer on fire", "body_html": "<p>help</p>", "tags": ["urgent"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"id": "i9", "title": "Printer on fire"}, "request_id": "req-1"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let pylon = PylonConnector::builder(PylonAuthConfig::new("pylon-token"))
        .base_url(server.uri())
        .build()
        .expect("connector builds");
    let mut titles = Vec::new();
    let mut records = pylon
        .issues()
        .list("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z")
        .pages()
        .records();
    while let Some(issue) = records.next().await {
        titles.extend(issue.expect("record").title);
    }
    assert_eq!(titles, ["First", "Second"]);

    let created = pylon
        .issues()
        .create("Printer on fire", "<p>help</p>")
        .tags(vec!["urgent".to_owned()])
        .await
        .expect("create succeeds");
    assert_eq!(created.data.and_then(|i| i.id).as_deref(), Some("i9"));
}
