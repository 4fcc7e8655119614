//! Fixtures: a real server on 127.0.0.1 over a real database (a fresh SQLite file, and
//! PostgreSQL when `AIRBYTE_SERVER_TEST_PG` gives a URL), a Stripe-shaped provider on loopback,
//! and a raw HTTP client for what the runtime's client never sends.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use airbyte_agent_runtime::hosted::AirbyteAuthConfig;
use airbyte_agent_server::api::{self, AppState};
use airbyte_agent_server::config::ServerConfig;
use airbyte_agent_server::crypto::MasterKey;
use airbyte_agent_server::storage::{Application, Store};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub mod process;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The provider key stored as the connector's credentials: it must never come back out.
pub const STRIPE_KEY: &str = "sk_test_server_side_only_7f3a";

/// Environment variable with a PostgreSQL URL for the same suite.
pub const PG_ENV: &str = "AIRBYTE_SERVER_TEST_PG";

static N: AtomicUsize = AtomicUsize::new(0);

/// Databases every test runs on: a fresh SQLite file, plus (when configured) a fresh schema of
/// the PostgreSQL database, so tests neither see nor disturb each other's rows.
pub async fn databases() -> Vec<Database> {
    let mut out = vec![Database::sqlite()];
    if let Ok(url) = std::env::var(PG_ENV)
        && !url.is_empty()
    {
        use sqlx::Connection as _;
        sqlx::any::install_default_drivers();
        let schema = format!(
            "t_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = sqlx::AnyConnection::connect(&url)
            .await
            .expect("PostgreSQL connects");
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&mut conn)
            .await
            .expect("drop schema");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .expect("create schema");
        let _ = conn.close().await;
        let sep = if url.contains('?') { '&' } else { '?' };
        out.push(Database {
            url: format!("{url}{sep}options=-csearch_path%3D{schema}"),
            sqlite_file: None,
        });
    }
    out
}

/// One test database (a SQLite one is removed with its directory when dropped).
#[derive(Debug)]
pub struct Database {
    /// Its URL.
    pub url: String,
    /// The SQLite file, when it is one.
    pub sqlite_file: Option<PathBuf>,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(dir) = self.sqlite_file.as_ref().and_then(|f| f.parent()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Database {
    /// A fresh SQLite file under the system temp directory.
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "airbyte-agent-server-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("server.db");
        Database {
            url: format!("sqlite://{}", file.display()),
            sqlite_file: Some(file),
        }
    }

    /// The directory of a SQLite database's file (where the binary's tests run it).
    pub fn sqlite_dir(&self) -> PathBuf {
        self.sqlite_file
            .as_ref()
            .and_then(|f| f.parent())
            .expect("a SQLite file in a directory")
            .to_path_buf()
    }

    /// Every byte the database holds (SQLite: the file and its journals; PostgreSQL: every
    /// stored value of the server's tables).
    pub async fn raw_contents(&self, store: &Store) -> Vec<u8> {
        if let Some(f) = &self.sqlite_file {
            let mut all = Vec::new();
            for suffix in ["", "-wal", "-journal", "-shm"] {
                let p = PathBuf::from(format!("{}{suffix}", f.display()));
                if let Ok(b) = std::fs::read(&p) {
                    all.extend(b);
                }
            }
            return all;
        }
        let mut all = Vec::new();
        for table in [
            "organizations",
            "applications",
            "access_tokens",
            "workspaces",
            "connectors",
        ] {
            let rows = store.debug_dump(table).await.expect("dump");
            all.extend(rows.into_bytes());
        }
        all
    }
}

/// A running server with one organization.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The organization created at start.
    pub app: Application,
    /// The store (same database as the server).
    pub store: Store,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl TestServer {
    /// Start on `db` with `config` and a fresh master key.
    pub async fn start(db: &Database, config: ServerConfig) -> Self {
        Self::start_with_key(db, config, MasterKey::generate()).await
    }

    /// Start on `db` with `config` and `key`.
    pub async fn start_with_key(db: &Database, config: ServerConfig, key: MasterKey) -> Self {
        let store = Store::open(&db.url).await.expect("store opens");
        let app = store
            .create_organization("acme", "default")
            .await
            .expect("organization");
        Self::start_instance(store, app, config, key).await
    }

    /// Another instance on the same database and key (its own pool, caches and listener),
    /// serving the same organization.
    pub async fn another_instance(
        &self,
        db: &Database,
        config: ServerConfig,
        key: MasterKey,
    ) -> Self {
        let store = Store::open(&db.url).await.expect("store opens");
        let app = Application {
            organization_id: self.app.organization_id.clone(),
            client_id: self.app.client_id.clone(),
            client_secret: self.app.client_secret.clone(),
        };
        Self::start_instance(store, app, config, key).await
    }

    /// Serve `app`'s organization from `store`.
    pub async fn start_instance(
        store: Store,
        app: Application,
        config: ServerConfig,
        key: MasterKey,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let router = api::router(AppState::new(store.clone(), key, config));
        let (tx, rx) = oneshot::channel();
        tokio::spawn(api::serve(listener, router, async {
            let _ = rx.await;
        }));
        TestServer {
            url,
            app,
            store,
            stop: Some(tx),
        }
    }

    /// Another organization (with its own application) on the same server.
    pub async fn second_organization(&self) -> Application {
        self.store
            .create_organization("globex", "default")
            .await
            .expect("organization")
    }

    /// Hosted-client settings for `app` against this server.
    pub fn auth(&self, app: &Application) -> AirbyteAuthConfig {
        AirbyteAuthConfig::new(
            app.client_id.clone(),
            app.client_secret.expose_secret().to_string(),
        )
        .organization_id(app.organization_id.clone())
        .base_url(self.url.clone())
        .workspace_name("default")
    }

    /// A bearer token for `app`, through the token endpoint.
    pub async fn token(&self, app: &Application) -> String {
        let (status, body) = self
            .send(
                "POST",
                "/api/v1/account/applications/token",
                None,
                Some(
                    json!({
                        "client_id": app.client_id,
                        "client_secret": app.client_secret.expose_secret(),
                    })
                    .to_string(),
                ),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().expect("token").to_string()
    }

    /// A raw request → (status, JSON body or the text as a JSON string).
    pub async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (u16, Value) {
        let (s, text) = self
            .send_text(method, path_and_query, token, &[], body)
            .await;
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (s, v)
    }

    /// A raw request with extra headers → (status, body text).
    pub async fn send_text(
        &self,
        method: &str,
        path_and_query: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> (u16, String) {
        send_raw(&self.url, method, path_and_query, token, headers, body).await
    }

    /// Create a Stripe connector in workspace `ws` (named `name`, if given) with raw JSON →
    /// the status and body.
    pub async fn create_stripe_in(
        &self,
        token: &str,
        ws: &str,
        name: Option<&str>,
    ) -> (u16, Value) {
        let mut body = json!({
            "definition_id": stripe().definition_id,
            "workspace_name": ws,
            "credentials": {"api_key": STRIPE_KEY},
        });
        if let Some(n) = name {
            body["name"] = json!(n);
        }
        self.send(
            "POST",
            "/api/v1/integrations/connectors",
            Some(token),
            Some(body.to_string()),
        )
        .await
    }

    /// Create a Stripe connector in workspace `default` with raw JSON → its id.
    pub async fn create_stripe(&self, token: &str) -> String {
        let (s, b) = self
            .create_stripe_in(token, "default", Some("stripe for acme"))
            .await;
        assert_eq!(s, 201, "{b}");
        b["id"].as_str().expect("id").to_string()
    }
}

/// The Stripe descriptor.
pub fn stripe() -> &'static airbyte_agent_runtime::ConnectorDescriptor {
    airbyte_agent_stripe::StripeConnector::descriptor()
}

/// A customer record.
pub fn customer(i: u32) -> Value {
    json!({
        "id": format!("cus_{i}"),
        "object": "customer",
        "email": format!("user{i}@example.com"),
        "name": format!("User {i}"),
        "created": 1_700_000_000 + i,
        "address": {"city": "Paris", "country": "FR"},
    })
}

/// A Stripe-shaped provider on loopback that answers only the stored key.
pub async fn stripe_provider() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/customers"))
        .and(header(
            "authorization",
            format!("Bearer {STRIPE_KEY}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "list", "url": "/v1/customers", "has_more": false,
            "data": [customer(1), customer(2)]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_missing"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": {"message": "No such customer: 'cus_missing'", "type": "invalid_request_error"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_echo"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": {"message": format!("Invalid API Key provided: {STRIPE_KEY}")}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/customers/cus_boom"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": {"message": "internal"}
        })))
        .mount(&server)
        .await;
    server
}

/// A server with one Stripe connector: the provider double its calls go to, the server on `db`,
/// an application token and the connector's id (in workspace `default`).
pub async fn with_stripe(db: &Database) -> (MockServer, TestServer, String, String) {
    let provider = stripe_provider().await;
    let srv = TestServer::start(db, config_for(&provider)).await;
    let app = srv.token(&srv.app).await;
    let id = srv.create_stripe(&app).await;
    (provider, srv, app, id)
}

/// Server settings that send Stripe calls to `provider`.
pub fn config_for(provider: &MockServer) -> ServerConfig {
    ServerConfig::new().provider_base_url(stripe().definition_id, provider.uri())
}

/// The payload of a chunked body.
fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A raw request to the server at `url` with extra headers → (status, body text).
pub async fn send_raw(
    url: &str,
    method: &str,
    path_and_query: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (u16, String) {
    let (status, _, body) = send_raw_head(url, method, path_and_query, token, headers, body).await;
    (status, body)
}

/// [`send_raw`] → (status, the response head, body text).
pub async fn send_raw_head(
    url: &str,
    method: &str,
    path_and_query: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = url.trim_start_matches("http://");
    // A refused or reset connection is status 0 (instances are killed in fault tests).
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return (0, String::new(), String::new());
    };
    let mut req =
        format!("{method} {path_and_query} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("authorization: Bearer {t}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or_default();
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!(
            "content-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    if stream.write_all(req.as_bytes()).await.is_err() {
        return (0, String::new(), String::new());
    }
    // A server may refuse a body before reading it all (413): a failed write is fine.
    let _ = stream.write_all(body.as_bytes()).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (status, head.to_string(), body)
}

/// A raw request to the server at `url` → (status, JSON body or the text as a JSON string).
pub async fn send_json(
    url: &str,
    method: &str,
    path_and_query: &str,
    token: Option<&str>,
    body: Option<String>,
) -> (u16, Value) {
    let (s, text) = send_raw(url, method, path_and_query, token, &[], body).await;
    (
        s,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
