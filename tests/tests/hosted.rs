//! Hosted mode end to end: the runtime's hosted client and platform client against the local
//! double of Airbyte's API, which executes through the direct-mode runtime against a Stripe-shaped
//! provider double.

use std::time::{Duration, Instant};

use airbyte_agent_runtime::hosted::{
    AirbyteAuthConfig, CreateOptions, HostedError, OAuthOptions, Platform, Region, SearchOptions,
};
use airbyte_agent_runtime::{
    Client, Credentials, Error, ExecuteOptions, MAX_INTENT_CHARS, Params, RetryPolicy,
};
use airbyte_agent_stripe::{Customer, CustomersListMeta, StripeAuthConfig, StripeConnector};
use airbyte_agent_tests::airbyte_double::{
    Account, AirbyteDouble, CallbackStyle, Definition, DoubleConfig,
};
use futures_util::StreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A client id unique to each double of this process: the token cache is process-wide and keyed
/// by base URL and client id, and a later double may get the port of an earlier one.
fn fresh_client_id() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!("app-client-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}
const SECRET: &str = "airbyte-app-secret-do-not-leak";
const ORG: &str = "org-1111";
const STRIPE_KEY: &str = "sk_test_provider_key";

fn customer(i: u32) -> Value {
    json!({
        "id": format!("cus_{i}"),
        "object": "customer",
        "email": format!("user{i}@example.com"),
        "created": 1_700_000_000 + i,
        "balance": i as i64 * -10,
        "metadata": {"n": i.to_string()},
        "unknown_field": {"kept": true}
    })
}

/// A Stripe-shaped provider: two pages of customers (`starting_after`), bearer auth.
async fn stripe_provider(key: &str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(header("authorization", format!("Bearer {key}").as_str()))
        .and(query_param_is_missing("starting_after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "url": "/v1/customers", "has_more": true,
            "data": [customer(1), customer(2), customer(3)]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(header("authorization", format!("Bearer {key}").as_str()))
        .and(query_param("starting_after", "cus_3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "url": "/v1/customers", "has_more": false,
            "data": [customer(4), customer(5)]
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/customers"))
        .respond_with(ResponseTemplate::new(200).set_body_json(customer(9)))
        .mount(&server)
        .await;
    server
}

fn stripe() -> &'static airbyte_agent_runtime::ConnectorDescriptor {
    StripeConnector::descriptor()
}

fn pylon() -> &'static airbyte_agent_runtime::ConnectorDescriptor {
    airbyte_agent_pylon::PylonConnector::descriptor()
}

struct Env {
    client_id: String,
    double: AirbyteDouble,
    provider: MockServer,
}

async fn env_with(config: DoubleConfig, orgs: &[&str]) -> Env {
    let provider = stripe_provider(STRIPE_KEY).await;
    let client_id = fresh_client_id();
    let double = AirbyteDouble::builder()
        .config(config)
        .account(Account::new(
            client_id.clone(),
            SECRET,
            orgs.iter().copied(),
        ))
        .workspaces(orgs[0], ["default", "acme"])
        .definition(
            Definition::new(stripe(), provider.uri())
                .oauth(json!({"api_key": "sk_test_oauth_key"})),
        )
        .definition(Definition::new(pylon(), provider.uri()).require_replication(["start_date"]))
        .start()
        .await
        .expect("double starts");
    Env {
        client_id,
        double,
        provider,
    }
}

async fn env() -> Env {
    env_with(DoubleConfig::default(), &[ORG]).await
}

fn auth(env: &Env) -> AirbyteAuthConfig {
    AirbyteAuthConfig::new(env.client_id.clone(), SECRET.to_string())
        .organization_id(ORG)
        .base_url(env.double.base_url())
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::new()
        .max_attempts(3)
        .base_delay(Duration::from_millis(5))
}

fn seed_stripe(env: &Env) -> String {
    env.double
        .seed_connector(ORG, "default", stripe(), json!({"api_key": STRIPE_KEY}))
}

fn list_params(limit: i64) -> Params {
    let mut p = Params::new();
    p.insert("limit".into(), json!(limit));
    p
}

fn assert_no_secret(e: &Error) {
    let shown = format!("{e} / {e:?}");
    assert!(!shown.contains(SECRET), "secret leaked: {shown}");
}

#[tokio::test]
async fn typed_list_returns_equal_records_in_direct_and_hosted_mode() {
    let env = env().await;
    seed_stripe(&env);
    let op = stripe()
        .operation("customers", "list")
        .expect("customers.list");

    // Direct mode: the typed builder straight against the provider.
    let direct = StripeConnector::builder(StripeAuthConfig::new(STRIPE_KEY))
        .base_url(env.provider.uri())
        .build()
        .expect("direct connector");
    let direct_page = direct
        .customers()
        .list()
        .limit(3)
        .await
        .expect("direct list");

    // Hosted mode: the same typed decoding through Airbyte's execute endpoint.
    let hosted = Client::hosted(stripe(), auth(&env))
        .build()
        .expect("hosted client");
    assert!(hosted.is_hosted());
    let hosted_page = hosted
        .call_list::<Customer, CustomersListMeta>(op, list_params(3))
        .await
        .expect("hosted list");

    assert_eq!(direct_page.data.len(), 3);
    assert_eq!(
        serde_json::to_value(&direct_page.data).unwrap(),
        serde_json::to_value(&hosted_page.data).unwrap()
    );
    assert_eq!(direct_page.meta.has_more, hosted_page.meta.has_more);
    assert_eq!(
        hosted_page.data[1].email.as_deref(),
        Some("user2@example.com")
    );

    // The generated typed API in hosted mode: `customers().list()` on a hosted connector.
    let typed_hosted = StripeConnector::hosted(auth(&env)).expect("hosted connector");
    let typed_page = typed_hosted
        .customers()
        .list()
        .limit(3)
        .await
        .expect("typed hosted list");
    assert_eq!(
        serde_json::to_value(&direct_page.data).unwrap(),
        serde_json::to_value(&typed_page.data).unwrap()
    );
    assert_eq!(direct_page.meta.has_more, typed_page.meta.has_more);
    // A client of another connector is refused.
    let pylon_client = Client::hosted(pylon(), auth(&env)).build().unwrap();
    let e = StripeConnector::from_client(pylon_client).unwrap_err();
    assert!(e.to_string().contains("built for connector `pylon`"), "{e}");

    // Dynamic execute gives identical results too.
    let d = direct
        .execute("customers", "list", json!({"limit": 3}))
        .await
        .unwrap();
    let h = hosted
        .execute("customers", "list", json!({"limit": 3}))
        .await
        .unwrap();
    assert_eq!(d, h);

    // Pagination (last-record cursor) works through hosted execute.
    let direct_all: Vec<Customer> = direct
        .client()
        .pages::<Customer, CustomersListMeta>(op, list_params(3))
        .records()
        .map(|r| r.expect("record"))
        .collect()
        .await;
    let hosted_all: Vec<Customer> = hosted
        .pages::<Customer, CustomersListMeta>(op, list_params(3))
        .records()
        .map(|r| r.expect("record"))
        .collect()
        .await;
    assert_eq!(direct_all.len(), 5);
    assert_eq!(
        serde_json::to_value(&direct_all).unwrap(),
        serde_json::to_value(&hosted_all).unwrap()
    );

    // Wire protocol: one token, one lookup, headers everywhere.
    assert_eq!(
        env.double.token_requests(),
        1,
        "one token for the whole process"
    );
    assert_eq!(env.double.lookup_requests(), 2, "one lookup per client");
    let reqs = env.double.requests();
    let token_req = reqs
        .iter()
        .find(|r| r.path == "/api/v1/account/applications/token")
        .unwrap();
    assert_eq!(token_req.header("x-organization-id"), Some(ORG));
    assert_eq!(
        token_req.header("x-adp-agent-sdk"),
        Some("airbyte-agent-sdk")
    );
    assert!(token_req.header("authorization").is_none());
    let body: Value = serde_json::from_slice(&token_req.body).unwrap();
    assert_eq!(
        body,
        json!({"client_id": env.client_id, "client_secret": SECRET})
    );
    let exec: Vec<_> = reqs
        .iter()
        .filter(|r| r.path.ends_with("/execute"))
        .collect();
    assert_eq!(exec.len(), 1 + 1 + 1 + 2);
    for r in &exec {
        assert_eq!(r.header("x-organization-id"), Some(ORG));
        assert_eq!(r.header("x-adp-agent-sdk"), Some("airbyte-agent-sdk"));
        assert!(
            r.header("authorization")
                .unwrap()
                .starts_with("Bearer app-")
        );
    }
    let first: Value = serde_json::from_slice(&exec[0].body).unwrap();
    assert_eq!(
        first,
        json!({"entity": "customers", "action": "list", "params": {"limit": 3},
               "skip_truncation": true})
    );
}

#[tokio::test]
async fn execute_options_select_fields_in_both_modes_and_reach_the_execute_endpoint() {
    let env = env().await;
    seed_stripe(&env);
    let options = ExecuteOptions::new()
        .select_fields(["id", "email", "address.city"])
        .exclude_fields(["email"])
        .intent("list customers for a churn report");
    let hosted = Client::hosted(stripe(), auth(&env)).build().unwrap();
    let h = hosted
        .execute_with("customers", "list", json!({"limit": 2}), &options)
        .await
        .unwrap();
    let direct = Client::builder(
        stripe(),
        Credentials::new("bearerAuth").set("api_key", STRIPE_KEY.to_string()),
    )
    .base_url(env.provider.uri())
    .build()
    .unwrap();
    let d = direct
        .execute_with("customers", "list", json!({"limit": 2}), &options)
        .await
        .unwrap();
    assert_eq!(h.data, d.data);
    assert_eq!(h.meta, d.meta, "meta is not filtered");
    let records = h.data.as_array().unwrap();
    assert_eq!(records.len(), 3, "the provider's first page");
    for r in records {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["id"], "{r}");
    }
    let exec = env
        .double
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with("/execute"))
        .unwrap();
    let body: Value = serde_json::from_slice(&exec.body).unwrap();
    assert_eq!(
        body,
        json!({"entity": "customers", "action": "list", "params": {"limit": 2},
               "skip_truncation": true, "select_fields": ["id", "email", "address.city"],
               "exclude_fields": ["email"], "intent": "list customers for a churn report"})
    );

    // An over-long intent is refused before anything is sent.
    let before = env.double.requests().len();
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
    assert_eq!(env.double.requests().len(), before);
}

#[tokio::test]
async fn token_expiry_mid_run_is_refreshed_before_expiry_when_expires_in_is_sent() {
    let env = env_with(
        DoubleConfig {
            token_ttl: Duration::from_millis(800),
            ..Default::default()
        },
        &[ORG],
    )
    .await;
    seed_stripe(&env);
    let client = Client::hosted(stripe(), auth(&env)).build().unwrap();
    client
        .execute("customers", "list", json!({"limit": 1}))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    client
        .execute("customers", "list", json!({"limit": 1}))
        .await
        .unwrap();
    assert_eq!(env.double.token_requests(), 2);
    // Proactive: no call was rejected and replayed.
    assert_eq!(env.double.execute_requests(), 2);
}

#[tokio::test]
async fn token_expiry_mid_run_without_expires_in_recovers_from_the_401() {
    let env = env_with(
        DoubleConfig {
            token_ttl: Duration::from_millis(300),
            send_expires_in: false,
            ..Default::default()
        },
        &[ORG],
    )
    .await;
    seed_stripe(&env);
    let client = Client::hosted(stripe(), auth(&env)).build().unwrap();
    client
        .execute("customers", "list", json!({"limit": 1}))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    // The client believes the token lives 15 minutes; the server says 401; one re-fetch.
    let r = client
        .execute("customers", "list", json!({"limit": 1}))
        .await
        .unwrap();
    assert_eq!(r.data.as_array().map(Vec::len), Some(3));
    assert_eq!(env.double.token_requests(), 2);
    let sent = env
        .double
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/execute"))
        .count();
    assert_eq!(sent, 3, "two calls plus one replay after the 401");
    assert_eq!(
        env.double.execute_requests(),
        2,
        "the rejected one never ran"
    );

    // Tokens revoked server-side are handled the same way.
    env.double.expire_all_tokens();
    client
        .execute("customers", "list", json!({"limit": 1}))
        .await
        .unwrap();
    assert_eq!(env.double.token_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_hosted_calls_share_one_token() {
    let env = env_with(
        DoubleConfig {
            token_latency: Duration::from_millis(50),
            ..Default::default()
        },
        &[ORG],
    )
    .await;
    seed_stripe(&env);
    // Four independently built clients (as four connectors of one process would be).
    let clients: Vec<Client> = (0..4)
        .map(|_| Client::hosted(stripe(), auth(&env)).build().unwrap())
        .collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let c = clients[i % 4].clone();
        tasks.push(tokio::spawn(async move {
            c.execute("customers", "list", json!({"limit": 2})).await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap().expect("call succeeds");
        assert_eq!(r.data.as_array().map(Vec::len), Some(3));
    }
    let elapsed = started.elapsed();
    eprintln!("200 concurrent hosted calls: {elapsed:?}");
    assert_eq!(
        env.double.token_requests(),
        1,
        "one token for the whole process"
    );
    assert_eq!(env.double.execute_requests(), 200);
    assert!(
        env.double.lookup_requests() <= 4,
        "lookup cached per client"
    );
    assert_eq!(clients[0].hosted_token_fetches(), Some(1));
}

#[tokio::test]
async fn wrong_client_secret_is_a_clear_error_without_the_secret() {
    let env = env_with(
        DoubleConfig {
            echo_credentials_in_errors: true,
            ..Default::default()
        },
        &[ORG],
    )
    .await;
    seed_stripe(&env);
    let wrong = "wrong-secret-value-123";
    let client = Client::hosted(
        stripe(),
        AirbyteAuthConfig::new(env.client_id.clone(), wrong.to_string())
            .organization_id(ORG)
            .base_url(env.double.base_url()),
    )
    .build()
    .unwrap();
    let e = client
        .execute("customers", "list", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Auth(_)), "{e:?}");
    assert_eq!(e.status(), Some(401));
    let shown = format!("{e} / {e:?}");
    assert!(shown.contains(&env.client_id), "{shown}");
    assert!(shown.contains("invalid client credentials"), "{shown}");
    assert!(!shown.contains(wrong), "secret echoed: {shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
    assert_eq!(env.double.execute_requests(), 0);
    assert_eq!(env.double.lookup_requests(), 0);
    // Debug output of the client and the config never shows the secret either.
    assert!(!format!("{client:?}").contains(wrong));
    let dbg = format!(
        "{:?}",
        AirbyteAuthConfig::new(env.client_id.clone(), wrong.to_string())
    );
    assert!(!dbg.contains(wrong));
}

#[tokio::test]
async fn missing_credentials_fail_before_any_request() {
    if std::env::var_os("AIRBYTE_CLIENT_ID").is_some()
        || std::env::var_os("AIRBYTE_CLIENT_SECRET").is_some()
    {
        return; // The environment provides credentials; nothing to check here.
    }
    let env = env().await;
    let e = Client::hosted(
        stripe(),
        AirbyteAuthConfig::from_env().base_url(env.double.base_url()),
    )
    .build()
    .unwrap_err();
    match &e {
        Error::Hosted(HostedError::MissingCredentials { missing }) => {
            assert_eq!(missing, &vec!["client_id", "client_secret"]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.to_string().contains("AIRBYTE_CLIENT_SECRET"));
    assert!(Platform::new(AirbyteAuthConfig::from_env().base_url(env.double.base_url())).is_err());
    assert!(env.double.requests().is_empty());
}

#[tokio::test]
async fn unknown_workspace_is_reported_with_its_name() {
    let env = env().await;
    let client = Client::hosted(stripe(), auth(&env).workspace_name("no-such-ws"))
        .build()
        .unwrap();
    let e = client
        .execute("customers", "list", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    assert!(
        e.to_string().contains("Workspace 'no-such-ws' not found"),
        "{e}"
    );
    assert_no_secret(&e);
}

#[tokio::test]
async fn connector_lookup_not_found_ambiguous_and_cached() {
    let env = env().await;
    let client = Client::hosted(stripe(), auth(&env)).build().unwrap();
    let e = client
        .execute("customers", "list", json!({}))
        .await
        .unwrap_err();
    match &e {
        Error::Hosted(HostedError::ConnectorNotFound {
            connector,
            workspace_name,
            definition_id,
        }) => {
            assert_eq!(connector, "stripe");
            assert_eq!(workspace_name, "default");
            assert_eq!(definition_id, stripe().definition_id);
        }
        other => panic!("unexpected {other:?}"),
    }

    let a = seed_stripe(&env);
    let b = seed_stripe(&env);
    let client = Client::hosted(stripe(), auth(&env)).build().unwrap();
    let e = client.hosted_connector_id().await.unwrap_err();
    match &e {
        Error::Hosted(HostedError::AmbiguousConnector { ids, .. }) => {
            assert_eq!(ids, &vec![a.clone(), b]);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.to_string().contains("pass a connector id"));

    // An explicit id resolves the ambiguity and skips the lookup.
    let lookups = env.double.lookup_requests();
    let client = Client::hosted(stripe(), auth(&env).connector_id(a.clone()))
        .build()
        .unwrap();
    for _ in 0..3 {
        client
            .execute("customers", "list", json!({"limit": 1}))
            .await
            .unwrap();
    }
    assert_eq!(env.double.lookup_requests(), lookups);
    assert_eq!(client.hosted_connector_id().await.unwrap(), a);

    // In another workspace the unique connector is looked up once and cached.
    env.double
        .seed_connector(ORG, "acme", stripe(), json!({"api_key": STRIPE_KEY}));
    let client = Client::hosted(stripe(), auth(&env).workspace_name("acme"))
        .build()
        .unwrap();
    for _ in 0..3 {
        client
            .execute("customers", "list", json!({"limit": 1}))
            .await
            .unwrap();
    }
    assert_eq!(env.double.lookup_requests(), lookups + 1);
}

#[tokio::test]
async fn multi_organization_accounts_require_the_organization_header() {
    let env = env_with(DoubleConfig::default(), &[ORG, "org-2222"]).await;
    seed_stripe(&env);
    let no_org = AirbyteAuthConfig::new(env.client_id.clone(), SECRET.to_string())
        .base_url(env.double.base_url());
    let client = Client::hosted(stripe(), no_org).build().unwrap();
    let e = client
        .execute("customers", "list", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("X-Organization-Id header is required"),
        "{e}"
    );

    let client = Client::hosted(stripe(), auth(&env)).build().unwrap();
    client
        .execute("customers", "list", json!({"limit": 1}))
        .await
        .unwrap();
    assert!(
        env.double
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
            .skip(1)
            .all(|r| r.header("x-organization-id") == Some(ORG))
    );

    let e = Platform::new(auth(&env).organization_id("org-not-mine"))
        .unwrap()
        .list_workspaces()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Auth(_)), "{e:?}");
}

#[tokio::test]
async fn create_hosted_pylon_needs_start_date_and_rejects_auth_type() {
    let env = env().await;
    let platform = Platform::new(auth(&env)).unwrap();
    let ws = platform.default_workspace();
    let creds = Credentials::new("bearerAuth").set("api_token", "pylon-token".to_string());

    let e = ws
        .create_hosted(pylon(), &creds, CreateOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("replication_config.start_date is required"),
        "{e}"
    );

    let client = ws
        .create_hosted(
            pylon(),
            &creds,
            CreateOptions::new().replication("start_date", "2024-01-01T00:00:00Z"),
        )
        .await
        .expect("created");
    let stored = env.double.connectors();
    assert_eq!(stored.len(), 1);
    let c = &stored[0];
    assert_eq!(c.name, "pylon - default");
    assert_eq!(c.workspace_name, "default");
    assert_eq!(c.definition_id, pylon().definition_id);
    assert_eq!(
        Value::Object(c.credentials.clone()),
        json!({"api_token": "pylon-token"})
    );
    assert_eq!(
        c.replication_config.clone().map(Value::Object),
        Some(json!({"start_date": "2024-01-01T00:00:00Z"}))
    );
    assert_eq!(client.hosted_connector_id().await.unwrap(), c.id);

    // A discriminator in typed credentials is dropped before sending...
    let mut with_disc = Credentials::new("bearerAuth").set("api_token", "t2".to_string());
    with_disc.insert("auth_type", "Bearer".to_string());
    ws.create_hosted(
        pylon(),
        &with_disc,
        CreateOptions::new()
            .name("second")
            .replication("start_date", "2024-01-01T00:00:00Z"),
    )
    .await
    .expect("discriminator stripped");
    assert!(
        !env.double.connectors()[1]
            .credentials
            .contains_key("auth_type")
    );

    // ...and sent verbatim the API answers 422 with a clear message.
    let mut raw = serde_json::Map::new();
    raw.insert("api_token".into(), json!("t3"));
    raw.insert("auth_type".into(), json!("Bearer"));
    let e = ws
        .create_connector_json(
            pylon(),
            raw,
            CreateOptions::new().replication("start_date", "2024-01-01T00:00:00Z"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Validation(ref d) if d.status == 422),
        "{e:?}"
    );
    assert!(e.to_string().contains("auth_type"), "{e}");

    // Listing and deleting.
    let listed = ws.list_connectors().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].name.as_deref(), Some("pylon - default"));
    ws.delete_connector(&listed[0].id).await.unwrap();
    assert_eq!(ws.list_connectors().await.unwrap().len(), 1);
    let e = ws.delete_connector(&listed[0].id).await.unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
}

async fn oauth_round_trip(style: CallbackStyle, expect_param: &str) {
    let env = env_with(
        DoubleConfig {
            callback_style: style,
            ..Default::default()
        },
        &[ORG],
    )
    .await;
    // The provider accepts the key that the OAuth flow yields.
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(header("authorization", "Bearer sk_test_oauth_key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [customer(7)], "has_more": false
        })))
        .mount(&env.provider)
        .await;
    let ws = Platform::new(auth(&env)).unwrap().workspace("acme");
    let consent = ws
        .initiate_oauth(
            stripe(),
            "https://app.example/oauth/done?tenant=42",
            OAuthOptions::new().create(CreateOptions::new().name("via oauth")),
        )
        .await
        .unwrap();
    assert!(consent.starts_with(&env.double.base_url()), "{consent}");
    let callback = env.double.approve_consent(&consent).await.unwrap();
    assert!(
        callback.starts_with("https://app.example/oauth/done?tenant=42&"),
        "{callback}"
    );
    assert!(callback.contains(&format!("{expect_param}=")), "{callback}");

    let client = ws
        .complete_oauth(stripe(), &callback, CreateOptions::new().name("via oauth"))
        .await
        .unwrap();
    let r = client
        .execute("customers", "list", json!({"limit": 1}))
        .await
        .unwrap();
    assert_eq!(r.data[0]["id"], "cus_7");
    let stored = env.double.connectors();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].workspace_name, "acme");
    assert_eq!(stored[0].name, "via oauth");
    assert_eq!(client.hosted_connector_id().await.unwrap(), stored[0].id);
}

#[tokio::test]
async fn oauth_with_secret_id_callback() {
    oauth_round_trip(CallbackStyle::SecretId, "secret_id").await;
}

#[tokio::test]
async fn oauth_with_server_side_secret_id_callback() {
    oauth_round_trip(
        CallbackStyle::ServerSideSecretId,
        "server_side_oauth_secret_id",
    )
    .await;
}

#[tokio::test]
async fn oauth_with_connector_id_callback() {
    oauth_round_trip(CallbackStyle::ConnectorId, "connector_id").await;
}

#[tokio::test]
async fn workspaces_and_connectors_follow_pagination() {
    let provider = stripe_provider(STRIPE_KEY).await;
    let cid = fresh_client_id();
    let double = AirbyteDouble::builder()
        .config(DoubleConfig {
            workspace_page_size: 2,
            connector_page_size: Some(2),
            ..Default::default()
        })
        .account(Account::new(cid.clone(), SECRET, [ORG]))
        .workspaces(ORG, ["default", "w2", "w3", "w4", "w5"])
        .workspaces("org-other", ["not-mine"])
        .definition(Definition::new(stripe(), provider.uri()))
        .start()
        .await
        .unwrap();
    let platform = Platform::new(
        AirbyteAuthConfig::new(cid.clone(), SECRET.to_string()).base_url(double.base_url()),
    )
    .unwrap();
    let names: Vec<String> = platform
        .list_workspaces()
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["default", "w2", "w3", "w4", "w5"]);
    let pages = double
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/workspaces")
        .count();
    assert_eq!(pages, 3);
    assert_eq!(
        platform
            .find_workspace("w4")
            .await
            .unwrap()
            .map(|w| w.organization_id),
        Some(Some(ORG.to_string()))
    );

    let created = platform.create_workspace("w6").await.unwrap();
    assert_eq!(created.name, "w6");
    assert_eq!(platform.list_workspaces().await.unwrap().len(), 6);
    let e = platform.create_workspace("w6").await.unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");

    let ids: Vec<String> = (0..5)
        .map(|_| double.seed_connector(ORG, "default", stripe(), json!({"api_key": "k"})))
        .collect();
    let listed = platform
        .default_workspace()
        .list_connectors()
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(listed[0].template_name(), Some(stripe().title));
}

#[tokio::test]
async fn source_templates_register_idempotently() {
    let env = env().await;
    let platform = Platform::new(auth(&env)).unwrap();
    let mut cfg = serde_json::Map::new();
    cfg.insert("start_date".into(), json!("2024-01-01"));
    let a = platform
        .register_source_template(stripe().definition_id, "Stripe (agents)", cfg.clone())
        .await
        .unwrap();
    let b = platform
        .register_source_template(stripe().definition_id, "Stripe (agents)", cfg)
        .await
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.mode.as_deref(), Some("DIRECT"));
    assert_eq!(
        a.actor_definition_id.as_deref(),
        Some(stripe().definition_id)
    );
    let all = platform.list_source_templates().await.unwrap();
    assert_eq!(all.len(), 1);
    let posts = env
        .double
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/api/v1/integrations/templates/sources")
        .count();
    assert_eq!(posts, 1);

    // The template can be used at creation.
    seed_stripe(&env);
    let creds: Credentials = StripeAuthConfig::new(STRIPE_KEY).into();
    platform
        .workspace("acme")
        .create_hosted(
            stripe(),
            &creds,
            CreateOptions::new().source_template_id(a.id.clone()),
        )
        .await
        .unwrap();
    let listed = platform.workspace("acme").list_connectors().await.unwrap();
    assert_eq!(listed[0].template_name(), Some("Stripe (agents)"));
}

#[tokio::test]
async fn scoped_tokens_by_region_and_both_field_names() {
    for field in ["token", "access_token"] {
        let env = env_with(
            DoubleConfig {
                scoped_token_field: field,
                ..Default::default()
            },
            &[ORG],
        )
        .await;
        let platform = Platform::new(auth(&env)).unwrap();
        let us = platform.scoped_token("acme", Region::Us).await.unwrap();
        let eu = platform.scoped_token("acme", Region::Eu).await.unwrap();
        use airbyte_agent_runtime::ExposeSecret;
        assert!(
            us.token.expose_secret().starts_with("scoped-us-"),
            "{field}"
        );
        assert!(
            eu.token.expose_secret().starts_with("scoped-eu-"),
            "{field}"
        );
        assert_eq!(us.expires_in, Some(1200));
        assert!(!format!("{us:?}").contains("scoped-"));
        let bodies: Vec<Value> = env
            .double
            .requests()
            .iter()
            .filter(|r| r.path == "/api/v1/embedded/scoped-token")
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect();
        assert_eq!(bodies.len(), 2, "{bodies:?}");
        assert_eq!(
            bodies[1]["region_id"],
            "b9e48d61-f082-4a14-a8d0-799a907938cb"
        );
        let e = platform
            .scoped_token("acme", Region::Custom("mars".into()))
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("body.region_id: unknown region"),
            "{e}"
        );
        let e = platform.scoped_token("nope", Region::Us).await.unwrap_err();
        assert!(matches!(e, Error::NotFound(_)));
    }
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_like_direct_mode() {
    let env = env().await;
    seed_stripe(&env);
    let client = Client::hosted(stripe(), auth(&env))
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    client.hosted_connector_id().await.unwrap();

    env.double.fail_next("/execute", 429, 2, Some("0"));
    let started = Instant::now();
    client
        .execute("customers", "list", json!({"limit": 1}))
        .await
        .unwrap();
    assert_eq!(
        env.double.execute_requests(),
        1,
        "429s are answered before execute runs"
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    // 503 on a read (GET operation): retried.
    env.double.fail_next("/execute", 503, 1, None);
    client
        .execute("customers", "list", json!({"limit": 1}))
        .await
        .unwrap();

    // 503 on a write (POST operation): not retried, surfaced.
    env.double.fail_next("/execute", 503, 1, None);
    let e = client
        .execute("customers", "create", json!({"email": "x@example.com"}))
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(503));
    assert!(e.is_retryable());

    // Retry-After is honoured (1 s here).
    env.double.fail_next("/execute", 429, 1, Some("1"));
    let started = Instant::now();
    client
        .execute("customers", "list", json!({"limit": 1}))
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(950), "{waited:?}");

    // Exhausted retries on 429 surface as RateLimited with the delay.
    env.double.fail_next("/execute", 429, 5, Some("0"));
    let e = client
        .execute("customers", "list", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RateLimited { .. }), "{e:?}");
    assert_no_secret(&e);
}

#[tokio::test]
async fn provider_and_validation_errors_come_back_typed() {
    let env = env().await;
    seed_stripe(&env);
    let client = Client::hosted(stripe(), auth(&env)).build().unwrap();
    // Local validation still applies in hosted mode (no request sent).
    let e = client
        .execute("customers", "list", json!({"no_such_param": 1}))
        .await
        .unwrap_err();
    assert!(e.is_validation(), "{e:?}");
    assert_eq!(env.double.execute_requests(), 0);
    // A provider 404 (unmocked path) comes back as NotFound through the platform.
    let e = client
        .execute("customers", "get", json!({"id": "cus_missing"}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
}

#[derive(Debug, serde::Deserialize, PartialEq)]
struct Found {
    id: String,
    email: String,
}

#[tokio::test]
async fn context_store_search_is_typed_and_hosted_only() {
    let provider = stripe_provider(STRIPE_KEY).await;
    let records: Vec<Value> = (1..=5)
        .map(|i| json!({"id": format!("cus_{i}"), "email": format!("u{i}@x.io"), "tier": if i % 2 == 0 {"gold"} else {"free"}}))
        .collect();
    let cid = fresh_client_id();
    let double = AirbyteDouble::builder()
        .account(Account::new(cid.clone(), SECRET, [ORG]))
        .workspaces(ORG, ["default"])
        .definition(Definition::new(stripe(), provider.uri()))
        .context_store("customers", records)
        .start()
        .await
        .unwrap();
    double.seed_connector(ORG, "default", stripe(), json!({"api_key": STRIPE_KEY}));
    let client = Client::hosted(
        stripe(),
        AirbyteAuthConfig::new(cid.clone(), SECRET.to_string()).base_url(double.base_url()),
    )
    .build()
    .unwrap();
    let q = json!({"filter": {"eq": {"tier": "free"}}});
    let p1 = client
        .context_store_search::<Found>("customers", q.clone(), SearchOptions::new().limit(2))
        .await
        .unwrap();
    assert_eq!(
        p1.data.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        ["cus_1", "cus_3"]
    );
    assert!(p1.meta.has_more);
    assert_eq!(p1.meta.took_ms, Some(3));
    let cursor = p1.meta.cursor.clone().unwrap();
    let p2 = client
        .context_store_search::<Found>("customers", q, SearchOptions::new().limit(2).cursor(cursor))
        .await
        .unwrap();
    assert_eq!(
        p2.data,
        vec![Found {
            id: "cus_5".into(),
            email: "u5@x.io".into()
        }]
    );
    assert!(!p2.meta.has_more);

    // The dynamic entry point passes the hosted-only action through.
    let r = client
        .execute(
            "customers",
            "context_store_search",
            json!({"query": {}, "limit": 1}),
        )
        .await
        .unwrap();
    assert_eq!(r.data.as_array().map(Vec::len), Some(1));
    assert_eq!(r.meta.unwrap()["has_more"], true);

    // Direct mode says clearly that this needs hosted mode.
    let direct = StripeConnector::new(StripeAuthConfig::new(STRIPE_KEY)).unwrap();
    let e = direct
        .client()
        .context_store_search::<Found>("customers", json!({}), SearchOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)));
    assert!(e.to_string().contains("hosted execution mode"));
}

#[tokio::test]
async fn a_rejected_fresh_token_is_replayed_only_once() {
    // Tokens die instantly and the response does not say so: every call gets a 401.
    let env = env_with(
        DoubleConfig {
            token_ttl: Duration::ZERO,
            send_expires_in: false,
            ..Default::default()
        },
        &[ORG],
    )
    .await;
    let id = seed_stripe(&env);
    let client = Client::hosted(stripe(), auth(&env).connector_id(id))
        .build()
        .unwrap();
    let e = client
        .execute("customers", "list", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Auth(_)), "{e:?}");
    assert!(e.to_string().contains("Token expired"), "{e}");
    assert_eq!(env.double.token_requests(), 2);
    let sent = env
        .double
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/execute"))
        .count();
    assert_eq!(sent, 2);
}

#[tokio::test]
async fn connectors_can_be_chosen_by_name() {
    let env = env().await;
    let ws = Platform::new(auth(&env)).unwrap().default_workspace();
    let creds: Credentials = StripeAuthConfig::new(STRIPE_KEY).into();
    for name in ["billing-eu", "billing-us"] {
        ws.create_hosted(stripe(), &creds, CreateOptions::new().name(name))
            .await
            .unwrap();
    }
    let client = ws.connector_by_name(stripe(), "billing-us").await.unwrap();
    let stored = env.double.connectors();
    assert_eq!(client.hosted_connector_id().await.unwrap(), stored[1].id);
    client
        .execute("customers", "list", json!({"limit": 1}))
        .await
        .unwrap();
    let e = ws.connector_by_name(stripe(), "nope").await.unwrap_err();
    assert!(matches!(
        e,
        Error::Hosted(HostedError::ConnectorNotFound { .. })
    ));
}

/// Rough overhead of hosted over direct on loopback (`cargo test --release -- --ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, not a check"]
async fn measure_hosted_overhead() {
    let env = env().await;
    seed_stripe(&env);
    let direct = StripeConnector::builder(StripeAuthConfig::new(STRIPE_KEY))
        .base_url(env.provider.uri())
        .build()
        .unwrap();
    let hosted = Client::hosted(stripe(), auth(&env)).build().unwrap();
    hosted.hosted_connector_id().await.unwrap();
    let n = 500;
    for (name, client) in [("direct", direct.client().clone()), ("hosted", hosted)] {
        client
            .execute("customers", "list", json!({"limit": 3}))
            .await
            .unwrap();
        let started = Instant::now();
        for _ in 0..n {
            client
                .execute("customers", "list", json!({"limit": 3}))
                .await
                .unwrap();
        }
        let per = started.elapsed() / n;
        eprintln!("{name}: {per:?} per sequential call ({n} calls)");
    }
    eprintln!("token requests: {}", env.double.token_requests());
}

#[tokio::test]
async fn oauth_app_override_is_set_and_reset() {
    let env = env().await;
    let platform = Platform::new(auth(&env)).unwrap();
    let app_secret = airbyte_agent_runtime::SecretString::from("oauth-app-secret".to_string());
    platform
        .set_oauth_app("hubspot", "my-app-id", &app_secret)
        .await
        .unwrap();
    let apps = env.double.oauth_apps(ORG);
    assert_eq!(
        Value::Object(apps["hubspot"].clone()),
        json!({"client_id": "my-app-id", "client_secret": "oauth-app-secret"})
    );
    platform.reset_oauth_app("hubspot").await.unwrap();
    assert!(env.double.oauth_apps(ORG).is_empty());
    let e = platform.reset_oauth_app("hubspot").await.unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
}

#[tokio::test]
async fn next_url_pagination_works_in_hosted_mode() {
    let gh = airbyte_agent_greenhouse::GreenhouseConnector::descriptor();
    let provider = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/candidates"))
        .and(query_param_is_missing("cursor"))
        .and(header("authorization", "Bearer gh-access"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "link",
                    format!(
                        "<{}/candidates?cursor=p2&per_page=2>; rel=\"next\"",
                        provider.uri()
                    )
                    .as_str(),
                )
                .set_body_json(
                    json!([{"id": 1, "first_name": "Ada"}, {"id": 2, "first_name": "Grace"}]),
                ),
        )
        .mount(&provider)
        .await;
    Mock::given(method("GET"))
        .and(path("/candidates"))
        .and(query_param("cursor", "p2"))
        .and(query_param("per_page", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!([{"id": 3, "first_name": "Edsger"}])),
        )
        .mount(&provider)
        .await;
    let cid = fresh_client_id();
    let double = AirbyteDouble::builder()
        .account(Account::new(cid.clone(), SECRET, [ORG]))
        .workspaces(ORG, ["default"])
        .definition(Definition::new(gh, provider.uri()))
        .start()
        .await
        .unwrap();
    let creds = json!({"client_id": "c", "client_secret": "s", "refresh_token": "r", "access_token": "gh-access"});
    double.seed_connector(ORG, "default", gh, creds);
    let op = gh.operation("candidates", "list").unwrap();
    let hosted = Client::hosted(
        gh,
        AirbyteAuthConfig::new(cid.clone(), SECRET.to_string()).base_url(double.base_url()),
    )
    .build()
    .unwrap();
    let records: Vec<Value> = hosted
        .pages::<Value, Value>(op, list_params_named("per_page", 2))
        .records()
        .map(|r| r.expect("record"))
        .collect()
        .await;
    assert_eq!(
        records.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        [json!(1), json!(2), json!(3)]
    );
    let bodies: Vec<Value> = double
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/execute"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[1]["params"], json!({"cursor": "p2", "per_page": 2}));
}

fn list_params_named(name: &str, v: i64) -> Params {
    let mut p = Params::new();
    p.insert(name.into(), json!(v));
    p
}

/// The generated `create_hosted` sends the typed credentials and replication settings, and the
/// connector it returns runs typed calls through Airbyte.
#[tokio::test]
async fn typed_create_hosted_sends_credentials_and_replication_settings() {
    use airbyte_agent_stripe::StripeReplicationConfig;
    let provider = stripe_provider(STRIPE_KEY).await;
    let client_id = fresh_client_id();
    let double = AirbyteDouble::builder()
        .account(Account::new(client_id.clone(), SECRET, [ORG]))
        .workspaces(ORG, ["default"])
        .definition(Definition::new(stripe(), provider.uri()).require_replication(["account_id"]))
        .start()
        .await
        .expect("double starts");
    let platform = Platform::new(
        AirbyteAuthConfig::new(client_id, SECRET.to_string())
            .organization_id(ORG)
            .base_url(double.base_url()),
    )
    .expect("platform");
    let ws = platform.workspace("default");

    let connector = StripeConnector::create_hosted(
        &ws,
        StripeAuthConfig::new(STRIPE_KEY),
        StripeReplicationConfig::new("acct_123"),
        CreateOptions::new().name("stripe for acme"),
    )
    .await
    .expect("created");
    let stored = double.connectors();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "stripe for acme");
    assert_eq!(
        Value::Object(stored[0].credentials.clone()),
        json!({"api_key": STRIPE_KEY})
    );
    assert_eq!(
        stored[0].replication_config.clone().map(Value::Object),
        Some(json!({"account_id": "acct_123"}))
    );
    let page = connector
        .customers()
        .list()
        .await
        .expect("typed call through the hosted connector");
    assert_eq!(page.data[0].id.as_deref(), Some("cus_1"));

    // Settings merge: a raw key set on the options survives the typed config.
    let second = StripeConnector::create_hosted(
        &ws,
        StripeAuthConfig::new(STRIPE_KEY),
        StripeReplicationConfig::new("acct_456"),
        CreateOptions::new().replication("extra", true),
    )
    .await;
    assert!(second.is_ok(), "{second:?}");
    assert_eq!(
        double.connectors()[1]
            .replication_config
            .clone()
            .map(Value::Object),
        Some(json!({"extra": true, "account_id": "acct_456"}))
    );
}
