//! Isolation between organizations, secrets that never come back out, and bad input answered
//! with clear 4xx errors (nothing stored half-way). SQLite always; PostgreSQL when
//! `AIRBYTE_SERVER_TEST_PG` is set.

mod common;

use std::time::Duration;

use airbyte_agent_runtime::hosted::{CreateOptions, Platform};
use airbyte_agent_runtime::{Client, Credentials};
use airbyte_agent_server::config::ServerConfig;
use airbyte_agent_server::crypto::MasterKey;
use common::*;
use secrecy::ExposeSecret;
use serde_json::json;

/// Organization B's token cannot read, execute, list or delete A's connectors, and cannot be
/// used for A's organization; B's hosted client does not find A's connector.
#[tokio::test]
async fn organizations_are_isolated() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let b = srv.second_organization().await;
        let token_a = srv.token(&srv.app).await;
        let token_b = srv.token(&b).await;
        let id_a = srv.create_stripe(&token_a).await;

        let exec = format!("/api/v1/integrations/connectors/{id_a}/execute");
        let body = json!({"entity": "customers", "action": "list"}).to_string();
        let (s, _) = srv
            .send("POST", &exec, Some(&token_b), Some(body.clone()))
            .await;
        assert_eq!(s, 404, "B executes A's connector");
        let (s, _) = srv
            .send(
                "DELETE",
                &format!("/api/v1/integrations/connectors/{id_a}"),
                Some(&token_b),
                None,
            )
            .await;
        assert_eq!(s, 404, "B deletes A's connector");
        let (s, l) = srv
            .send(
                "GET",
                "/api/v1/integrations/connectors?workspace_name=default",
                Some(&token_b),
                None,
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(l["data"], json!([]), "B lists A's connectors");
        let (s, w) = srv
            .send("GET", "/api/v1/workspaces", Some(&token_b), None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(w["data"].as_array().map(Vec::len), Some(1));
        assert_eq!(w["data"][0]["organization_id"], json!(b.organization_id));

        // B's token naming A's organization; B's credentials asking for A's organization.
        let (s, _) = srv
            .send_text(
                "GET",
                "/api/v1/workspaces",
                Some(&token_b),
                &[("x-organization-id", &srv.app.organization_id)],
                None,
            )
            .await;
        assert_eq!(s, 403);
        let (s, _) = srv
            .send_text(
                "POST",
                "/api/v1/account/applications/token",
                None,
                &[("x-organization-id", &srv.app.organization_id)],
                Some(json!({"client_id": b.client_id, "client_secret": b.client_secret.expose_secret()}).to_string()),
            )
            .await;
        assert_eq!(s, 403);

        // Through the real hosted client: B finds nothing, A still works.
        let b_client = Client::hosted(stripe(), srv.auth(&b))
            .build()
            .expect("client");
        let e = b_client
            .execute("customers", "list", json!({}))
            .await
            .expect_err("not found for B");
        assert!(
            e.to_string().contains("no") || e.to_string().contains("not found"),
            "{e}"
        );
        let b_by_id = Client::hosted(stripe(), srv.auth(&b))
            .connector_id(id_a.clone())
            .build()
            .expect("client");
        let e = b_by_id
            .execute("customers", "list", json!({}))
            .await
            .expect_err("404 for B");
        assert_eq!(e.status(), Some(404));
        let (s, _) = srv.send("POST", &exec, Some(&token_a), Some(body)).await;
        assert_eq!(s, 200, "A's connector survived B's attempts");
    }
}

/// No endpoint returns stored credentials (create, list, execute, errors), and the database
/// holds neither the provider key nor the client secret in clear.
#[tokio::test]
async fn credentials_never_leave_the_server() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let ws = Platform::new(srv.auth(&srv.app))
            .expect("platform")
            .workspace("default");
        let client = ws
            .create_hosted(
                stripe(),
                &Credentials::new("bearerAuth").set("api_key", STRIPE_KEY),
                CreateOptions::new(),
            )
            .await
            .expect("created");
        let id = client.hosted_connector_id().await.expect("id");
        let token = srv.token(&srv.app).await;
        let mut bodies = Vec::new();
        for (m, p, b) in [
            (
                "GET",
                "/api/v1/integrations/connectors?workspace_name=default".to_string(),
                None,
            ),
            (
                "GET",
                format!(
                    "/api/v1/integrations/connectors?workspace_name=default&definition_id={}",
                    stripe().definition_id
                ),
                None,
            ),
            (
                "POST",
                format!("/api/v1/integrations/connectors/{id}/execute"),
                Some(json!({"entity": "customers", "action": "list"})),
            ),
            (
                "POST",
                format!("/api/v1/integrations/connectors/{id}/execute"),
                Some(json!({"entity": "customers", "action": "get", "params": {"id": "cus_boom"}})),
            ),
            (
                // The provider echoes the key in its error body: the server scrubs it.
                "POST",
                format!("/api/v1/integrations/connectors/{id}/execute"),
                Some(json!({"entity": "customers", "action": "get", "params": {"id": "cus_echo"}})),
            ),
            (
                "POST",
                "/api/v1/integrations/connectors".to_string(),
                Some(
                    json!({"definition_id": stripe().definition_id, "workspace_name": "default", "credentials": {"api_key": STRIPE_KEY, "auth_type": "x"}}),
                ),
            ),
        ] {
            let (_, text) = srv
                .send_text(m, &p, Some(&token), &[], b.map(|v| v.to_string()))
                .await;
            bodies.push(text);
        }
        assert!(
            bodies[4].contains("Invalid API Key provided: ***"),
            "{}",
            bodies[4]
        );
        for text in &bodies {
            assert!(
                !text.contains(STRIPE_KEY),
                "an endpoint returned the stored key: {text}"
            );
        }
        let raw = db.raw_contents(&srv.store).await;
        let hay = String::from_utf8_lossy(&raw);
        assert!(!hay.is_empty());
        assert!(
            !hay.contains(STRIPE_KEY),
            "provider key in clear in {}",
            db.url
        );
        assert!(
            !hay.contains(srv.app.client_secret.expose_secret()),
            "client secret in clear"
        );
        assert!(!hay.contains(&token), "bearer token in clear");
    }
}

/// Malformed, oversized, unexpected and unauthenticated requests get clear 4xx errors in the
/// protocol's shape; a refused create stores nothing.
#[tokio::test]
async fn bad_input_gets_clear_errors() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider).max_body_bytes(4096)).await;
        let token = srv.token(&srv.app).await;
        let create = "/api/v1/integrations/connectors";
        let def = stripe().definition_id;
        let cases: Vec<(&str, &str, Option<&str>, String, u16)> = vec![
            ("malformed JSON", create, Some(&token), "{not json".into(), 400),
            ("not an object", create, Some(&token), "[1,2]".into(), 400),
            ("unknown field", create, Some(&token), json!({"definition_id": def, "workspace_name": "default", "credentials": {"api_key": "k"}, "extra": 1}).to_string(), 422),
            ("discriminator", create, Some(&token), json!({"definition_id": def, "workspace_name": "default", "credentials": {"api_key": "k", "auth_type": "api_key"}}).to_string(), 422),
            ("wrong credential fields", create, Some(&token), json!({"definition_id": def, "workspace_name": "default", "credentials": {"token": "k"}}).to_string(), 422),
            ("credential not text", create, Some(&token), json!({"definition_id": def, "workspace_name": "default", "credentials": {"api_key": ["k"]}}).to_string(), 422),
            ("unknown definition", create, Some(&token), json!({"definition_id": "00000000-0000-0000-0000-000000000000", "workspace_name": "default", "credentials": {"api_key": "k"}}).to_string(), 422),
            ("no workspace", create, Some(&token), json!({"definition_id": def, "credentials": {"api_key": "k"}}).to_string(), 422),
            ("unknown workspace", create, Some(&token), json!({"definition_id": def, "workspace_name": "nope", "credentials": {"api_key": "k"}}).to_string(), 404),
            ("oauth secret", create, Some(&token), json!({"definition_id": def, "workspace_name": "default", "server_side_oauth_secret_id": "s"}).to_string(), 422),
            ("oversized", create, Some(&token), json!({"name": "x".repeat(10_000)}).to_string(), 413),
            ("no bearer", create, None, "{}".into(), 401),
            ("unknown bearer", create, Some("abt_forged"), "{}".into(), 401),
            ("token: wrong secret", "/api/v1/account/applications/token", None, json!({"client_id": srv.app.client_id, "client_secret": "wrong"}).to_string(), 401),
            ("token: unknown client", "/api/v1/account/applications/token", None, json!({"client_id": "nobody", "client_secret": "x"}).to_string(), 401),
            ("token: unknown field", "/api/v1/account/applications/token", None, json!({"client_id": "a", "client_secret": "b", "scope": "all"}).to_string(), 422),
            ("workspace: empty name", "/api/v1/workspaces", Some(&token), json!({"name": " "}).to_string(), 422),
            ("workspace: duplicate", "/api/v1/workspaces", Some(&token), json!({"name": "default"}).to_string(), 409),
            ("unknown route", "/api/v1/nothing", Some(&token), "{}".into(), 404),
        ];
        for (what, path, tok, body, want) in cases {
            let (s, b) = srv.send("POST", path, tok, Some(body)).await;
            assert_eq!(s, want, "{what} on {}: {b}", db.url);
            let msg = b["errors"][0]["userPresentableMessage"].as_str();
            assert!(
                msg.is_some_and(|m| !m.is_empty()),
                "{what}: error shape {b}"
            );
        }
        let (s, l) = srv
            .send(
                "GET",
                "/api/v1/integrations/connectors?workspace_name=default",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(l["data"], json!([]), "a refused create stored something");
        let (s, _) = srv
            .send("GET", "/api/v1/integrations/connectors", Some(&token), None)
            .await;
        assert_eq!(s, 422, "list without a workspace");
        let (s, _) = srv
            .send(
                "GET",
                "/api/v1/integrations/connectors?customer_name=nope",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(s, 404);
        let (s, _) = srv
            .send(
                "GET",
                "/api/v1/integrations/connectors?external_user_id=default",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(s, 200, "older name of the workspace key");
    }
}

/// Tokens expire (401 "Token expired"), and a token issued by one instance is accepted by
/// another sharing the database.
#[tokio::test]
async fn tokens_expire_and_work_across_instances() {
    for db in databases().await {
        // Second-granular expiry: a 2 s token is valid for at least 1 s and gone after 2.1 s.
        let srv =
            TestServer::start(&db, ServerConfig::new().token_ttl(Duration::from_secs(2))).await;
        let other = TestServer::start(&db, ServerConfig::new()).await;
        let token = srv.token(&srv.app).await;
        let (s, _) = other
            .send("GET", "/api/v1/workspaces", Some(&token), None)
            .await;
        assert_eq!(s, 200, "token of instance 1 on instance 2");
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let (s, b) = srv
            .send("GET", "/api/v1/workspaces", Some(&token), None)
            .await;
        assert_eq!(s, 401);
        assert_eq!(
            b["errors"][0]["userPresentableMessage"],
            json!("Token expired")
        );
        let (s, _) = srv.send("GET", "/healthz", None, None).await;
        assert_eq!(s, 200);
        let (s, _) = srv.send("GET", "/readyz", None, None).await;
        assert_eq!(s, 200);
    }
}

/// Rotation re-wraps every data key: the server runs on with the new key, the old key no
/// longer opens anything, and a rerun is a no-op.
#[tokio::test]
async fn master_key_rotation_rewraps_data_keys() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let old = MasterKey::generate();
        let old_text = old.to_base64();
        let srv = TestServer::start_with_key(&db, config_for(&provider), old).await;
        let token = srv.token(&srv.app).await;
        let id = srv.create_stripe(&token).await;
        let old = MasterKey::from_base64(old_text.expose_secret()).expect("key");
        let new = MasterKey::generate();
        let new_text = new.to_base64();
        let n = srv
            .store
            .rotate_master_key(&old, &new)
            .await
            .expect("rotated");
        assert!(n >= 1);
        assert_eq!(
            srv.store
                .rotate_master_key(&old, &new)
                .await
                .expect("rerun"),
            0
        );
        let rotated = TestServer::start_with_key(
            &db,
            config_for(&provider),
            MasterKey::from_base64(new_text.expose_secret()).expect("key"),
        )
        .await;
        let path = format!("/api/v1/integrations/connectors/{id}/execute");
        let body = json!({"entity": "customers", "action": "list"}).to_string();
        let (s, b) = rotated
            .send("POST", &path, Some(&token), Some(body.clone()))
            .await;
        assert_eq!(s, 200, "{b}");
        let stale = TestServer::start_with_key(
            &db,
            config_for(&provider),
            MasterKey::from_base64(old_text.expose_secret()).expect("key"),
        )
        .await;
        let (s, b) = stale.send("POST", &path, Some(&token), Some(body)).await;
        assert_eq!(s, 500, "old key must not open rotated records: {b}");
        assert!(!b.to_string().contains(STRIPE_KEY));
    }
}
