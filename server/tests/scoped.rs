//! Workspace-scoped tokens and source templates. A scoped token for workspace A never reads,
//! executes, lists, creates in or deletes from workspace B (B's objects look absent), never
//! does organization-wide work, and dies after its 20 minutes; organizations never see each
//! other's templates or workspaces. Templates register idempotently. SQLite always;
//! PostgreSQL when `AIRBYTE_SERVER_TEST_PG` is set.

mod common;

use std::time::Duration;

use airbyte_agent_runtime::hosted::{CreateOptions, Platform, Region};
use airbyte_agent_runtime::{Credentials, Error, ExposeSecret};
use airbyte_agent_stripe::StripeAuthConfig;
use common::*;
use serde_json::{Value, json};

async fn create_in(srv: &TestServer, token: &str, ws: &str) -> (u16, Value) {
    srv.create_stripe_in(token, ws, None).await
}

async fn scoped(srv: &TestServer, app_token: &str, ws: &str, region: Option<&str>) -> (u16, Value) {
    let mut body = json!({"workspace_name": ws});
    if let Some(r) = region {
        body["region_id"] = json!(r);
    }
    srv.send(
        "POST",
        "/api/v1/embedded/scoped-token",
        Some(app_token),
        Some(body.to_string()),
    )
    .await
}

const EU: &str = "b9e48d61-f082-4a14-a8d0-799a907938cb";

/// Everything a scoped token for `wa` tries against `wb` fails as "not found"; its own
/// workspace works; organization-wide operations are refused.
#[tokio::test]
async fn scoped_token_never_reaches_another_workspace() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let app = srv.token(&srv.app).await;
        for ws in ["wa", "wb"] {
            let (s, b) = srv
                .send(
                    "POST",
                    "/api/v1/workspaces",
                    Some(&app),
                    Some(json!({"name": ws}).to_string()),
                )
                .await;
            assert_eq!(s, 201, "{b}");
        }
        let (_, a) = create_in(&srv, &app, "wa").await;
        let (_, b) = create_in(&srv, &app, "wb").await;
        let (id_a, id_b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());

        let (s, t) = scoped(&srv, &app, "wa", Some(EU)).await;
        assert_eq!(s, 200, "{t}");
        assert_eq!(t["region"], json!("EU"));
        assert_eq!(t["expires_in"], json!(1200));
        assert_eq!(t["token"], t["access_token"]);
        let tok = t["token"].as_str().unwrap().to_string();
        let (_, us) = scoped(&srv, &app, "wa", None).await;
        assert_eq!(us["region"], json!("US"), "US is the default");

        let exec = |id: &str| format!("/api/v1/integrations/connectors/{id}/execute");
        let body = json!({"entity": "customers", "action": "list"}).to_string();
        // Its own workspace works.
        let (s, r) = srv
            .send("POST", &exec(id_a), Some(&tok), Some(body.clone()))
            .await;
        assert_eq!(s, 200, "{r}");
        let (s, l) = srv
            .send(
                "GET",
                "/api/v1/integrations/connectors?workspace_name=wa",
                Some(&tok),
                None,
            )
            .await;
        assert_eq!((s, l["data"].as_array().map(Vec::len)), (200, Some(1)));
        let (s, w) = srv
            .send("GET", "/api/v1/workspaces", Some(&tok), None)
            .await;
        assert_eq!(s, 200);
        assert_eq!(w["data"].as_array().map(Vec::len), Some(1), "{w}");
        assert_eq!(w["data"][0]["name"], json!("wa"));

        // Workspace B is invisible.
        let (s, _) = srv
            .send("POST", &exec(id_b), Some(&tok), Some(body.clone()))
            .await;
        assert_eq!(s, 404, "execute in B");
        for q in [
            "workspace_name=wb",
            "customer_name=wb",
            "external_user_id=wb",
            "workspace_name=default",
        ] {
            let (s, _) = srv
                .send(
                    "GET",
                    &format!("/api/v1/integrations/connectors?{q}"),
                    Some(&tok),
                    None,
                )
                .await;
            assert_eq!(s, 404, "list {q}");
        }
        let (s, w) = srv
            .send(
                "GET",
                "/api/v1/workspaces?name_contains=wb",
                Some(&tok),
                None,
            )
            .await;
        assert_eq!((s, w["data"].clone()), (200, json!([])), "B by name");
        let (s, _) = create_in(&srv, &tok, "wb").await;
        assert_eq!(s, 404, "create in B");
        let (s, _) = srv
            .send(
                "DELETE",
                &format!("/api/v1/integrations/connectors/{id_b}"),
                Some(&tok),
                None,
            )
            .await;
        assert_eq!(s, 404, "delete in B");

        // Organization-wide operations need the application token.
        let (s, _) = srv
            .send(
                "POST",
                "/api/v1/workspaces",
                Some(&tok),
                Some(json!({"name": "wc"}).to_string()),
            )
            .await;
        assert_eq!(s, 403, "create a workspace");
        let (s, _) = scoped(&srv, &tok, "wb", None).await;
        assert_eq!(s, 403, "mint a scoped token for B");
        let (s, _) = srv
            .send(
                "POST",
                "/api/v1/integrations/templates/sources",
                Some(&tok),
                Some(json!({"actor_definition_id": stripe().definition_id, "name": "t", "mode": "DIRECT"}).to_string()),
            )
            .await;
        assert_eq!(s, 403, "register a template");

        // B's connector is untouched and still works for the application token.
        let (s, _) = srv.send("POST", &exec(id_b), Some(&app), Some(body)).await;
        assert_eq!(s, 200);

        // Unknown regions and workspaces.
        let (s, e) = scoped(&srv, &app, "wa", Some("mars")).await;
        assert_eq!(s, 422);
        assert!(
            e.to_string().contains("body.region_id: unknown region"),
            "{e}"
        );
        let (s, _) = scoped(&srv, &app, "nope", None).await;
        assert_eq!(s, 404);
    }
}

/// A scoped token of organization B sees nothing of organization A, whose workspace names
/// are the same; the runtime's `Platform::scoped_token` reads the real server's answer.
#[tokio::test]
async fn scoped_tokens_of_other_organizations_see_nothing() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let b = srv.second_organization().await;
        let app_a = srv.token(&srv.app).await;
        let (_, a) = create_in(&srv, &app_a, "default").await;
        let id_a = a["id"].as_str().unwrap();

        let platform_b = Platform::new(srv.auth(&b)).expect("platform");
        let tb = platform_b
            .scoped_token("default", Region::Eu)
            .await
            .expect("scoped");
        assert_eq!(tb.expires_in, Some(1200));
        let tb = tb.token.expose_secret().to_string();
        let (s, _) = srv
            .send(
                "POST",
                &format!("/api/v1/integrations/connectors/{id_a}/execute"),
                Some(&tb),
                Some(json!({"entity": "customers", "action": "list"}).to_string()),
            )
            .await;
        assert_eq!(s, 404, "B's scoped token executes A's connector");
        let (s, l) = srv
            .send(
                "GET",
                "/api/v1/integrations/connectors?workspace_name=default",
                Some(&tb),
                None,
            )
            .await;
        assert_eq!(
            (s, l["data"].clone()),
            (200, json!([])),
            "B's own default is empty"
        );
        let (s, _) = srv
            .send_text(
                "GET",
                "/api/v1/integrations/connectors?workspace_name=default",
                Some(&tb),
                &[("x-organization-id", srv.app.organization_id.as_str())],
                None,
            )
            .await;
        assert_eq!(s, 403, "B's scoped token claiming organization A");
        let e = platform_b
            .scoped_token("no-such", Region::Us)
            .await
            .expect_err("unknown workspace");
        assert!(matches!(e, Error::NotFound(_)), "{e}");
    }
}

/// Scoped tokens expire like application tokens (the TTL is configurable for the test).
#[tokio::test]
async fn scoped_tokens_expire() {
    let db = Database::sqlite();
    let provider = stripe_provider().await;
    let srv = TestServer::start(
        &db,
        config_for(&provider).scoped_token_ttl(Duration::from_secs(1)),
    )
    .await;
    let app = srv.token(&srv.app).await;
    let (_, t) = scoped(&srv, &app, "default", None).await;
    let tok = t["token"].as_str().unwrap().to_string();
    let (s, _) = srv
        .send("GET", "/api/v1/workspaces", Some(&tok), None)
        .await;
    assert_eq!(s, 200);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (s, e) = srv
        .send("GET", "/api/v1/workspaces", Some(&tok), None)
        .await;
    assert_eq!(s, 401, "{e}");
}

/// Registration through the runtime is idempotent (also when ten run at once), other
/// settings under a taken name are a 409, a template's defaults and name reach connectors
/// made from it, and another organization neither sees nor uses it.
#[tokio::test]
async fn templates_register_idempotently_and_stay_in_their_organization() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let platform = Platform::new(srv.auth(&srv.app)).expect("platform");
        let mut cfg = serde_json::Map::new();
        cfg.insert("account_id".into(), json!("acct_tpl"));
        let first = platform
            .register_source_template(stripe().definition_id, "Stripe (agents)", cfg.clone())
            .await
            .expect("registered");
        assert_eq!(first.mode.as_deref(), Some("DIRECT"));
        let mut tasks = Vec::new();
        let token = srv.token(&srv.app).await;
        for _ in 0..10 {
            let (token, url) = (token.clone(), srv.url.clone());
            tasks.push(tokio::spawn(async move {
                send_json(
                    &url,
                    "POST",
                    "/api/v1/integrations/templates/sources",
                    Some(&token),
                    Some(json!({"actor_definition_id": stripe().definition_id, "name": "Stripe (agents)",
                                "original_source_template_id": "", "mode": "DIRECT",
                                "partial_default_config": {"account_id": "acct_tpl"}}).to_string()),
                )
                .await
            }));
        }
        for t in tasks {
            let (s, b) = t.await.expect("task");
            assert_eq!(s, 200, "{b}");
            assert_eq!(b["id"], json!(first.id), "same template");
        }
        let all = platform.list_source_templates().await.expect("list");
        assert_eq!(all.len(), 1);
        let (s, e) = srv
            .send(
                "POST",
                "/api/v1/integrations/templates/sources",
                Some(&token),
                Some(json!({"actor_definition_id": stripe().definition_id, "name": "Stripe (agents)",
                            "mode": "DIRECT", "partial_default_config": {"account_id": "other"}}).to_string()),
            )
            .await;
        assert_eq!(s, 409, "{e}");
        assert!(e.to_string().contains("already exists"));
        let (s, e) = srv
            .send(
                "POST",
                "/api/v1/integrations/templates/sources",
                Some(&token),
                Some(
                    json!({"actor_definition_id": stripe().definition_id, "name": "keyed",
                            "mode": "DIRECT", "partial_default_config": {"api_key": "sk_in_clear"}})
                    .to_string(),
                ),
            )
            .await;
        assert_eq!(s, 422, "a secret in an unsealed template: {e}");

        let creds: Credentials = StripeAuthConfig::new(STRIPE_KEY).into();
        platform
            .workspace("default")
            .create_hosted(
                stripe(),
                &creds,
                CreateOptions::new().source_template_id(first.id.clone()),
            )
            .await
            .expect("created from the template");
        let listed = platform
            .workspace("default")
            .list_connectors()
            .await
            .expect("list");
        assert_eq!(listed[0].template_name(), Some("Stripe (agents)"));
        let org = srv.app.organization_id.clone();
        let rec = srv
            .store
            .connector(&org, &listed[0].id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            rec.replication_config.as_deref(),
            Some(r#"{"account_id":"acct_tpl"}"#)
        );

        let b = srv.second_organization().await;
        let platform_b = Platform::new(srv.auth(&b)).expect("platform");
        assert!(
            platform_b
                .list_source_templates()
                .await
                .expect("list")
                .is_empty()
        );
        let e = platform_b
            .workspace("default")
            .create_hosted(
                stripe(),
                &creds,
                CreateOptions::new().source_template_id(first.id.clone()),
            )
            .await
            .expect_err("A's template for B");
        assert!(e.to_string().contains("unknown source template"), "{e}");
    }
}
