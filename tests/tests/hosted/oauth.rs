//! OAuth: the consent round trip in each callback style, and the organization's OAuth-app
//! override.

use airbyte_agent_runtime::Error;
use airbyte_agent_runtime::hosted::{CreateOptions, OAuthOptions, Platform};
use airbyte_agent_tests::airbyte_double::{CallbackStyle, DoubleConfig};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::common::*;

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
