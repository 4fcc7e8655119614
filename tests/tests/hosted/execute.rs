//! Calls through Airbyte's execute endpoint give what direct mode gives: typed and dynamic
//! results, execute options, both pagination styles, and the hosted-only context-store search.

use std::time::Instant;

use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, SearchOptions};
use airbyte_agent_runtime::{Client, Credentials, Error, ExecuteOptions, MAX_INTENT_CHARS, Params};
use airbyte_agent_stripe::{Customer, CustomersListMeta, StripeAuthConfig, StripeConnector};
use airbyte_agent_tests::airbyte_double::{Account, AirbyteDouble, Definition};
use futures_util::StreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

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
