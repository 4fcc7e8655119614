//! OAuth2 connectors: a token the provider refreshes is written back (sealed) to the record, so
//! the next instance uses the new tokens. Gong accepts each refresh token only once.

mod common;

use std::time::Duration;

use airbyte_agent_server::config::ServerConfig;
use airbyte_agent_server::crypto::{self, MasterKey};
use airbyte_agent_server::registry;
use common::*;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn gong_provider() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/users"))
        .and(header("authorization", "Bearer at_old"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"errors": ["expired"]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/users"))
        .and(header("authorization", "Bearer at_new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "requestId": "r1", "records": {"totalRecords": 1, "currentPageSize": 1, "currentPageNumber": 0},
            "users": [{"id": "u1", "emailAddress": "a@example.com"}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth2/generate-customer-token"))
        .and(body_string_contains("rt_old"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at_new", "refresh_token": "rt_new", "expires_in": 3600, "token_type": "bearer"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn refreshed_tokens_are_stored_sealed() {
    let gong = registry::by_type("gong").expect("gong compiled in");
    for db in databases().await {
        let provider = gong_provider().await;
        let config = || {
            ServerConfig::new()
                .provider_base_url(gong.definition_id, provider.uri())
                .provider_refresh_url(
                    gong.definition_id,
                    format!("{}/oauth2/generate-customer-token", provider.uri()),
                )
        };
        let key = MasterKey::generate();
        let key_text = key.to_base64();
        let srv = TestServer::start_with_key(&db, config(), key).await;
        let token = srv.token(&srv.app).await;
        let (s, b) = srv
            .send(
                "POST",
                "/api/v1/integrations/connectors",
                Some(&token),
                Some(json!({
                    "definition_id": gong.definition_id, "workspace_name": "default",
                    "credentials": {"access_token": "at_old", "refresh_token": "rt_old", "client_id": "cid", "client_secret": "csec"},
                }).to_string()),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        let id = b["id"].as_str().expect("id").to_string();
        let exec = format!("/api/v1/integrations/connectors/{id}/execute");
        let body = json!({"entity": "users", "action": "list"}).to_string();
        let (s, b) = srv
            .send("POST", &exec, Some(&token), Some(body.clone()))
            .await;
        assert_eq!(s, 200, "refresh after 401 and replay: {b}");
        assert_eq!(b["result"][0]["id"], json!("u1"));

        // The write-back runs beside the call; wait for the revision to move.
        let org = srv.app.organization_id.clone();
        let mut stored = None;
        for _ in 0..50 {
            let rec = srv
                .store
                .connector(&org, &id)
                .await
                .expect("read")
                .expect("exists");
            if rec.revision > 0 {
                stored = Some(rec);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let rec = stored.expect("refreshed tokens written back");
        let key = MasterKey::from_base64(key_text.expose_secret()).expect("key");
        let plain = crypto::open(&key, &rec.sealed, &rec.id).expect("opens");
        let creds: Value = serde_json::from_slice(plain.expose_secret()).expect("json");
        assert_eq!(creds["access_token"], json!("at_new"));
        assert_eq!(creds["refresh_token"], json!("rt_new"));
        assert_eq!(creds["client_id"], json!("cid"), "other fields kept");
        let raw = db.raw_contents(&srv.store).await;
        assert!(
            !String::from_utf8_lossy(&raw).contains("rt_new"),
            "refresh token in clear"
        );

        // A fresh instance (no cached client) works from the stored tokens; rt_old is spent.
        let other = TestServer::start_with_key(
            &db,
            config(),
            MasterKey::from_base64(key_text.expose_secret()).expect("key"),
        )
        .await;
        let (s, b) = other.send("POST", &exec, Some(&token), Some(body)).await;
        assert_eq!(s, 200, "{b}");
    }
}
