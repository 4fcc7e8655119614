//! Organization-level platform calls: paginated workspaces and connectors, workspace creation,
//! source templates, and scoped tokens by region.

use airbyte_agent_runtime::hosted::{AirbyteAuthConfig, CreateOptions, Platform, Region};
use airbyte_agent_runtime::{Credentials, Error};
use airbyte_agent_stripe::StripeAuthConfig;
use airbyte_agent_tests::airbyte_double::{Account, AirbyteDouble, Definition, DoubleConfig};
use serde_json::{Value, json};

use crate::common::*;

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
