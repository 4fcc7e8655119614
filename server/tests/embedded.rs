//! The embedded API's core through the runtime's `ScopedSession`: a front end with a scoped
//! token lists the organization's templates and creates a source from one in its own workspace
//! (credential fields sealed, other fields settings); an application token is refused there,
//! and the source works through execute. SQLite always; PostgreSQL when `AIRBYTE_SERVER_TEST_PG`
//! is set.

mod common;

use airbyte_agent_runtime::hosted::{CreateSource, Platform, Region, TagFilter, TagMode};
use common::*;
use serde_json::{Map, json};

#[tokio::test]
async fn scoped_session_creates_a_source_from_a_template() {
    for db in databases().await {
        let provider = stripe_provider().await;
        let srv = TestServer::start(&db, config_for(&provider)).await;
        let p = Platform::new(srv.auth(&srv.app)).expect("platform");
        let mut defaults = Map::new();
        defaults.insert("account_id".into(), json!("acct_embedded"));
        let t = p
            .register_source_template(stripe().definition_id, "Stripe (embedded)", defaults)
            .await
            .expect("template");
        let session = p
            .embedded()
            .expect("embedded")
            .session("default", Region::Eu)
            .await
            .expect("scoped session");
        let listed = session.list_templates(None).await.expect("templates");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, t.id);
        let tagged = session
            .list_templates(Some(TagFilter::new(["beta"], TagMode::Any)))
            .await
            .expect("filtered");
        assert!(tagged.is_empty(), "no template has tags here");

        let source = session
            .create_source(
                CreateSource::new(t.id.clone())
                    .name("from the widget")
                    .config("api_key", STRIPE_KEY),
            )
            .await
            .expect("source");
        assert_eq!(source.source_template_id.as_deref(), Some(t.id.as_str()));
        assert_eq!(source.workspace_name.as_deref(), Some("default"));
        let org = srv.app.organization_id.clone();
        let rec = srv
            .store
            .connector(&org, &source.id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(
            rec.replication_config.as_deref(),
            Some(r#"{"account_id":"acct_embedded"}"#)
        );
        let raw = String::from_utf8_lossy(&db.raw_contents(&srv.store).await).into_owned();
        assert!(!raw.contains(STRIPE_KEY), "key in clear");

        let app = srv.token(&srv.app).await;
        let (s, r) = srv
            .send(
                "POST",
                &format!("/api/v1/integrations/connectors/{}/execute", source.id),
                Some(&app),
                Some(json!({"entity": "customers", "action": "list"}).to_string()),
            )
            .await;
        assert_eq!(s, 200, "{r}");
        let (s, _) = srv
            .send(
                "POST",
                "/api/v1/embedded/sources",
                Some(&app),
                Some(
                    json!({"source_template_id": t.id, "source_config": {"api_key": "k"}})
                        .to_string(),
                ),
            )
            .await;
        assert_eq!(s, 403, "application token on the embedded API");
        let (s, e) = srv
            .send(
                "POST",
                "/api/v1/embedded/sources",
                Some(&app),
                Some(json!({"source_template_id": "nope", "source_config": {}}).to_string()),
            )
            .await;
        assert_eq!(s, 403, "{e}");
    }
}
