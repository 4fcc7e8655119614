//! Fixtures shared by the hosted tests: unique client ids, the Stripe-shaped provider double, the
//! Airbyte double around it, and client settings.

use std::time::Duration;

use airbyte_agent_runtime::hosted::AirbyteAuthConfig;
use airbyte_agent_runtime::{Error, Params, RetryPolicy};
use airbyte_agent_stripe::StripeConnector;
use airbyte_agent_tests::airbyte_double::{Account, AirbyteDouble, Definition, DoubleConfig};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A client id unique to each double of this process: the token cache is process-wide and keyed
/// by base URL and client id, and a later double may get the port of an earlier one.
pub fn fresh_client_id() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    format!("app-client-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}
pub const SECRET: &str = "airbyte-app-secret-do-not-leak";
pub const ORG: &str = "org-1111";
pub const STRIPE_KEY: &str = "sk_test_provider_key";

pub fn customer(i: u32) -> Value {
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
pub async fn stripe_provider(key: &str) -> MockServer {
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

pub fn stripe() -> &'static airbyte_agent_runtime::ConnectorDescriptor {
    StripeConnector::descriptor()
}

pub fn pylon() -> &'static airbyte_agent_runtime::ConnectorDescriptor {
    airbyte_agent_pylon::PylonConnector::descriptor()
}

pub struct Env {
    pub client_id: String,
    pub double: AirbyteDouble,
    pub provider: MockServer,
}

pub async fn env_with(config: DoubleConfig, orgs: &[&str]) -> Env {
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

pub async fn env() -> Env {
    env_with(DoubleConfig::default(), &[ORG]).await
}

pub fn auth(env: &Env) -> AirbyteAuthConfig {
    AirbyteAuthConfig::new(env.client_id.clone(), SECRET.to_string())
        .organization_id(ORG)
        .base_url(env.double.base_url())
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::new()
        .max_attempts(3)
        .base_delay(Duration::from_millis(5))
}

pub fn seed_stripe(env: &Env) -> String {
    env.double
        .seed_connector(ORG, "default", stripe(), json!({"api_key": STRIPE_KEY}))
}

pub fn list_params(limit: i64) -> Params {
    let mut p = Params::new();
    p.insert("limit".into(), json!(limit));
    p
}

pub fn assert_no_secret(e: &Error) {
    let shown = format!("{e} / {e:?}");
    assert!(!shown.contains(SECRET), "secret leaked: {shown}");
}
