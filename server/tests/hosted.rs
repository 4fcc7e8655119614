//! The server as users meet it: the runtime's real hosted client and the generated Stripe crate
//! against a real server on 127.0.0.1, the provider a loopback double. Every test runs on
//! SQLite and, when `AIRBYTE_SERVER_TEST_PG` is set, on PostgreSQL.

mod common;

use airbyte_agent_runtime::hosted::{CreateOptions, Platform};
use airbyte_agent_runtime::{Client, Error, ExecuteOptions};
use airbyte_agent_stripe::{StripeAuthConfig, StripeConnector, StripeReplicationConfig};
use common::*;
use serde_json::json;

/// Create through the generated `create_hosted`, then list through `StripeConnector::hosted`
/// (connector looked up by workspace + definition id): same records as the provider's.
#[tokio::test]
async fn generated_crate_creates_and_calls_through_the_server() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let ws = Platform::new(srv.auth(&srv.app))
            .expect("platform")
            .workspace("default");
        let created = StripeConnector::create_hosted(
            &ws,
            StripeAuthConfig::new(STRIPE_KEY),
            StripeReplicationConfig::new("acct_123"),
            CreateOptions::new().name("stripe for acme"),
        )
        .await
        .expect("created through the server");
        let page = created
            .customers()
            .list()
            .limit(2)
            .await
            .expect("typed list");
        assert_eq!(page.data.len(), 2, "{}", db.url);
        assert_eq!(page.data[0].id.as_deref(), Some("cus_1"));

        let looked_up = StripeConnector::hosted(srv.auth(&srv.app)).expect("hosted");
        let page = looked_up.customers().list().await.expect("lookup + list");
        assert_eq!(page.data[1].email.as_deref(), Some("user2@example.com"));

        let listed = ws.list_connectors().await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name.as_deref(), Some("stripe for acme"));
        // The provider saw the stored key; the client never had it.
        let seen = provider.received_requests().await.unwrap_or_default();
        assert!(seen.iter().all(|r| {
            r.headers
                .get("authorization")
                .is_some_and(|v| v.to_str().ok() == Some(&format!("Bearer {STRIPE_KEY}")))
        }));
    }
}

/// `Client::hosted` with field selection: the server applies `select_fields`/`exclude_fields`
/// itself (checked on the raw endpoint), and the client's result matches.
#[tokio::test]
async fn execute_honours_field_selection() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let token = srv.token(&srv.app).await;
        let id = srv.create_stripe(&token).await;
        let (s, b) = srv
            .send(
                "POST",
                &format!("/api/v1/integrations/connectors/{id}/execute"),
                Some(&token),
                Some(
                    json!({
                        "entity": "customers", "action": "list", "params": {"limit": 2},
                        "skip_truncation": true,
                        "select_fields": ["id", "address.city", "email"],
                        "exclude_fields": ["email"],
                    })
                    .to_string(),
                ),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        assert_eq!(
            b["result"][0],
            json!({"id": "cus_1", "address": {"city": "Paris"}})
        );

        let client = Client::hosted(stripe(), srv.auth(&srv.app))
            .build()
            .expect("client");
        let r = client
            .execute_with(
                "customers",
                "list",
                json!({"limit": 2}),
                &ExecuteOptions::new()
                    .select_fields(["id", "name"])
                    .intent("test"),
            )
            .await
            .expect("hosted execute");
        assert_eq!(
            r.data,
            json!([{"id": "cus_1", "name": "User 1"}, {"id": "cus_2", "name": "User 2"}])
        );
    }
}

/// Provider failures keep their meaning: a 404 is a 404 for the client, a 5xx is a 502; a
/// validation error is a 422 before anything is sent.
#[tokio::test]
async fn provider_errors_map_to_protocol_errors() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let token = srv.token(&srv.app).await;
        let id = srv.create_stripe(&token).await;
        let exec = |body: serde_json::Value| {
            let (srv, token, id) = (&srv, &token, &id);
            async move {
                srv.send(
                    "POST",
                    &format!("/api/v1/integrations/connectors/{id}/execute"),
                    Some(token),
                    Some(body.to_string()),
                )
                .await
            }
        };
        let (s, b) =
            exec(json!({"entity": "customers", "action": "get", "params": {"id": "cus_missing"}}))
                .await;
        assert_eq!(s, 404, "{b}");
        assert!(
            b["errors"][0]["userPresentableMessage"]
                .as_str()
                .unwrap_or("")
                .contains("No such customer")
        );
        let (s, _) =
            exec(json!({"entity": "customers", "action": "get", "params": {"id": "cus_boom"}}))
                .await;
        assert_eq!(s, 502);
        let (s, b) = exec(json!({"entity": "nope", "action": "list"})).await;
        assert_eq!(s, 422, "{b}");
        let (s, _) =
            exec(json!({"entity": "customers", "action": "list", "params": {"limit": "x"}})).await;
        assert_eq!(s, 422);
        let (s, _) = exec(json!({"entity": "customers", "action": "list", "params": [1]})).await;
        assert_eq!(s, 422);
        let (s, _) = exec(json!({"entity": "customers", "action": "context_store_search"})).await;
        assert_eq!(s, 422);
        let (s, _) =
            exec(json!({"entity": "customers", "action": "list", "intent": "x".repeat(513)})).await;
        assert_eq!(s, 422);

        let client = Client::hosted(stripe(), srv.auth(&srv.app))
            .connector_id(id.clone())
            .build()
            .expect("client");
        let e = client
            .execute("customers", "get", json!({"id": "cus_missing"}))
            .await
            .expect_err("404 through the hosted client");
        assert_eq!(e.status(), Some(404), "{e}");
        assert!(!matches!(e, Error::Auth(_)));
    }
}

/// Workspaces: created, listed with cursor pagination (raw and through `Platform`), 409 on a
/// duplicate.
#[tokio::test]
async fn workspaces_paginate_and_refuse_duplicates() {
    for db in databases().await {
        let srv = TestServer::start(&db, Default::default()).await;
        let platform = Platform::new(srv.auth(&srv.app)).expect("platform");
        for name in ["alpha", "beta", "gamma", "delta"] {
            platform.create_workspace(name).await.expect("created");
        }
        let dup = platform
            .create_workspace("beta")
            .await
            .expect_err("duplicate");
        assert_eq!(dup.status(), Some(409));
        let token = srv.token(&srv.app).await;
        let mut names = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = match &cursor {
                Some(c) => format!("/api/v1/workspaces?limit=2&cursor={c}"),
                None => "/api/v1/workspaces?limit=2".to_string(),
            };
            let (s, b) = srv.send("GET", &q, Some(&token), None).await;
            assert_eq!(s, 200, "{b}");
            assert!(b["data"].as_array().map_or(0, Vec::len) <= 2);
            names.extend(
                b["data"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|w| w["name"].as_str().map(String::from)),
            );
            match b["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(names, ["alpha", "beta", "default", "delta", "gamma"]);
        let all = platform.list_workspaces().await.expect("all pages");
        assert_eq!(all.len(), 5);
        let found = platform.find_workspace("gamma").await.expect("find");
        assert_eq!(found.map(|w| w.name), Some("gamma".to_string()));
        let (s, _) = srv
            .send(
                "GET",
                "/api/v1/workspaces?cursor=%25%25",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(s, 400);
    }
}

/// Deletion through the platform client; the connector is gone for lookup and execute.
#[tokio::test]
async fn delete_removes_the_connector() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let token = srv.token(&srv.app).await;
        let id = srv.create_stripe(&token).await;
        let ws = Platform::new(srv.auth(&srv.app))
            .expect("platform")
            .workspace("default");
        ws.delete_connector(&id).await.expect("deleted");
        let (s, _) = srv
            .send(
                "POST",
                &format!("/api/v1/integrations/connectors/{id}/execute"),
                Some(&token),
                Some(json!({"entity": "customers", "action": "list"}).to_string()),
            )
            .await;
        assert_eq!(s, 404);
        assert!(ws.list_connectors().await.expect("list").is_empty());
        let again = ws.delete_connector(&id).await.expect_err("second delete");
        assert_eq!(again.status(), Some(404));
    }
}

/// Concurrent creates and executes (the SQLite pool is shared by every request): all succeed,
/// and two connectors of one definition make the lookup ambiguous, as on Airbyte.
#[tokio::test]
async fn concurrent_calls_and_ambiguous_lookup() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let token = srv.token(&srv.app).await;
        let ids = futures_join_all((0..2).map(|_| srv.create_stripe(&token))).await;
        assert_eq!(ids.len(), 2);
        let calls = (0..24).map(|i| {
            let path = format!("/api/v1/integrations/connectors/{}/execute", ids[i % 2]);
            let (srv, token) = (&srv, &token);
            async move {
                srv.send(
                    "POST",
                    &path,
                    Some(token),
                    Some(json!({"entity": "customers", "action": "list"}).to_string()),
                )
                .await
                .0
            }
        });
        let statuses = futures_join_all(calls).await;
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        let lookup = Client::hosted(stripe(), srv.auth(&srv.app))
            .build()
            .expect("client");
        let e = lookup
            .execute("customers", "list", json!({}))
            .await
            .expect_err("ambiguous");
        assert!(matches!(e, Error::Hosted(_)), "{e}");
        assert!(
            e.to_string().contains(&ids[0])
                || e.to_string().to_lowercase().contains("ambiguous")
                || e.to_string().contains("several"),
            "{e}"
        );
    }
}

/// Every future to completion, concurrently, in order (no extra dependency for a join).
async fn futures_join_all<F: std::future::Future>(
    futs: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}
