//! Auth injection and OAuth2 refresh against a local server.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use airbyte_agent_runtime::*;
use base64::Engine as _;
use common::*;
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

static GET_ME: OperationDescriptor = op("me", "get", ActionKind::Get, Method::Get, "/me");
static ENTITIES: &[EntityDescriptor] = &[EntityDescriptor {
    name: "me",
    description: "",
    operations: std::slice::from_ref(&GET_ME),
}];

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

async fn ok_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u1"})))
        .mount(&server)
        .await;
    server
}

async fn auth_header(server: &MockServer, name: &str) -> Option<String> {
    let reqs = server.received_requests().await.unwrap_or_default();
    reqs.last()
        .and_then(|r| r.headers.get(name))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

static BEARER_CONN: ConnectorDescriptor = connector(std::slice::from_ref(&BEARER), ENTITIES);

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
    assert!(matches!(err, Error::Config(_)));
    assert!(err.to_string().contains("token"), "{err}");
    // Unknown scheme: error lists the valid ones.
    let err = Client::builder(&OPTIONAL_CONN, Credentials::new("nope"))
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("opt"), "{err}");
}

// ------------------------------------------------------------------------------------------
// OAuth2

const fn oauth(
    client_auth: TokenClientAuth,
    body_format: TokenBodyFormat,
    extract: &'static [&'static str],
) -> AuthKind {
    AuthKind::OAuth2(OAuth2Descriptor {
        client_auth,
        body_format,
        token_extract: extract,
        ..oauth2("https://{{ subdomain }}.example.invalid/oauth/token")
    })
}

const OAUTH_FIELDS: &[AuthField] = &[
    field("client_id", false),
    field("client_secret", false),
    field("refresh_token", true),
    field("access_token", false),
];

static OAUTH_SCHEMES: &[AuthSchemeDescriptor] = &[
    AuthSchemeDescriptor {
        fields: OAUTH_FIELDS,
        additional_headers: &[("X-Client", "{{ client_id }}")],
        ..scheme(
            "body",
            oauth(TokenClientAuth::Body, TokenBodyFormat::Form, &[]),
        )
    },
    AuthSchemeDescriptor {
        fields: OAUTH_FIELDS,
        ..scheme(
            "basic",
            oauth(
                TokenClientAuth::Basic,
                TokenBodyFormat::Json,
                &["instance_url"],
            ),
        )
    },
    // Zoho style: an additional header overwrites Authorization using the refreshed token.
    AuthSchemeDescriptor {
        fields: OAUTH_FIELDS,
        additional_headers: &[("Authorization", "Zoho-oauthtoken {{ access_token }}")],
        ..scheme(
            "zoho",
            oauth(TokenClientAuth::None, TokenBodyFormat::Form, &[]),
        )
    },
];
static OAUTH_CONN: ConnectorDescriptor = connector(OAUTH_SCHEMES, ENTITIES);

fn oauth_creds(scheme: &'static str, access: Option<&str>) -> Credentials {
    Credentials::new(scheme)
        .set("client_id", "cid".to_string())
        .set("client_secret", "csec".to_string())
        .set("refresh_token", "rt0".to_string())
        .set_opt(
            "access_token",
            access.map(|a| SecretString::from(a.to_string())),
        )
}

fn oauth_client(
    server: &MockServer,
    creds: Credentials,
    calls: Arc<Mutex<Vec<RefreshedTokens>>>,
) -> Client {
    Client::builder(&OAUTH_CONN, creds)
        .base_url(server.uri())
        .server_variable("subdomain", "acme")
        .refresh_url(format!("{}/oauth/token", server.uri()))
        .on_token_refresh(move |t| calls.lock().unwrap().push(t.clone()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn proactive_refresh_form_body_and_rotation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(
            "grant_type=refresh_token&refresh_token=rt0&client_id=cid&client_secret=csec",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "at1", "refresh_token": "rt1", "expires_in": 3600}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(NeedsToken("at1"))
        .mount(&server)
        .await;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = oauth_client(&server, oauth_creds("body", None), calls.clone());
    c.execute("me", "get", json!({})).await.unwrap();
    c.execute("me", "get", json!({})).await.unwrap();
    assert_eq!(
        auth_header(&server, "x-client").await.as_deref(),
        Some("cid")
    );
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].access_token.expose_secret(), "at1");
    assert_eq!(
        calls[0]
            .refresh_token
            .as_ref()
            .map(|s| s.expose_secret().to_string()),
        Some("rt1".into())
    );
    assert_eq!(calls[0].expires_in, Some(3600));
    assert!(!format!("{:?}", calls[0]).contains("at1"));
}

#[tokio::test]
async fn refresh_on_401_then_rotated_refresh_token_is_used() {
    let server = MockServer::start().await;
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(move |req: &Request| {
            let i = n2.fetch_add(1, Ordering::SeqCst);
            let body = String::from_utf8_lossy(&req.body).to_string();
            let expected_rt = if i == 0 { "refresh_token=rt0" } else { "refresh_token=rt1" };
            assert!(body.contains(expected_rt), "refresh #{i} sent {body}");
            ResponseTemplate::new(200).set_body_json(json!({"access_token": format!("at{}", i + 1), "refresh_token": format!("rt{}", i + 1)}))
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(NeedsToken("at1"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(NeedsToken("at2"))
        .mount(&server)
        .await;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = oauth_client(&server, oauth_creds("body", Some("stale")), calls.clone());
    // 401 with the stale token → refresh → replay with at1.
    c.execute("me", "get", json!({})).await.unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 1);
    // at1 expires; the next refresh must use the rotated rt1.
    c.execute("me", "get", json!({})).await.unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2);
    assert_eq!(calls.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn hundred_concurrent_calls_refresh_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "fresh"}))
                .set_delay(std::time::Duration::from_millis(50)),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(NeedsToken("fresh"))
        .mount(&server)
        .await;
    let c = oauth_client(
        &server,
        oauth_creds("body", Some("expired")),
        Arc::default(),
    );
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.execute("me", "get", json!({})).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let token_requests = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/oauth/token")
        .count();
    assert_eq!(token_requests, 1);
}

#[tokio::test]
async fn basic_client_auth_json_body_and_token_extract() {
    let server = MockServer::start().await;
    let other = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"on": "instance"})))
        .mount(&other)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header(
            "authorization",
            format!("Basic {}", b64("cid:csec")).as_str(),
        ))
        .and(header("content-type", "application/json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "at1", "instance_url": other.uri()})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let c = Client::builder(&OAUTH_CONN, oauth_creds("basic", None))
        .base_url("{instance_url}")
        .server_variable("instance_url", server.uri())
        .refresh_url(format!("{}/oauth/token", server.uri()))
        .on_token_refresh({
            let calls = calls.clone();
            move |t| calls.lock().unwrap().push(t.clone())
        })
        .build()
        .unwrap();
    let r = c.execute("me", "get", json!({})).await.unwrap();
    assert_eq!(r.data, json!({"on": "instance"}));
    let token_req = &server.received_requests().await.unwrap()[0];
    let body: serde_json::Value = serde_json::from_slice(&token_req.body).unwrap();
    assert_eq!(
        body,
        json!({"grant_type": "refresh_token", "refresh_token": "rt0"})
    );
    assert_eq!(
        auth_header(&other, "authorization").await.as_deref(),
        Some("Bearer at1")
    );
    assert_eq!(
        calls.lock().unwrap()[0].extracted.get("instance_url"),
        Some(&other.uri())
    );
}

#[tokio::test]
async fn templated_refresh_url_and_zoho_header_overwrite() {
    // The refresh URL template uses {{ subdomain }}; point the base at our server via a
    // template that renders to it.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(body_string("grant_type=refresh_token&refresh_token=rt0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"access_token": "zt"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .and(header("authorization", "Zoho-oauthtoken zt"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let port = server.address().port();
    let c = Client::builder(&OAUTH_CONN, oauth_creds("zoho", None))
        .base_url(server.uri())
        .server_variable("subdomain", "127.0.0.1")
        .refresh_url(format!("http://{{{{ subdomain }}}}:{port}/oauth/token"))
        .build()
        .unwrap();
    c.execute("me", "get", json!({})).await.unwrap();
}

#[tokio::test]
async fn failed_refresh_is_an_auth_error_without_secrets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    let c = oauth_client(&server, oauth_creds("body", None), Arc::default());
    let err = c.execute("me", "get", json!({})).await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
    assert_eq!(err.status(), Some(400));
    let text = format!("{err} {err:?}");
    assert!(text.contains("invalid_grant"));
    for secret in ["rt0", "csec"] {
        assert!(!text.contains(secret), "secret leaked: {text}");
    }
}

#[tokio::test]
async fn secrets_never_in_debug_or_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "bad key"})))
        .mount(&server)
        .await;
    let creds = bearer_creds();
    assert!(!format!("{creds:?}").contains("sk_test_secret_value"));
    let c = client(&BEARER_CONN, creds, &server.uri());
    assert!(!format!("{c:?}").contains("sk_test_secret_value"));
    let err = c.execute("me", "get", json!({})).await.unwrap_err();
    assert!(matches!(err, Error::Auth(_)));
    assert_eq!(err.message(), "bad key");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("sk_test_secret_value"), "{text}");
}

#[tokio::test]
async fn no_credentials_to_foreign_hosts() {
    // A two-step download whose file URL points at another origin gets no auth header.
    static FILE_OP: OperationDescriptor = OperationDescriptor {
        params: &[common::path("id")],
        response: ResponseDescriptor {
            file_url: Some("file.url"),
            ..RESPONSE
        },
        ..op(
            "files",
            "download",
            ActionKind::Download,
            Method::Get,
            "/files/{id}",
        )
    };
    static FILE_CONN: ConnectorDescriptor = connector(
        std::slice::from_ref(&BEARER),
        &[EntityDescriptor {
            name: "files",
            description: "",
            operations: std::slice::from_ref(&FILE_OP),
        }],
    );
    let api = MockServer::start().await;
    let cdn = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/files/f%2F1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"file": {"url": format!("{}/blob?sig=abc", cdn.uri())}})),
        )
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/blob"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(b"hello".to_vec()))
        .mount(&cdn)
        .await;
    let c = client(&FILE_CONN, bearer_creds(), &api.uri());
    let bytes = c
        .download(&FILE_OP, params(json!({"id": "f/1"})))
        .await
        .unwrap()
        .collect_bytes()
        .await
        .unwrap();
    assert_eq!(bytes, b"hello");
    assert!(auth_header(&api, "authorization").await.is_some());
    let cdn_req = &cdn.received_requests().await.unwrap()[0];
    assert!(cdn_req.headers.get("authorization").is_none());
    assert_eq!(cdn_req.headers.get("accept").unwrap(), "*/*");
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

/// Mints `at1`, `at2`, ... each valid for `expires_in` seconds (sent as a string when asked).
struct ShortLivedTokens {
    minted: Arc<AtomicUsize>,
    expires_in: serde_json::Value,
}
impl wiremock::Respond for ShortLivedTokens {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.minted.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200)
            .set_body_json(json!({"access_token": format!("at{n}"), "expires_in": self.expires_in}))
    }
}

#[tokio::test]
async fn tokens_are_renewed_before_they_expire() {
    for expires_in in [json!(2), json!("2")] {
        let server = MockServer::start().await;
        let minted = Arc::new(AtomicUsize::new(0));
        Mock::given(method("POST"))
            .and(path("/oauth/token"))
            .respond_with(ShortLivedTokens {
                minted: minted.clone(),
                expires_in,
            })
            .mount(&server)
            .await;
        // Only the newest token is accepted: a stale one would cost a 401 and a reactive refresh.
        Mock::given(method("GET"))
            .and(path("/me"))
            .and(header("authorization", "Bearer at1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u1"})))
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/me"))
            .and(header("authorization", "Bearer at2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "u1"})))
            .mount(&server)
            .await;
        let calls = Arc::new(Mutex::new(Vec::new()));
        let c = oauth_client(&server, oauth_creds("body", None), calls);
        c.execute("me", "get", json!({})).await.unwrap();
        c.execute("me", "get", json!({})).await.unwrap();
        assert_eq!(
            minted.load(Ordering::SeqCst),
            1,
            "the first token is reused"
        );
        // A 2 s token is renewed after 1 s (half its life for short tokens).
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        c.execute("me", "get", json!({})).await.unwrap();
        assert_eq!(minted.load(Ordering::SeqCst), 2, "renewed before use");
        let statuses: Vec<u16> = server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == "/me")
            .map(|r| {
                let auth = r.headers.get("authorization").and_then(|v| v.to_str().ok());
                if matches!(auth, Some("Bearer at1" | "Bearer at2")) {
                    200
                } else {
                    401
                }
            })
            .collect();
        assert_eq!(statuses, [200, 200, 200], "no request met an expired token");
    }
}
