//! OAuth2 refresh: proactive and on 401, rotated refresh tokens, one refresh for concurrent
//! calls, client-auth styles and body formats, extracted token fields, templated refresh URLs,
//! failed refreshes, and renewal before expiry.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use airbyte_agent_runtime::*;
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::common::*;
use crate::{ENTITIES, auth_header, b64};

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
