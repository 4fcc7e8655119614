//! Application tokens and credentials: expiry (announced or not), one token shared by concurrent
//! clients, a rejected fresh token, wrong or missing credentials, multi-organization accounts.

use std::time::{Duration, Instant};

use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, HostedError, Platform};
use airbyte_agent_runtime::{Client, Error};
use airbyte_agent_tests::airbyte_double::DoubleConfig;
use serde_json::json;

use crate::common::*;

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
