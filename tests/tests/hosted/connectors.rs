//! Hosted connectors: lookup (not found, ambiguous, cached, by id or by name), creation with
//! replication settings (raw and generated `create_hosted`), listing and deletion.

use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, CreateOptions, HostedError, Platform};
use airbyte_agent_runtime::{Client, Credentials, Error};
use airbyte_agent_stripe::{StripeAuthConfig, StripeConnector};
use airbyte_agent_tests::airbyte_double::{Account, AirbyteDouble, Definition};
use serde_json::{Value, json};

use crate::common::*;

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
