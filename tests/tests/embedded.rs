//! Embedded API end to end against the Airbyte API double: scoped and widget tokens, templates
//! listed by a scoped token (tag modes), sources created from templates (defaulted fields
//! omitted), stream selection with client-side and catalog whitelist validation, tag CRUD.

use airbyte_agent_runtime::Error;
use airbyte_agent_runtime::hosted::{
    AirbyteAuthConfig, CreateSource, Platform, Region, ScopedSession, StreamSelection, TagFilter,
    TagMode, validate_whitelist,
};
use airbyte_agent_runtime::{ConnectorDescriptor, ExposeSecret};
use airbyte_agent_stripe::StripeConnector;
use airbyte_agent_tests::airbyte_double::{Account, AirbyteDouble, Definition};
use serde_json::{Map, json};

const CLIENT_ID: &str = "embed-client";
const SECRET: &str = "embed-secret-value";
const ORG: &str = "org-embed";

fn stripe() -> &'static ConnectorDescriptor {
    StripeConnector::descriptor()
}

async fn double() -> AirbyteDouble {
    AirbyteDouble::builder()
        .account(Account::new(CLIENT_ID, SECRET, [ORG]))
        .workspaces(ORG, ["default", "acme"])
        .definition(Definition::new(stripe(), "http://127.0.0.1:9"))
        .start()
        .await
        .expect("double starts")
}

fn platform(d: &AirbyteDouble) -> Platform {
    Platform::new(
        AirbyteAuthConfig::new(CLIENT_ID, SECRET.to_string())
            .organization_id(ORG)
            .base_url(d.base_url()),
    )
    .expect("platform")
}

fn key_default() -> Map<String, serde_json::Value> {
    let mut m = Map::new();
    m.insert("api_key".into(), json!("sk_test_from_template"));
    m
}

#[tokio::test]
async fn scoped_session_lists_templates_and_creates_sources_with_defaults() {
    let d = double().await;
    let p = platform(&d);
    let e = p.embedded().expect("embedded");
    let with_key = p
        .register_source_template(stripe().definition_id, "Stripe (keyed)", key_default())
        .await
        .expect("template");
    let bare = p
        .register_source_template(
            stripe().definition_id,
            "Stripe (bring your key)",
            Map::new(),
        )
        .await
        .expect("template");

    let session = e.session("acme", Region::Eu).await.expect("scoped session");
    assert!(!format!("{session:?}").contains("scoped-"));
    let templates = session.list_templates(None).await.expect("templates");
    let names: Vec<&str> = templates.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Stripe (keyed)", "Stripe (bring your key)"]);
    // Defaulted values are masked for end users.
    assert_eq!(
        templates[0].partial_default_config.get("api_key"),
        Some(&json!("**********"))
    );

    // The template already sets api_key: source_config may omit it.
    let s = session
        .create_source(CreateSource::new(&with_key.id).name("mine"))
        .await
        .expect("source from defaulted template");
    assert_eq!(s.name.as_deref(), Some("mine"));
    assert_eq!(s.workspace_name.as_deref(), Some("acme"));
    let stored = d.connectors().into_iter().find(|c| c.id == s.id).unwrap();
    assert_eq!(stored.workspace_name, "acme");
    assert_eq!(
        stored.credentials.get("api_key"),
        Some(&json!("sk_test_from_template"))
    );

    // Without the default the field is required.
    let err = session
        .create_source(CreateSource::new(&bare.id))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert!(err.to_string().contains("api_key"), "{err}");
    let ok = session
        .create_source(CreateSource::new(&bare.id).config("api_key", "sk_test_user"))
        .await
        .expect("source with config");
    assert_eq!(ok.source_template_id.as_deref(), Some(bare.id.as_str()));

    // A scoped token cannot do organization work, and a made-up one is refused.
    let fake = ScopedSession::new(&d.base_url(), "scoped-nope".to_string().into()).unwrap();
    let err = fake.list_templates(None).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
}

#[tokio::test]
async fn tags_crud_and_tag_modes() {
    let d = double().await;
    let p = platform(&d);
    let e = p.embedded().unwrap();
    let a = p
        .register_source_template(stripe().definition_id, "A", key_default())
        .await
        .unwrap();
    let b = p
        .register_source_template(stripe().definition_id, "B", key_default())
        .await
        .unwrap();
    e.create_tag("crm").await.unwrap();
    e.create_tag("billing").await.unwrap();
    let dup = e.create_tag("crm").await.unwrap_err();
    assert!(dup.to_string().contains("already exists"), "{dup}");
    assert!(e.create_tag(" ").await.is_err());
    e.tag_template(&a.id, "crm").await.unwrap();
    e.tag_template(&a.id, "billing").await.unwrap();
    e.tag_template(&b.id, "crm").await.unwrap();
    assert!(e.tag_template(&b.id, "nope").await.is_err());

    let s = e.session("default", Region::Us).await.unwrap();
    let names = |v: Vec<airbyte_agent_runtime::hosted::EmbeddedTemplate>| {
        v.into_iter().map(|t| t.name).collect::<Vec<_>>()
    };
    let any = s
        .list_templates(Some(TagFilter::new(["crm", "billing"], TagMode::Any)))
        .await
        .unwrap();
    assert_eq!(names(any), ["A", "B"]);
    let all = s
        .list_templates(Some(TagFilter::new(["crm", "billing"], TagMode::All)))
        .await
        .unwrap();
    assert_eq!(names(all), ["A"]);

    // Rename and delete keep template assignments consistent.
    e.rename_tag("billing", "finance").await.unwrap();
    let tags = e.list_tags().await.unwrap();
    let fin = tags.iter().find(|t| t.name == "finance").expect("renamed");
    assert_eq!(fin.template_ids, vec![a.id.clone()]);
    e.untag_template(&a.id, "finance").await.unwrap();
    assert!(e.untag_template(&a.id, "finance").await.is_err());
    e.delete_tag("crm").await.unwrap();
    assert_eq!(
        e.list_tags()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect::<Vec<_>>(),
        ["finance"]
    );
    let none = s
        .list_templates(Some(TagFilter::new(["crm"], TagMode::Any)))
        .await
        .unwrap();
    assert!(none.is_empty());

    // Sources select connection-template tags with a mode; unknown tags are refused.
    let src = s
        .create_source(CreateSource::new(&a.id).tags(["finance"], TagMode::All))
        .await
        .unwrap();
    assert_eq!(src.selected_connection_template_tags, ["finance"]);
    assert_eq!(
        d.embedded_source_tags(&src.id),
        Some(vec!["finance".to_string()])
    );
    let sent = d
        .requests()
        .into_iter()
        .rfind(|r| r.path == "/api/v1/embedded/sources")
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(body["selected_connection_template_tags_mode"], "all");
    let err = s
        .create_source(CreateSource::new(&a.id).tags(["crm"], TagMode::Any))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown template tag 'crm'"),
        "{err}"
    );
}

#[tokio::test]
async fn stream_selection_and_whitelist_validation() {
    let d = double().await;
    let p = platform(&d);
    let e = p.embedded().unwrap();
    let t = p
        .register_source_template(stripe().definition_id, "S", key_default())
        .await
        .unwrap();
    let s = e.session("default", Region::Us).await.unwrap();
    let src = s.create_source(CreateSource::new(&t.id)).await.unwrap();

    let catalog = e.discover(&src.id).await.unwrap();
    let expected: Vec<&str> = stripe().entities.iter().map(|e| e.name).collect();
    assert_eq!(catalog.names(), expected);
    assert_eq!(s.discover(&src.id).await.unwrap(), catalog);

    for sel in [StreamSelection::Suggested, StreamSelection::All] {
        let out = e.customize_template(&t.id, &sel).await.unwrap();
        assert_eq!(out.stream_selection_mode.as_deref(), Some(sel.mode()));
    }
    let first = expected[0];
    let out = e
        .customize_template_checked(&t.id, &src.id, StreamSelection::whitelist([first]).unwrap())
        .await
        .unwrap();
    assert_eq!(out.stream_selection_mode.as_deref(), Some("whitelist"));
    assert_eq!(out.stream_whitelist, [first]);

    // Empty whitelist: rejected before any request.
    let before = d.requests().len();
    let err = StreamSelection::whitelist(Vec::<String>::new()).unwrap_err();
    assert!(err.to_string().contains("at least one stream"), "{err}");
    let err = e
        .customize_template(&t.id, &StreamSelection::Whitelist(Vec::new()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least one stream"), "{err}");
    assert_eq!(d.requests().len(), before);

    // Unknown stream: caught by the catalog check before the template changes...
    let err = e
        .customize_template_checked(
            &t.id,
            &src.id,
            StreamSelection::whitelist([first, "not_a_stream"]).unwrap(),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not_a_stream"), "{err}");
    assert!(
        err.to_string().contains(first),
        "lists valid streams: {err}"
    );
    assert!(
        !d.requests()
            .iter()
            .any(|r| r.method == "PATCH" && r.body.windows(12).any(|w| w == b"not_a_stream"))
    );
    // ...and by the server when sent unchecked.
    let err = e
        .customize_template(
            &t.id,
            &StreamSelection::Whitelist(vec!["not_a_stream".into()]),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert!(validate_whitelist(&catalog, &[first.to_string()]).is_ok());
}

#[tokio::test]
async fn widget_and_scoped_tokens() {
    let d = double().await;
    let p = platform(&d);
    let e = p.embedded().unwrap();
    let w = e
        .widget_token("acme", "https://app.example.com", Region::Us)
        .await
        .unwrap();
    assert!(!w.token.expose_secret().is_empty());
    assert!(!format!("{w:?}").contains(w.token.expose_secret()));
    let sent = d
        .requests()
        .into_iter()
        .rfind(|r| r.path == "/api/v1/embedded/widget-token")
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(body["workspace_name"], "acme");
    assert_eq!(body["allowed_origin"], "https://app.example.com");
    assert_eq!(sent.header("x-organization-id"), Some(ORG));
    let err = e
        .widget_token("acme", "app.example.com", Region::Us)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("allowed_origin"), "{err}");
    let err = e
        .widget_token("nope", "https://a.example", Region::Us)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    let t = e.scoped_token("acme", Region::Eu).await.unwrap();
    assert!(t.token.expose_secret().starts_with("scoped-eu-"));
    // A scoped token of workspace `acme` cannot discover sources of `default`.
    let id = d.seed_connector(ORG, "default", stripe(), json!({"api_key": "k"}));
    let s = ScopedSession::new(&d.base_url(), t.token).unwrap();
    assert!(matches!(
        s.discover(&id).await.unwrap_err(),
        Error::NotFound(_)
    ));
    assert!(s.list_templates(None).await.unwrap().is_empty());
}
