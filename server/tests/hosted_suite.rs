//! The core of the hosted-mode suite (`tests/tests/hosted/`, `tests/tests/check.rs`), which
//! runs against the double of Airbyte's API, ported to the real server: the runtime's hosted
//! client, platform client and the generated Stripe crate against `airbyte-agent-server` on
//! 127.0.0.1 (SQLite always; PostgreSQL when `AIRBYTE_SERVER_TEST_PG` is set). Where the
//! double counts requests, these tests count what the server stored instead.
//!
//! Ported: tokens (shared by 200 concurrent calls, expiry mid-run, wrong secret, wrong
//! organization), connectors (unknown workspace, lookup not found / ambiguous / by id /
//! by name, typed `create_hosted` with replication settings, discriminators, list, delete),
//! execute (typed and dynamic results equal to direct mode, cursor pagination, execute
//! options, intent limit, provider errors typed), workspaces with cursor pagination, checks.
//! Elsewhere: OAuth consent and app overrides (`oauth_flow.rs`), scoped tokens and templates
//! (`scoped.rs`), the embedded core (`embedded.rs`), workflows and automations (`workflows.rs`:
//! CRUD, fan-out, typed errors; `workflows_isolation.rs`: organizations, scoped tokens, bad
//! input). `execute/prepare` is refused with a clear 422 (no secret manager to point to; last
//! test here). Not ported (the server lacks the endpoint or the double's fault injection):
//! embedded tags, customization and discovery, context-store search, injected 429/503 retries
//! (also the workflow suite's injected 500s and its in-flight count of the fan-out), ambiguous
//! workspace names (names are unique here), required replication keys (not in the
//! descriptors), the `secret_id` OAuth callback style.

mod common;

use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, CreateOptions, HostedError, Platform};
use airbyte_agent_runtime::{
    CheckStatus, Client, Credentials, Error, ExecuteOptions, MAX_INTENT_CHARS, Params,
};
use airbyte_agent_server::config::ServerConfig;
use airbyte_agent_stripe::{
    Customer, CustomersListMeta, StripeAuthConfig, StripeConnector, StripeReplicationConfig,
};
use common::*;
use futures_util::StreamExt as _;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Stripe with two pages of customers (`starting_after`) and one 404.
async fn paged_provider() -> MockServer {
    let server = MockServer::start().await;
    let auth = format!("Bearer {STRIPE_KEY}");
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(header("authorization", auth.as_str()))
        .and(query_param_is_missing("starting_after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "url": "/v1/customers", "has_more": true,
            "data": [customer(1), customer(2), customer(3)]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(header("authorization", auth.as_str()))
        .and(query_param("starting_after", "cus_3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "url": "/v1/customers", "has_more": false,
            "data": [customer(4), customer(5)]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_missing"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"message": "No such customer: 'cus_missing'"}
        })))
        .mount(&server)
        .await;
    server
}

fn params(name: &str, v: i64) -> Params {
    let mut p = Params::new();
    p.insert(name.into(), json!(v));
    p
}

/// Access tokens the server stored (SHA-256 digests, one a line).
async fn stored_tokens(srv: &TestServer) -> usize {
    srv.store
        .debug_dump("access_tokens")
        .await
        .expect("dump")
        .lines()
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_hosted_calls_share_one_token() {
    for db in databases().await {
        let provider = paged_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let t = srv.token(&srv.app).await;
        srv.create_stripe(&t).await;
        let before = stored_tokens(&srv).await;
        let clients: Vec<Client> = (0..4)
            .map(|_| {
                Client::hosted(stripe(), srv.auth(&srv.app))
                    .build()
                    .expect("client")
            })
            .collect();
        let mut tasks = Vec::new();
        for i in 0..200 {
            let c = clients[i % 4].clone();
            tasks.push(tokio::spawn(async move {
                c.execute("customers", "list", json!({"limit": 2})).await
            }));
        }
        for t in tasks {
            let r = t.await.expect("task").expect("call succeeds");
            assert_eq!(r.data.as_array().map(Vec::len), Some(3));
        }
        assert_eq!(
            stored_tokens(&srv).await,
            before + 1,
            "one token for the process"
        );
        assert_eq!(clients[0].hosted_token_fetches(), Some(1));
    }
}

#[tokio::test]
async fn token_expiry_mid_run_and_wrong_credentials() {
    for db in databases().await {
        let provider = paged_provider().await;
        let config = config_for(&provider).token_ttl(std::time::Duration::from_secs(2));
        let srv = TestServer::start(&db, config).await;
        let t = srv.token(&srv.app).await;
        srv.create_stripe(&t).await;
        let client = Client::hosted(stripe(), srv.auth(&srv.app))
            .build()
            .expect("client");
        client
            .execute("customers", "list", json!({"limit": 1}))
            .await
            .expect("first");
        tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
        client
            .execute("customers", "list", json!({"limit": 1}))
            .await
            .expect("after the token expired: a new one");
        assert!(client.hosted_token_fetches() >= Some(2));

        let wrong = "wrong-secret-value-123";
        let bad = Client::hosted(
            stripe(),
            AirbyteAuthConfig::new(srv.app.client_id.clone(), wrong.to_string())
                .base_url(srv.url.clone()),
        )
        .build()
        .expect("client");
        let e = bad
            .execute("customers", "list", json!({}))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Auth(_)), "{e:?}");
        assert_eq!(e.status(), Some(401));
        let shown = format!("{e} / {e:?}");
        assert!(shown.contains("invalid client credentials"), "{shown}");
        assert!(!shown.contains(wrong), "secret echoed: {shown}");

        let e = Platform::new(srv.auth(&srv.app).organization_id("org-not-mine"))
            .expect("platform")
            .list_workspaces()
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Auth(_)), "{e:?}");
    }
}

#[tokio::test]
async fn connector_lookup_not_found_ambiguous_by_id_and_by_name() {
    for db in databases().await {
        let provider = paged_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let e = Client::hosted(stripe(), srv.auth(&srv.app).workspace_name("no-such-ws"))
            .build()
            .expect("client")
            .execute("customers", "list", json!({}))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound(_)), "{e:?}");
        assert!(
            e.to_string().contains("Workspace 'no-such-ws' not found"),
            "{e}"
        );

        let e = Client::hosted(stripe(), srv.auth(&srv.app))
            .build()
            .expect("client")
            .execute("customers", "list", json!({}))
            .await
            .unwrap_err();
        match &e {
            Error::Hosted(HostedError::ConnectorNotFound {
                connector,
                workspace_name,
                definition_id,
            }) => {
                assert_eq!(
                    (connector.as_str(), workspace_name.as_str()),
                    ("stripe", "default")
                );
                assert_eq!(definition_id, stripe().definition_id);
            }
            other => panic!("unexpected {other:?}"),
        }

        let ws = Platform::new(srv.auth(&srv.app))
            .expect("platform")
            .default_workspace();
        let creds: Credentials = StripeAuthConfig::new(STRIPE_KEY).into();
        let mut ids = Vec::new();
        for name in ["billing-eu", "billing-us"] {
            let c = ws
                .create_hosted(stripe(), &creds, CreateOptions::new().name(name))
                .await
                .expect("created");
            ids.push(c.hosted_connector_id().await.expect("id"));
        }
        let e = Client::hosted(stripe(), srv.auth(&srv.app))
            .build()
            .expect("client")
            .hosted_connector_id()
            .await
            .unwrap_err();
        match &e {
            Error::Hosted(HostedError::AmbiguousConnector { ids: found, .. }) => {
                assert_eq!(found, &ids, "oldest first");
            }
            other => panic!("unexpected {other:?}"),
        }
        let by_id = Client::hosted(stripe(), srv.auth(&srv.app).connector_id(ids[0].clone()))
            .build()
            .expect("client");
        by_id
            .execute("customers", "list", json!({"limit": 1}))
            .await
            .expect("by id");
        let by_name = ws
            .connector_by_name(stripe(), "billing-us")
            .await
            .expect("by name");
        assert_eq!(by_name.hosted_connector_id().await.expect("id"), ids[1]);
        by_name
            .execute("customers", "list", json!({"limit": 1}))
            .await
            .expect("call");
        let e = ws.connector_by_name(stripe(), "nope").await.unwrap_err();
        assert!(
            matches!(e, Error::Hosted(HostedError::ConnectorNotFound { .. })),
            "{e:?}"
        );
    }
}

#[tokio::test]
async fn create_list_and_delete_connectors() {
    for db in databases().await {
        let provider = paged_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let platform = Platform::new(srv.auth(&srv.app)).expect("platform");
        let ws = platform.workspace("default");
        let connector = StripeConnector::create_hosted(
            &ws,
            StripeAuthConfig::new(STRIPE_KEY),
            StripeReplicationConfig::new("acct_123"),
            CreateOptions::new().name("stripe for acme"),
        )
        .await
        .expect("created");
        let page = connector.customers().list().await.expect("typed call");
        assert_eq!(page.data[0].id.as_deref(), Some("cus_1"));
        let second = StripeConnector::create_hosted(
            &ws,
            StripeAuthConfig::new(STRIPE_KEY),
            StripeReplicationConfig::new("acct_456"),
            CreateOptions::new().replication("extra", true),
        )
        .await
        .expect("second");
        let id2 = second.client().hosted_connector_id().await.expect("id");
        let org = srv.app.organization_id.clone();
        let rec = srv
            .store
            .connector(&org, &id2)
            .await
            .expect("read")
            .expect("stored");
        let stored: Value =
            serde_json::from_str(rec.replication_config.as_deref().unwrap_or("null"))
                .expect("json");
        assert_eq!(stored, json!({"extra": true, "account_id": "acct_456"}));
        assert_eq!(rec.name, "stripe - default");

        // A discriminator in typed credentials is dropped by the client; sent raw, 422.
        let mut with_disc = Credentials::new("bearerAuth").set("api_key", STRIPE_KEY.to_string());
        with_disc.insert("auth_type", "Bearer".to_string());
        ws.create_hosted(stripe(), &with_disc, CreateOptions::new().name("third"))
            .await
            .expect("discriminator stripped");
        let mut raw = serde_json::Map::new();
        raw.insert("api_key".into(), json!("k"));
        raw.insert("auth_type".into(), json!("Bearer"));
        let e = ws
            .create_connector_json(stripe(), raw, CreateOptions::new())
            .await
            .unwrap_err();
        assert!(
            matches!(e, Error::Validation(ref d) if d.status == 422),
            "{e:?}"
        );
        assert!(e.to_string().contains("auth_type"), "{e}");

        let listed = ws.list_connectors().await.expect("list");
        assert_eq!(listed.len(), 3);
        assert_eq!(listed[0].name.as_deref(), Some("stripe for acme"));
        assert_eq!(listed[0].template_name(), Some(stripe().title));
        ws.delete_connector(&listed[0].id).await.expect("delete");
        assert_eq!(ws.list_connectors().await.expect("list").len(), 2);
        let e = ws.delete_connector(&listed[0].id).await.unwrap_err();
        assert!(matches!(e, Error::NotFound(_)), "{e:?}");
        let e = Client::hosted(
            stripe(),
            srv.auth(&srv.app).connector_id(listed[0].id.clone()),
        )
        .build()
        .expect("client")
        .execute("customers", "list", json!({}))
        .await
        .unwrap_err();
        assert!(matches!(e, Error::NotFound(_)), "deleted: {e:?}");
    }
}

#[tokio::test]
async fn hosted_results_equal_direct_results() {
    for db in databases().await {
        let provider = paged_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let t = srv.token(&srv.app).await;
        srv.create_stripe(&t).await;
        let op = stripe().operation("customers", "list").expect("op");
        let direct = StripeConnector::builder(StripeAuthConfig::new(STRIPE_KEY))
            .base_url(provider.uri())
            .build()
            .expect("direct");
        let hosted = Client::hosted(stripe(), srv.auth(&srv.app))
            .build()
            .expect("hosted");
        assert!(hosted.is_hosted());
        let d = direct
            .customers()
            .list()
            .limit(3)
            .await
            .expect("direct list");
        let h = hosted
            .call_list::<Customer, CustomersListMeta>(op, params("limit", 3))
            .await
            .expect("hosted list");
        assert_eq!(
            serde_json::to_value(&d.data).ok(),
            serde_json::to_value(&h.data).ok()
        );
        assert_eq!(d.meta.has_more, h.meta.has_more);
        let typed = StripeConnector::hosted(srv.auth(&srv.app)).expect("typed hosted");
        let th = typed
            .customers()
            .list()
            .limit(3)
            .await
            .expect("typed hosted list");
        assert_eq!(
            serde_json::to_value(&d.data).ok(),
            serde_json::to_value(&th.data).ok()
        );

        let dd = direct
            .execute("customers", "list", json!({"limit": 3}))
            .await
            .expect("d");
        let hd = hosted
            .execute("customers", "list", json!({"limit": 3}))
            .await
            .expect("h");
        assert_eq!(dd, hd);

        let all_d: Vec<Customer> = direct
            .client()
            .pages::<Customer, CustomersListMeta>(op, params("limit", 3))
            .records()
            .map(|r| r.expect("record"))
            .collect()
            .await;
        let all_h: Vec<Customer> = hosted
            .pages::<Customer, CustomersListMeta>(op, params("limit", 3))
            .records()
            .map(|r| r.expect("record"))
            .collect()
            .await;
        assert_eq!(all_d.len(), 5, "both pages");
        assert_eq!(
            serde_json::to_value(&all_d).ok(),
            serde_json::to_value(&all_h).ok()
        );

        // Options: the server applies the selection; the same as direct mode.
        let options = ExecuteOptions::new()
            .select_fields(["id", "email", "address.city"])
            .exclude_fields(["email"])
            .intent("list customers for a churn report");
        let h = hosted
            .execute_with("customers", "list", json!({"limit": 2}), &options)
            .await
            .expect("hosted");
        let d = direct
            .client()
            .execute_with("customers", "list", json!({"limit": 2}), &options)
            .await
            .expect("direct");
        assert_eq!(h.data, d.data);
        assert_eq!(h.meta, d.meta);
        let e = hosted
            .execute_with(
                "customers",
                "list",
                json!({}),
                &ExecuteOptions::new().intent("x".repeat(MAX_INTENT_CHARS + 1)),
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("at most 512"), "{e}");

        // Provider and validation errors come back typed.
        let e = hosted
            .execute("customers", "get", json!({"id": "cus_missing"}))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::NotFound(_)), "{e:?}");
        assert!(e.to_string().contains("No such customer"), "{e}");
        let e = hosted
            .execute("customers", "list", json!({"limit": "many"}))
            .await
            .unwrap_err();
        assert!(e.is_validation(), "{e:?}");
    }
}

#[tokio::test]
async fn workspaces_follow_cursor_pagination() {
    for db in databases().await {
        let provider = paged_provider().await;
        let srv = TestServer::start(
            &db,
            ServerConfig::new().provider_base_url(stripe().definition_id, provider.uri()),
        )
        .await;
        let other = srv.second_organization().await;
        let platform = Platform::new(srv.auth(&srv.app)).expect("platform");
        for i in 0..24 {
            platform
                .create_workspace(&format!("w{i:02}"))
                .await
                .expect("create");
        }
        let names: Vec<String> = platform
            .list_workspaces()
            .await
            .expect("list")
            .into_iter()
            .map(|w| w.name)
            .collect();
        assert_eq!(names.len(), 25, "two pages of 20: {names:?}");
        assert_eq!(names[0], "default");
        assert_eq!(
            platform
                .find_workspace("w17")
                .await
                .expect("find")
                .map(|w| w.organization_id),
            Some(Some(srv.app.organization_id.clone()))
        );
        let e = platform.create_workspace("w03").await.unwrap_err();
        assert!(e.to_string().contains("already exists"), "{e}");
        let theirs = Platform::new(srv.auth(&other)).expect("platform");
        assert_eq!(theirs.list_workspaces().await.expect("list").len(), 1);
        assert!(theirs.find_workspace("w17").await.expect("find").is_none());
    }
}

#[tokio::test]
async fn hosted_checks_run_through_execute() {
    for db in databases().await {
        let provider = paged_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let t = srv.token(&srv.app).await;
        srv.create_stripe(&t).await;
        let report = Client::hosted(stripe(), srv.auth(&srv.app))
            .build()
            .expect("client")
            .check()
            .await;
        assert!(report.is_ok(), "{report:?}");
        assert_eq!(report.action.as_deref(), Some("list"));
        let seen = provider.received_requests().await.unwrap_or_default();
        assert!(
            seen.iter().any(|r| r.url.path() == "/v1/customers"),
            "ran at the provider"
        );

        let bad = Client::hosted(
            stripe(),
            AirbyteAuthConfig::new(srv.app.client_id.clone(), "wrong-secret".to_string())
                .base_url(srv.url.clone()),
        )
        .build()
        .expect("client");
        let report = bad.check().await;
        assert!(
            matches!(report.status, CheckStatus::AuthFailed(_)),
            "{report:?}"
        );
        assert!(!report.status.to_string().contains("wrong-secret"));
        assert!(!format!("{report:?}").contains(srv.app.client_secret.expose_secret()));
    }
}

/// `execute/prepare` would hand out secret-manager coordinates this server does not have: a
/// clear 422 for a visible connector (no credential in it), the execute path's 404 and body
/// checks otherwise.
#[tokio::test]
async fn execute_prepare_is_refused_clearly() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let t = srv.token(&srv.app).await;
        let id = srv.create_stripe(&t).await;
        let path = format!("/api/v1/integrations/connectors/{id}/execute/prepare");
        let body = json!({"entity": "customers", "action": "list", "params": {"limit": 1}});
        let (s, b) = srv
            .send("POST", &path, Some(&t), Some(body.to_string()))
            .await;
        assert_eq!(s, 422, "{b}");
        let m = b["errors"][0]["userPresentableMessage"]
            .as_str()
            .unwrap_or("");
        assert!(m.contains("execute/prepare is not supported"), "{b}");
        assert!(!b.to_string().contains(STRIPE_KEY));
        let other = srv.second_organization().await;
        let theirs = srv.token(&other).await;
        let (s, b) = srv
            .send("POST", &path, Some(&theirs), Some(body.to_string()))
            .await;
        assert_eq!(s, 404, "{b}");
        let (s, b) = srv
            .send(
                "POST",
                &path,
                Some(&t),
                Some(json!({"entity": "customers", "action": "list", "extra": 1}).to_string()),
            )
            .await;
        assert_eq!(s, 422, "{b}");
        assert!(b.to_string().contains("unknown field"), "{b}");
        let (s, _) = srv.send("POST", &path, Some(&t), Some("{".into())).await;
        assert_eq!(s, 400);
        assert!(
            provider
                .received_requests()
                .await
                .unwrap_or_default()
                .is_empty()
        );
    }
}
