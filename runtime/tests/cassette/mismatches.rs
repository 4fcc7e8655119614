//! What replay reports: changed params, method, path and captured headers, a request never sent,
//! relaxed and strict validation, masked auth headers; and the client's retry loop running
//! against the replay server.

use std::time::Duration;

use airbyte_agent_runtime::cassette::{Cassette, Replay};
use airbyte_agent_runtime::*;
use serde_json::json;

use crate::{CONN, REFERENCE_LAYOUT, SECRET, env, no_retries, record, upstream};

#[tokio::test]
async fn changed_param_is_reported_precisely() {
    let up = upstream().await;
    let (_, cassette) = record(&up, "customers", "list", json!({"limit": 2}), SECRET).await;
    let mut cassette = cassette.unwrap();
    cassette.inputs.params = json!({"limit": 3, "email": "x@example.com"});
    let report = Replay::run_with(&cassette, &CONN, env, no_retries)
        .await
        .unwrap();
    let mut got: Vec<String> = report.mismatches.iter().map(|m| m.to_string()).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "request #0 vs captured_request.query_params.email: expected (absent), got `x@example.com`",
            "request #0 vs captured_request.query_params.limit: expected `2`, got `3`",
        ],
        "{:#?}",
        report.mismatches
    );
    // The captured response is still served.
    assert_eq!(report.result.unwrap().data[0]["id"], "cus_1");
}

#[tokio::test]
async fn replay_checks_method_path_and_captured_headers() {
    let up = upstream().await;
    let (_, cassette) = record(&up, "customers", "list", json!({"limit": 2}), SECRET).await;
    let mut c = cassette.unwrap();
    c.captured_request.path = "/v1/clients".into();
    c.captured_request
        .headers
        .insert("X-Api-Version".into(), "2024-10-15".into());
    // Ignored headers are never compared.
    c.captured_request
        .headers
        .insert("User-Agent".into(), "python-httpx/0.27".into());
    let report = Replay::run_with(&c, &CONN, env, no_retries).await.unwrap();
    let fields: Vec<&str> = report.mismatches.iter().map(|m| m.field.as_str()).collect();
    assert_eq!(
        fields,
        ["path", "headers.x-api-version"],
        "{:#?}",
        report.mismatches
    );
    assert_eq!(report.mismatches[0].actual, "`/v1/customers`");
    assert_eq!(report.mismatches[1].actual, "(absent)");
}

#[tokio::test]
async fn replay_runs_the_clients_retry_loop() {
    let mut c = Cassette::from_yaml(REFERENCE_LAYOUT).unwrap();
    c.captured_response.status_code = 503;
    c.captured_response.body = json!({"error": {"message": "try later"}});
    let report = Replay::run_with(&c, &CONN, env, |b| {
        b.retry_policy(
            RetryPolicy::new()
                .max_attempts(3)
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        )
    })
    .await
    .unwrap();
    assert_eq!(report.requests, 3, "the client retried against the server");
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);
    let err = report.result.unwrap_err();
    assert_eq!(err.status(), Some(503));
}

#[tokio::test]
async fn request_never_sent_is_a_mismatch() {
    let c = Cassette::from_yaml(REFERENCE_LAYOUT).unwrap();
    let mut bad = c.clone();
    bad.inputs.params = json!({"limit": "not a number"});
    let report = Replay::run(&bad, &CONN, env).await.unwrap();
    assert!(report.result.unwrap_err().is_validation());
    assert_eq!(report.requests, 0);
    assert_eq!(report.mismatches.len(), 1);
    assert_eq!(report.mismatches[0].field, "request");
    assert_eq!(report.mismatches[0].actual, "(not received)");
}

#[tokio::test]
async fn relaxed_validation_flags_and_masked_mismatches() {
    let up = upstream().await;
    let params = json!({"name": "Ada", "email": "ada@example.com"});
    let (_, cassette) = record(&up, "customers", "create", params, SECRET).await;
    let mut c = cassette.unwrap();
    // Subset comparisons: extra body keys and query params are accepted.
    c.captured_request.body = json!({"name": "Ada"});
    c.captured_request.validation.body_strict = false;
    c.captured_request.validation.query_params_strict = false;
    c.inputs.params = json!({"name": "Ada", "email": "other@example.com"});
    let report = Replay::run_with(&c, &CONN, env, no_retries).await.unwrap();
    assert!(report.mismatches.is_empty(), "{:#?}", report.mismatches);

    // Strict again: the extra key is reported.
    c.captured_request.validation.body_strict = true;
    let report = Replay::run_with(&c, &CONN, env, no_retries).await.unwrap();
    let fields: Vec<&str> = report.mismatches.iter().map(|m| m.field.as_str()).collect();
    assert_eq!(fields, ["body.email"], "{:#?}", report.mismatches);
    assert_eq!(report.mismatches[0].expected, "(absent)");

    // A captured auth header that differs: the mismatch never shows either value.
    c.captured_request.validation.body_strict = false;
    c.captured_request
        .headers
        .insert("Authorization".into(), "Bearer sk_test_other".into());
    let report = Replay::run_with(&c, &CONN, env, no_retries).await.unwrap();
    assert_eq!(report.mismatches.len(), 1, "{:#?}", report.mismatches);
    let m = &report.mismatches[0];
    assert_eq!(
        (m.field.as_str(), m.expected.as_str(), m.actual.as_str()),
        ("headers.authorization", "***", "***")
    );
    assert!(!m.to_string().contains(SECRET));
}
