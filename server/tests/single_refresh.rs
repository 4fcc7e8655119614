//! One OAuth2 refresh for a whole fleet: 200 concurrent calls of a Gong connector whose stored
//! access token the provider rejects (150 executes and 50 MCP `tools/call`s at `/mcp`), spread
//! over one or two server instances sharing one database, make exactly ONE token request to the
//! provider double (and the instances' `/metrics` count one refresh in all); the refreshed tokens
//! are in the record, sealed, before the provider sees the new access token used. SQLite
//! always; PostgreSQL when `AIRBYTE_SERVER_TEST_PG` is set (`server/tests/pg.sh`).

mod common;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use airbyte_agent_server::config::ServerConfig;
use airbyte_agent_server::crypto::{self, MasterKey};
use airbyte_agent_server::registry;
use airbyte_agent_server::storage::Store;
use common::*;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Where the provider double checks, at the first use of the new token, what the database
/// holds (a pool of its own, on a thread of its own: `Respond` is synchronous).
struct StoredBeforeUse {
    url: String,
    key: String,
    org: OnceLock<String>,
    id: OnceLock<String>,
    /// `Some(stored access token, revision)` once checked.
    seen: Mutex<Option<(String, i64)>>,
}

impl StoredBeforeUse {
    fn check(&self) -> (String, i64) {
        let (url, key) = (self.url.clone(), self.key.clone());
        let org = self.org.get().cloned().unwrap_or_default();
        let id = self.id.get().cloned().unwrap_or_default();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let store = Store::open(&url).await.expect("store");
                let rec = store
                    .connector(&org, &id)
                    .await
                    .expect("read")
                    .expect("exists");
                let key = MasterKey::from_base64(&key).expect("key");
                let plain = crypto::open(&key, &rec.sealed, &rec.id).expect("opens");
                let creds: Value = serde_json::from_slice(plain.expose_secret()).expect("json");
                store.close().await;
                (
                    creds["access_token"].as_str().unwrap_or("").to_string(),
                    rec.revision,
                )
            })
        })
        .join()
        .expect("check thread")
    }
}

struct UsersWithNewToken(Arc<StoredBeforeUse>);

impl Respond for UsersWithNewToken {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut seen = self.0.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.is_none() {
            *seen = Some(self.0.check());
        }
        ResponseTemplate::new(200).set_body_json(json!({
            "requestId": "r1",
            "records": {"totalRecords": 1, "currentPageSize": 1, "currentPageNumber": 0},
            "users": [{"id": "u1", "emailAddress": "a@example.com"}]
        }))
    }
}

async fn gong_provider(check: Arc<StoredBeforeUse>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/users"))
        .and(header("authorization", "Bearer at_expired"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"errors": ["expired"]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/users"))
        .and(header("authorization", "Bearer at_new"))
        .respond_with(UsersWithNewToken(check))
        .mount(&server)
        .await;
    // Slow, so that every instance's first 401 arrives while the refresh is under way; the
    // refresh token is single-use (Gong), so a second request would fail.
    Mock::given(method("POST"))
        .and(path("/oauth2/generate-customer-token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(150))
                .set_body_json(json!({
                    "access_token": "at_new", "refresh_token": "rt_new",
                    "expires_in": 3600, "token_type": "bearer"
                })),
        )
        .mount(&server)
        .await;
    server
}

async fn run(db: &Database, instances: usize) {
    let gong = registry::by_type("gong").expect("gong compiled in");
    let key = MasterKey::generate();
    let key_text = key.to_base64().expose_secret().to_string();
    let check = Arc::new(StoredBeforeUse {
        url: db.url.clone(),
        key: key_text.clone(),
        org: OnceLock::new(),
        id: OnceLock::new(),
        seen: Mutex::new(None),
    });
    let provider = gong_provider(check.clone()).await;
    let config = || {
        ServerConfig::new()
            .provider_base_url(gong.definition_id, provider.uri())
            .provider_refresh_url(
                gong.definition_id,
                format!("{}/oauth2/generate-customer-token", provider.uri()),
            )
    };
    let first = TestServer::start_with_key(db, config(), key).await;
    let mut servers = vec![first];
    for _ in 1..instances {
        let k = MasterKey::from_base64(&key_text).expect("key");
        let other = servers[0].another_instance(db, config(), k).await;
        servers.push(other);
    }
    let token = servers[0].token(&servers[0].app).await;
    let (s, b) = servers[0]
        .send(
            "POST",
            "/api/v1/integrations/connectors",
            Some(&token),
            Some(
                json!({
                    "definition_id": gong.definition_id, "workspace_name": "default",
                    "credentials": {"access_token": "at_expired", "refresh_token": "rt_once",
                                    "client_id": "cid", "client_secret": "csec"},
                })
                .to_string(),
            ),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let id = b["id"].as_str().expect("id").to_string();
    let _ = check.org.set(servers[0].app.organization_id.clone());
    let _ = check.id.set(id.clone());

    let servers = Arc::new(servers);
    let exec = format!("/api/v1/integrations/connectors/{id}/execute");
    let body = json!({"entity": "users", "action": "list"}).to_string();
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": "users_list", "arguments": {}}})
    .to_string();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (servers, exec, body, call, token) = (
            servers.clone(),
            exec.clone(),
            body.clone(),
            call.clone(),
            token.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let srv = &servers[i % servers.len()];
            if i % 4 == 3 {
                let headers = [
                    ("accept", "application/json, text/event-stream"),
                    ("mcp-protocol-version", "2025-11-25"),
                    ("x-workspace-name", "default"),
                ];
                let (s, text) = srv
                    .send_text("POST", "/mcp", Some(&token), &headers, Some(call))
                    .await;
                let v: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
                let first = v["result"]["structuredContent"]["data"][0]["id"].clone();
                (s, json!({"result": [{"id": first}], "mcp": v}))
            } else {
                srv.send("POST", &exec, Some(&token), Some(body)).await
            }
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        let (s, b) = t.await.expect("task");
        if s != 200 || b["result"][0]["id"] != json!("u1") {
            failures.push(format!("{s} {b}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 200 failed, first: {}",
        failures.len(),
        failures[0]
    );

    let refreshes = provider
        .received_requests()
        .await
        .expect("recording on")
        .iter()
        .filter(|r| r.url.path() == "/oauth2/generate-customer-token")
        .count();
    assert_eq!(
        refreshes, 1,
        "{instances} instance(s): one token request in all"
    );
    let (mut refreshed, mut mcp_ok) = (0.0, 0.0);
    for srv in servers.iter() {
        let (s, text) = srv.send_text("GET", "/metrics", None, &[], None).await;
        assert_eq!(s, 200);
        let value = |series: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
                .unwrap_or(-1.0)
        };
        refreshed += value("airbyte_server_token_refreshes_total{outcome=\"refreshed\"}");
        mcp_ok += value("airbyte_server_executes_total{via=\"mcp\",outcome=\"ok\"}");
    }
    assert_eq!(refreshed, 1.0, "the metrics count the one refresh");
    assert_eq!(mcp_ok, 50.0, "every MCP call succeeded");

    let seen = check.seen.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(
        seen,
        Some(("at_new".to_string(), 1)),
        "at its first use the new token was already stored (revision 1)"
    );
    let org = servers[0].app.organization_id.clone();
    let rec = servers[0]
        .store
        .connector(&org, &id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(rec.revision, 1, "stored exactly once");
    let key = MasterKey::from_base64(&key_text).expect("key");
    let plain = crypto::open(&key, &rec.sealed, &rec.id).expect("opens");
    let creds: Value = serde_json::from_slice(plain.expose_secret()).expect("json");
    assert_eq!(
        creds["refresh_token"],
        json!("rt_new"),
        "rotated token kept"
    );
    assert_eq!(creds["client_secret"], json!("csec"), "other fields kept");
    assert!(rec.token_expires_at.is_some(), "expiry noted");
    let raw = db.raw_contents(&servers[0].store).await;
    let text = String::from_utf8_lossy(&raw);
    assert!(
        !text.contains("rt_new") && !text.contains("at_new"),
        "tokens in clear"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_executes_with_an_expired_token_refresh_once() {
    for db in databases().await {
        run(&db, 1).await;
    }
    for db in databases().await {
        run(&db, 2).await;
    }
}
