//! The generated Stripe crate, end to end through its typed API against a local HTTP server.

use airbyte_agent_stripe::{CustomersListCreated, Error, StripeAuthConfig, StripeConnector};
use futures_util::StreamExt;
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk_test_e2e_secret_value";

fn customer(id: &str, email: &str) -> serde_json::Value {
    json!({
        "id": id,
        "object": "customer",
        "email": email,
        "created": 1_700_000_000,
        "balance": -250,
        "delinquent": false,
        "metadata": {"tier": "gold"},
        "address": {"city": "Lyon", "country": "FR"},
        "a_field_the_spec_does_not_know": {"nested": [1, 2, 3]}
    })
}

async fn connector(server: &MockServer) -> StripeConnector {
    StripeConnector::builder(StripeAuthConfig::new(KEY))
        .base_url(server.uri())
        .build()
        .expect("connector builds")
}

#[tokio::test]
async fn typed_list_sends_the_expected_request_and_decodes_records() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param("limit", "2"))
        .and(query_param("created[gte]", "1700000000"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list",
            "data": [customer("cus_1", "a@example.com"), customer("cus_2", "b@example.com")],
            "has_more": true,
            "url": "/v1/customers"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let stripe = connector(&server).await;
    let created = CustomersListCreated {
        gte: Some(1_700_000_000),
        ..Default::default()
    };
    let page = stripe
        .customers()
        .list()
        .limit(2)
        .created(created)
        .await
        .expect("list succeeds");

    assert_eq!(page.data.len(), 2);
    assert_eq!(page.data[0].id.as_deref(), Some("cus_1"));
    assert_eq!(page.data[1].email.as_deref(), Some("b@example.com"));
    assert_eq!(page.data[0].balance, Some(-250));
    assert_eq!(page.meta.has_more, Some(true));
}

#[tokio::test]
async fn typed_pages_follow_starting_after_until_has_more_is_false() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param_is_missing("starting_after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [customer("cus_1", "a@example.com"), customer("cus_2", "b@example.com")],
            "has_more": true
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(query_param("starting_after", "cus_2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [customer("cus_3", "c@example.com")],
            "has_more": false
        })))
        .expect(1)
        .mount(&server)
        .await;

    let stripe = connector(&server).await;
    let mut ids = Vec::new();
    let mut pages = stripe.customers().list().limit(2).pages();
    while let Some(page) = pages.next().await {
        let page = page.expect("page succeeds");
        ids.extend(page.data.into_iter().filter_map(|c| c.id));
    }
    assert_eq!(ids, ["cus_1", "cus_2", "cus_3"]);
}

#[tokio::test]
async fn typed_create_sends_a_form_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/customers"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string("email=new%40example.com&name=Ada+Lovelace"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(customer("cus_9", "new@example.com")),
        )
        .expect(1)
        .mount(&server)
        .await;

    let stripe = connector(&server).await;
    let created = stripe
        .customers()
        .create()
        .email("new@example.com")
        .name("Ada Lovelace")
        .await
        .expect("create succeeds");
    assert_eq!(created.id.as_deref(), Some("cus_9"));
}

#[tokio::test]
async fn typed_get_percent_encodes_the_path_and_maps_404_to_a_typed_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus%2F42"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"type": "invalid_request_error", "message": "No such customer: 'cus/42'"}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let stripe = connector(&server).await;
    let err = stripe
        .customers()
        .get("cus/42")
        .await
        .expect_err("404 is an error");
    assert_eq!(err.status(), Some(404), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("No such customer"), "{shown}");
    assert!(!shown.contains(KEY) && !format!("{err:?}").contains(KEY));
}

#[tokio::test]
async fn dynamic_execute_validates_and_names_the_valid_choices() {
    let server = MockServer::start().await;
    let stripe = connector(&server).await;

    let err = stripe
        .execute("customerz", "list", json!({}))
        .await
        .expect_err("unknown entity");
    assert!(matches!(err, Error::UnknownEntity { .. }), "{err:?}");
    assert!(err.to_string().contains("customers"), "{err}");

    let err = stripe
        .execute("customers", "lisst", json!({}))
        .await
        .expect_err("unknown action");
    assert!(err.to_string().contains("list"), "{err}");

    let err = stripe
        .execute("customers", "list", json!({"limitt": 3}))
        .await
        .expect_err("unknown param");
    assert!(err.to_string().contains("limit"), "{err}");

    let err = stripe
        .execute("customers", "get", json!({}))
        .await
        .expect_err("missing id");
    assert!(err.to_string().contains("id"), "{err}");
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn the_auth_config_never_shows_its_secret() {
    let auth = StripeAuthConfig::new(KEY);
    assert!(!format!("{auth:?}").contains(KEY));
    let server = MockServer::start().await;
    let stripe = connector(&server).await;
    assert!(!format!("{stripe:?}").contains(KEY));
}

#[tokio::test]
async fn the_generated_check_reports_ok_and_auth_failures() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "data": [customer("cus_1", "a@example.com")], "has_more": false
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": {"message": "Invalid API Key provided"}
        })))
        .mount(&server)
        .await;

    let report = connector(&server).await.check().await;
    assert_eq!(
        report.status,
        airbyte_agent_runtime::CheckStatus::Ok,
        "{report:?}"
    );

    let wrong = StripeConnector::builder(StripeAuthConfig::new("sk_test_wrong"))
        .base_url(server.uri())
        .build()
        .expect("connector builds");
    let report = wrong.check().await;
    assert!(
        matches!(
            report.status,
            airbyte_agent_runtime::CheckStatus::AuthFailed(_)
        ),
        "{report:?}"
    );
}
