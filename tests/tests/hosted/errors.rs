//! Failures through the execute endpoint: rate limits and server errors retried as in direct
//! mode, local validation, and provider errors coming back typed.

use std::time::{Duration, Instant};

use airbyte_agent_runtime::{Client, Error};
use serde_json::json;

use crate::common::*;

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
