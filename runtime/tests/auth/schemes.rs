//! Static credentials per auth kind: bearer, basic (templates and literals), API keys in a header
//! or the query, optional mapping entries and additional headers, an OAuth token in a custom
//! header.

use airbyte_agent_runtime::*;
use serde_json::json;

use crate::common::*;
use crate::{BEARER_CONN, ENTITIES, auth_header, b64, ok_server};

#[tokio::test]
async fn bearer_mapping() {
    let server = ok_server().await;
    let c = client(&BEARER_CONN, bearer_creds(), &server.uri());
    let r = c.execute("me", "get", json!({})).await.unwrap();
    assert_eq!(r.data, json!({"id": "u1"}));
    assert_eq!(r.kind, ResultKind::Raw);
    assert_eq!(
        auth_header(&server, "authorization").await.as_deref(),
        Some("Bearer sk_test_secret_value")
    );
}

static BASIC_SCHEMES: &[AuthSchemeDescriptor] = &[
    // Zendesk style: username from a template, password from a field.
    AuthSchemeDescriptor {
        fields: &[field("email", true), field("api_token", true)],
        mapping: &[("username", "${email}/token"), ("password", "${api_token}")],
        ..scheme("zendesk", AuthKind::Basic)
    },
    // Freshdesk style: literal password.
    AuthSchemeDescriptor {
        fields: &[field("api_key", true)],
        mapping: &[("username", "${api_key}"), ("password", "X")],
        ..scheme("freshdesk", AuthKind::Basic)
    },
    // Empty password literal.
    AuthSchemeDescriptor {
        fields: &[field("key", true)],
        mapping: &[("username", "${key}"), ("password", "")],
        ..scheme("emptypw", AuthKind::Basic)
    },
];
static BASIC_CONN: ConnectorDescriptor = connector(BASIC_SCHEMES, ENTITIES);

#[tokio::test]
async fn basic_with_templates_and_literals() {
    let server = ok_server().await;
    let cases = [
        (
            Credentials::new("zendesk")
                .set("email", "a@b.c".to_string())
                .set("api_token", "tok".to_string()),
            "a@b.c/token:tok",
        ),
        (
            Credentials::new("freshdesk").set("api_key", "k1".to_string()),
            "k1:X",
        ),
        (
            Credentials::new("emptypw").set("key", "k2".to_string()),
            "k2:",
        ),
    ];
    for (creds, plain) in cases {
        let c = client(&BASIC_CONN, creds, &server.uri());
        c.execute("me", "get", json!({})).await.unwrap();
        assert_eq!(
            auth_header(&server, "authorization").await,
            Some(format!("Basic {}", b64(plain)))
        );
    }
}

static APIKEY_SCHEMES: &[AuthSchemeDescriptor] = &[
    AuthSchemeDescriptor {
        fields: &[field("api_key", true)],
        mapping: &[("api_key", "Klaviyo-API-Key ${api_key}")],
        ..scheme(
            "klaviyo",
            AuthKind::ApiKeyHeader {
                header: "Authorization",
            },
        )
    },
    AuthSchemeDescriptor {
        fields: &[field("access_token", true)],
        mapping: &[("api_key", "${access_token}")],
        ..scheme(
            "shopify",
            AuthKind::ApiKeyHeader {
                header: "X-Shopify-Access-Token",
            },
        )
    },
    AuthSchemeDescriptor {
        fields: &[field("key", true)],
        mapping: &[("api_key", "${key}")],
        ..scheme("query", AuthKind::ApiKeyQuery { name: "api_key" })
    },
];
static APIKEY_CONN: ConnectorDescriptor = connector(APIKEY_SCHEMES, ENTITIES);

#[tokio::test]
async fn api_key_header_and_query() {
    let server = ok_server().await;
    let c = client(
        &APIKEY_CONN,
        Credentials::new("klaviyo").set("api_key", "pk_1".to_string()),
        &server.uri(),
    );
    c.execute("me", "get", json!({})).await.unwrap();
    assert_eq!(
        auth_header(&server, "authorization").await.as_deref(),
        Some("Klaviyo-API-Key pk_1")
    );
    let c = client(
        &APIKEY_CONN,
        Credentials::new("shopify").set("access_token", "shpat".to_string()),
        &server.uri(),
    );
    c.execute("me", "get", json!({})).await.unwrap();
    assert_eq!(
        auth_header(&server, "x-shopify-access-token")
            .await
            .as_deref(),
        Some("shpat")
    );
    let c = client(
        &APIKEY_CONN,
        Credentials::new("query").set("key", "q k".to_string()),
        &server.uri(),
    );
    c.execute("me", "get", json!({})).await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert_eq!(reqs.last().unwrap().url.query(), Some("api_key=q+k"));
}

static OPTIONAL_SCHEMES: &[AuthSchemeDescriptor] = &[AuthSchemeDescriptor {
    fields: &[
        field("token", true),
        field("account_id", false),
        field("dev", false),
    ],
    mapping: &[("token", "${token}"), ("account", "${account_id}")],
    additional_headers: &[
        ("Harvest-Account-Id", "{{ account_id }}"),
        ("X-Dev", "dev={{ dev }}"),
    ],
    ..scheme("opt", AuthKind::Bearer)
}];
static OPTIONAL_CONN: ConnectorDescriptor = connector(OPTIONAL_SCHEMES, ENTITIES);

#[tokio::test]
async fn optional_mapping_entries_and_additional_headers() {
    let server = ok_server().await;
    // Optional field missing: its mapping entry is dropped, the call still works.
    let c = client(
        &OPTIONAL_CONN,
        Credentials::new("opt").set("token", "t".to_string()),
        &server.uri(),
    );
    c.execute("me", "get", json!({})).await.unwrap();
    assert_eq!(
        auth_header(&server, "authorization").await.as_deref(),
        Some("Bearer t")
    );
    // Present: additional headers rendered from secrets.
    let c = client(
        &OPTIONAL_CONN,
        Credentials::new("opt")
            .set("token", "t".to_string())
            .set("account_id", "acc-9".to_string())
            .set("dev", "d1".to_string()),
        &server.uri(),
    );
    c.execute("me", "get", json!({})).await.unwrap();
    assert_eq!(
        auth_header(&server, "harvest-account-id").await.as_deref(),
        Some("acc-9")
    );
    assert_eq!(
        auth_header(&server, "x-dev").await.as_deref(),
        Some("dev=d1")
    );
    // Required field missing: build error naming the field, not the value.
    let err = Client::builder(&OPTIONAL_CONN, Credentials::new("opt"))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::MissingCredential { scheme, field } if scheme == "opt" && field == "token"),
        "{err:?}"
    );
    assert!(err.to_string().contains("token"), "{err}");
    // Unknown scheme: error lists the valid ones.
    let err = Client::builder(&OPTIONAL_CONN, Credentials::new("nope"))
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownAuthScheme { available, .. } if available == &["opt"]),
        "{err:?}"
    );
    assert!(err.to_string().contains("opt"), "{err}");
}

static SHOPIFY_SCHEMES: &[AuthSchemeDescriptor] = &[AuthSchemeDescriptor {
    fields: &[field("access_token", true)],
    ..scheme(
        "shopifyOAuth",
        AuthKind::OAuth2Header {
            oauth: OAuth2Descriptor {
                refresh_url: None,
                ..oauth2("")
            },
            header: "X-Shopify-Access-Token",
            prefix: "",
        },
    )
}];
static SHOPIFY_CONN: ConnectorDescriptor = connector(SHOPIFY_SCHEMES, ENTITIES);

#[tokio::test]
async fn oauth_token_in_custom_header() {
    let server = ok_server().await;
    let c = client(
        &SHOPIFY_CONN,
        Credentials::new("shopifyOAuth").set("access_token", "shpat_x".to_string()),
        &server.uri(),
    );
    c.execute("me", "get", json!({})).await.unwrap();
    assert_eq!(
        auth_header(&server, "x-shopify-access-token")
            .await
            .as_deref(),
        Some("shpat_x")
    );
    assert!(auth_header(&server, "authorization").await.is_none());
}
