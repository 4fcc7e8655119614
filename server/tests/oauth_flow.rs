//! OAuth consent end to end with an organization's own OAuth app: the runtime's
//! `set_oauth_app` and `initiate_oauth` against the server, the consent page of a Gong-shaped
//! provider double that approves and redirects to the server's callback, the code exchanged
//! with the app's credentials, the connector created with sealed tokens, the browser sent on
//! with `connector_id`, and `complete_oauth` giving a client that works. States are single
//! use; apps belong to one organization. SQLite always; PostgreSQL when
//! `AIRBYTE_SERVER_TEST_PG` is set.

mod common;

use airbyte_agent_runtime::hosted::{CreateOptions, OAuthOptions, Platform};
use airbyte_agent_runtime::{Error, SecretString};
use airbyte_agent_server::config::ServerConfig;
use airbyte_agent_server::crypto::{self, MasterKey};
use airbyte_agent_server::registry;
use common::*;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The consent page: the user approves at once, back to `redirect_uri` with a code.
struct Approve;

impl Respond for Approve {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let q: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
        let get = |k: &str| {
            q.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        if get("client_id") != "org-app-id" || get("response_type") != "code" {
            return ResponseTemplate::new(400);
        }
        let mut to = url::Url::parse(&get("redirect_uri")).expect("redirect_uri");
        to.query_pairs_mut()
            .append_pair("code", "code-123")
            .append_pair("state", &get("state"));
        ResponseTemplate::new(302).insert_header("location", to.as_str())
    }
}

async fn gong_provider() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oauth2/authorize"))
        .respond_with(Approve)
        .mount(&server)
        .await;
    // Gong authenticates the app with HTTP Basic (org-app-id:org-app-secret).
    Mock::given(method("POST"))
        .and(path("/oauth2/generate-customer-token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(body_string_contains("code=code-123"))
        .and(header(
            "authorization",
            "Basic b3JnLWFwcC1pZDpvcmctYXBwLXNlY3JldA==",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "at_consented", "refresh_token": "rt_consented", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/users"))
        .and(header("authorization", "Bearer at_consented"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "requestId": "r", "records": {"totalRecords": 1, "currentPageSize": 1, "currentPageNumber": 0},
            "users": [{"id": "u1", "emailAddress": "a@example.com"}]
        })))
        .mount(&server)
        .await;
    server
}

/// GET `url` without following redirects → (status, Location).
async fn location(url: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let u = url::Url::parse(url).expect("url");
    let addr = format!("{}:{}", u.host_str().unwrap_or(""), u.port().unwrap_or(80));
    let target = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    };
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let req = format!("GET {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let loc = text
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, loc)
}

#[tokio::test]
async fn consent_with_the_organizations_app_creates_a_working_connector() {
    let gong = registry::by_type("gong").expect("gong");
    for db in databases().await {
        let provider = gong_provider().await;
        let config = ServerConfig::new()
            .provider_base_url(gong.definition_id, provider.uri())
            .provider_refresh_url(
                gong.definition_id,
                format!("{}/oauth2/generate-customer-token", provider.uri()),
            )
            .provider_authorization_url(
                gong.definition_id,
                format!("{}/oauth2/authorize", provider.uri()),
            );
        let key = MasterKey::generate();
        let key_text = key.to_base64().expose_secret().to_string();
        let srv = TestServer::start_with_key(&db, config, key).await;
        let platform = Platform::new(srv.auth(&srv.app)).expect("platform");
        let ws = platform.workspace("default");
        let redirect = "https://app.example/after-consent";

        // No app yet: a clear 422.
        let e = ws
            .initiate_oauth(gong, redirect, OAuthOptions::new())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no OAuth app configured"), "{e}");
        platform
            .set_oauth_app(
                "gong",
                "org-app-id",
                &SecretString::from("org-app-secret".to_string()),
            )
            .await
            .expect("app set");

        let consent = ws
            .initiate_oauth(
                gong,
                redirect,
                OAuthOptions::new().create(CreateOptions::new().name("gong via consent")),
            )
            .await
            .expect("consent url");
        assert!(consent.starts_with(&provider.uri()), "{consent}");
        assert!(!consent.contains("org-app-secret"));
        let (s, callback) = location(&consent).await;
        assert_eq!(s, 302, "provider approves");
        assert!(callback.starts_with(&srv.url), "{callback}");
        let (s, back) = location(&callback).await;
        assert_eq!(s, 302, "server callback redirects");
        assert!(back.starts_with(redirect), "{back}");
        assert!(back.contains("connector_id="), "{back}");
        let (s, again) = location(&callback).await;
        assert_eq!(s, 400, "a state is used once: {again}");

        let client = ws
            .complete_oauth(gong, &back, CreateOptions::new())
            .await
            .expect("client");
        let r = client
            .execute("users", "list", json!({}))
            .await
            .expect("call with consented tokens");
        assert_eq!(r.data[0]["id"], json!("u1"));
        let id = client.hosted_connector_id().await.expect("id");
        let org = srv.app.organization_id.clone();
        let rec = srv
            .store
            .connector(&org, &id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(rec.name, "gong via consent");
        let key = MasterKey::from_base64(&key_text).expect("key");
        let creds: Value = serde_json::from_slice(
            crypto::open(&key, &rec.sealed, &rec.id)
                .expect("opens")
                .expose_secret(),
        )
        .expect("json");
        assert_eq!(creds["refresh_token"], json!("rt_consented"));
        assert_eq!(creds["client_secret"], json!("org-app-secret"));
        let raw = String::from_utf8_lossy(&db.raw_contents(&srv.store).await).into_owned();
        assert!(
            !raw.contains("org-app-secret") && !raw.contains("rt_consented"),
            "secrets in clear"
        );

        // Another organization has no app, and its state cannot finish ours.
        let b = srv.second_organization().await;
        let e = Platform::new(srv.auth(&b))
            .expect("platform")
            .workspace("default")
            .initiate_oauth(gong, redirect, OAuthOptions::new())
            .await
            .unwrap_err();
        assert!(e.to_string().contains("no OAuth app configured"), "{e}");

        platform.reset_oauth_app("gong").await.expect("reset");
        let e = ws
            .initiate_oauth(gong, redirect, OAuthOptions::new())
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Validation(_)), "{e:?}");
    }
}
