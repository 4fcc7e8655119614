//! Secrets never leak: auth and fault scenarios run with a process-wide `tracing` subscriber at
//! TRACE (and a `log` logger at Trace, for the HTTP stack) capturing every span, field and event
//! into a buffer; that buffer, every error's `Display`/`Debug`, and the `Debug` of clients,
//! credentials and refreshed tokens must not contain any of the fake secrets.

mod common;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use airbyte_agent_runtime::*;
use base64::Engine as _;
use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

const API_KEY: &str = "SECRET-api-key-4f9c21";
const QUERY_KEY: &str = "SECRET-query-key-77ab03";
const BASIC_PASSWORD: &str = "SECRET-basic-pass-0c1d";
const CLIENT_SECRET: &str = "SECRET-client-secret-9e8d7c";
const REFRESH_TOKEN: &str = "SECRET-refresh-token-a1b2c3";
const ACCESS_TOKEN: &str = "SECRET-access-token-d4e5f6";
const FRESH_ACCESS: &str = "SECRET-fresh-access-778899";
const ROTATED_REFRESH: &str = "SECRET-rotated-refresh-5566";

fn all_secrets() -> Vec<String> {
    let mut v: Vec<String> = [
        API_KEY,
        QUERY_KEY,
        BASIC_PASSWORD,
        CLIENT_SECRET,
        REFRESH_TOKEN,
        ACCESS_TOKEN,
        FRESH_ACCESS,
        ROTATED_REFRESH,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // The Basic header's encoded form.
    v.push(base64::engine::general_purpose::STANDARD.encode(format!("user:{BASIC_PASSWORD}")));
    // Every line of the service-account test key, in the key file's JSON escaping too.
    v.extend(
        SERVICE_ACCOUNT_KEY
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::to_string),
    );
    v.push(service_account_json());
    v
}

/// An RSA key generated for the tests (`tests/fixtures`); it authorises nothing.
const SERVICE_ACCOUNT_KEY: &str = include_str!("fixtures/jwt-test-key.pem");

fn service_account_json() -> String {
    json!({
        "client_email": "reporter@example.iam.gserviceaccount.com",
        "private_key": SERVICE_ACCOUNT_KEY,
        "token_uri": "https://oauth2.googleapis.com/token",
    })
    .to_string()
}

// ------------------------------------------------------------------------------------------
// Capture: a minimal tracing subscriber and log logger writing everything into one buffer.

fn buffer() -> &'static Mutex<String> {
    static BUF: OnceLock<Mutex<String>> = OnceLock::new();
    BUF.get_or_init(|| Mutex::new(String::new()))
}

fn append(s: &str) {
    if let Ok(mut b) = buffer().lock() {
        b.push_str(s);
        b.push('\n');
    }
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let _ = write!(self.0, " {}={} ({:?})", field.name(), value, value);
    }
}

struct Capture {
    next: AtomicU64,
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut f = Fields(format!(
            "span {} {}",
            span.metadata().target(),
            span.metadata().name()
        ));
        span.record(&mut f);
        append(&f.0);
        Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed))
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut f = Fields("record".into());
        values.record(&mut f);
        append(&f.0);
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let m = event.metadata();
        let mut f = Fields(format!("event {} {} {}", m.level(), m.target(), m.name()));
        event.record(&mut f);
        append(&f.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

struct LogCapture;

impl log::Log for LogCapture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        append(&format!("log {} {} {}", r.level(), r.target(), r.args()));
    }
    fn flush(&self) {}
}

static LOGGER: LogCapture = LogCapture;

fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let _ = tracing::subscriber::set_global_default(Capture {
            next: AtomicU64::new(1),
        });
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
    });
}

/// Everything the scenarios exposed: the capture buffer plus the given texts.
fn assert_clean(context: &str, texts: &[String]) {
    let captured = buffer().lock().map(|b| b.clone()).unwrap_or_default();
    assert!(
        !captured.is_empty(),
        "the capture saw nothing: the test would prove nothing"
    );
    for secret in all_secrets() {
        assert!(
            !captured.contains(&secret),
            "{context}: a secret appears in the trace output"
        );
        for t in texts {
            assert!(!t.contains(&secret), "{context}: a secret appears in `{t}`");
        }
    }
}

fn err_texts(e: &Error) -> Vec<String> {
    vec![e.to_string(), format!("{e:?}"), e.message().to_string()]
}

// ------------------------------------------------------------------------------------------
// Servers.

/// A scripted HTTP/1.1 server; the script sees (request index, request head + body).
async fn serve(script: impl Fn(usize, &str) -> Option<Vec<u8>> + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let script = Arc::new(script);
    let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (script, n) = (script.clone(), n.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    while buf.len() < end + 4 + len {
                        match s.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                    }
                    let req = String::from_utf8_lossy(&buf[..end + 4 + len]).to_string();
                    buf.drain(..end + 4 + len);
                    let i = n.fetch_add(1, Ordering::SeqCst);
                    match script(i, &req) {
                        Some(resp) => {
                            if s.write_all(&resp).await.is_err() {
                                return;
                            }
                        }
                        None => {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    url
}

fn reply(status: &str, extra: &str, body: &str) -> Option<Vec<u8>> {
    Some(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

// ------------------------------------------------------------------------------------------
// Descriptors.

static GET_ME: OperationDescriptor = op("me", "get", ActionKind::Get, Method::Get, "/me");
static ENTITIES: &[EntityDescriptor] = &[EntityDescriptor {
    name: "me",
    description: "",
    operations: std::slice::from_ref(&GET_ME),
}];

static SCHEMES: &[AuthSchemeDescriptor] = &[
    AuthSchemeDescriptor {
        fields: &[field("api_key", true)],
        mapping: &[("token", "${api_key}")],
        ..scheme("bearer", AuthKind::Bearer)
    },
    AuthSchemeDescriptor {
        fields: &[field("key", true)],
        mapping: &[("api_key", "${key}")],
        additional_headers: &[("X-Extra", "{{ key }}")],
        ..scheme(
            "header",
            AuthKind::ApiKeyHeader {
                header: "X-Api-Key",
            },
        )
    },
    AuthSchemeDescriptor {
        fields: &[field("key", true)],
        mapping: &[("api_key", "${key}")],
        ..scheme("query", AuthKind::ApiKeyQuery { name: "api_key" })
    },
    AuthSchemeDescriptor {
        fields: &[field("username", true), field("password", true)],
        mapping: &[("username", "${username}"), ("password", "${password}")],
        ..scheme("basic", AuthKind::Basic)
    },
    AuthSchemeDescriptor {
        fields: &[
            field("client_id", false),
            field("client_secret", false),
            field("refresh_token", true),
            field("access_token", false),
        ],
        ..scheme(
            "oauth",
            AuthKind::OAuth2(OAuth2Descriptor {
                client_auth: TokenClientAuth::Basic,
                ..oauth2("https://auth.example.invalid/token")
            }),
        )
    },
    AuthSchemeDescriptor {
        fields: &[field("credentials_json", true)],
        ..scheme(
            "serviceAccount",
            AuthKind::OAuth2(OAuth2Descriptor {
                grant: TokenGrant::JwtBearer,
                scopes: &["scope.read"],
                ..oauth2("https://auth.example.invalid/token")
            }),
        )
    },
];
static CONN: ConnectorDescriptor = connector(SCHEMES, ENTITIES);

fn simple_creds() -> Vec<Credentials> {
    vec![
        Credentials::new("bearer").set("api_key", API_KEY.to_string()),
        Credentials::new("header").set("key", API_KEY.to_string()),
        Credentials::new("query").set("key", QUERY_KEY.to_string()),
        Credentials::new("basic")
            .set("username", "user".to_string())
            .set("password", BASIC_PASSWORD.to_string()),
    ]
}

fn oauth_creds() -> Credentials {
    Credentials::new("oauth")
        .set("client_id", "cid".to_string())
        .set("client_secret", CLIENT_SECRET.to_string())
        .set("refresh_token", REFRESH_TOKEN.to_string())
        .set("access_token", ACCESS_TOKEN.to_string())
}

fn build(creds: Credentials, url: &str) -> Client {
    Client::builder(&CONN, creds)
        .base_url(url)
        .timeout(Duration::from_millis(300))
        .connect_timeout(Duration::from_millis(300))
        .retry_policy(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(2))
                .max_delay(Duration::from_millis(20)),
        )
        .build()
        .expect("client")
}

// ------------------------------------------------------------------------------------------
// Scenarios.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_credentials_never_leak() {
    install();
    let bounded = tokio::time::timeout(Duration::from_secs(30), async {
        // success, 401, 500 burst, 429, stall (timeout), connection refused, bad JSON
        let url = serve(|i, _| match i % 7 {
            0 => reply("200 OK", "", r#"{"id":"u1"}"#),
            1 => reply("401 Unauthorized", "", r#"{"message":"invalid key"}"#),
            2 => reply(
                "500 Internal Server Error",
                "",
                r#"{"error":{"message":"boom"}}"#,
            ),
            3 => reply(
                "429 Too Many Requests",
                "retry-after: 0\r\n",
                r#"{"message":"slow"}"#,
            ),
            4 => None,
            5 => reply("200 OK", "", r#"{"id": nope"#),
            _ => reply("200 OK", "", r#"{"id":"u2"}"#),
        })
        .await;
        let refused = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let u = format!("http://{}", l.local_addr().expect("addr"));
            drop(l);
            u
        };
        let mut texts = Vec::new();
        for creds in simple_creds() {
            texts.push(format!("{creds:?}"));
            let c = build(creds.clone(), &url);
            texts.push(format!("{c:?}"));
            for _ in 0..7 {
                match c.execute("me", "get", json!({})).await {
                    Ok(r) => texts.push(format!("{r:?}")),
                    Err(e) => texts.extend(err_texts(&e)),
                }
            }
            let c = build(creds, &refused);
            let e = c
                .execute("me", "get", json!({}))
                .await
                .expect_err("refused");
            texts.extend(err_texts(&e));
        }
        // The capture really sees the runtime's spans and both logging facades.
        tracing::trace!(canary = "CANARY-trace-1");
        log::trace!("CANARY-log-1");
        let captured = buffer().lock().map(|b| b.clone()).unwrap_or_default();
        for needle in [
            "CANARY-trace-1",
            "CANARY-log-1",
            "airbyte_connector_call",
            "retrying",
        ] {
            assert!(captured.contains(needle), "capture lacks {needle}");
        }
        assert_clean("static credentials", &texts);
    });
    bounded.await.expect("scenario finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_tokens_never_leak() {
    install();
    let bounded = tokio::time::timeout(Duration::from_secs(30), async {
        // 401 → refresh (rotating) → success.
        let url = serve(|_, req| {
            if req.starts_with("POST /token") {
                return reply(
                    "200 OK",
                    "",
                    &format!(
                        r#"{{"access_token":"{FRESH_ACCESS}","refresh_token":"{ROTATED_REFRESH}","token_type":"Bearer","expires_in":3600}}"#
                    ),
                );
            }
            if req.contains(&format!("Bearer {FRESH_ACCESS}")) || req.to_lowercase().contains(&format!("bearer {}", FRESH_ACCESS.to_lowercase())) {
                reply("200 OK", "", r#"{"id":"u1"}"#)
            } else {
                reply("401 Unauthorized", "", r#"{"message":"token expired"}"#)
            }
        })
        .await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let c = Client::builder(&CONN, oauth_creds())
            .base_url(&url)
            .refresh_url(format!("{url}/token"))
            .timeout(Duration::from_millis(300))
            .on_token_refresh(move |t| {
                if let Ok(mut s) = seen2.lock() {
                    s.push(format!("{t:?}"));
                }
            })
            .build()
            .expect("client");
        let mut texts = vec![format!("{c:?}"), format!("{:?}", oauth_creds())];
        let r = c
            .execute("me", "get", json!({}))
            .await
            .expect("refresh then success");
        texts.push(format!("{r:?}"));
        texts.extend(seen.lock().map(|s| s.clone()).unwrap_or_default());
        assert_eq!(
            texts
                .iter()
                .filter(|t| t.contains("RefreshedTokens"))
                .count(),
            1
        );

        // Refresh rejected (the error body names the grant, not the token).
        let url = serve(|_, req| {
            if req.starts_with("POST /token") {
                reply(
                    "400 Bad Request",
                    "",
                    r#"{"error":"invalid_grant","error_description":"The refresh token is invalid or revoked"}"#,
                )
            } else {
                reply("401 Unauthorized", "", r#"{"message":"token expired"}"#)
            }
        })
        .await;
        let c = Client::builder(&CONN, oauth_creds())
            .base_url(&url)
            .refresh_url(format!("{url}/token"))
            .timeout(Duration::from_millis(300))
            .build()
            .expect("client");
        let e = c
            .execute("me", "get", json!({}))
            .await
            .expect_err("rejected");
        assert!(matches!(e, Error::Auth(_)), "{e:?}");
        texts.extend(err_texts(&e));

        // Token endpoint down / stalling.
        let url = serve(|_, req| {
            if req.starts_with("POST /token") {
                None
            } else {
                reply("401 Unauthorized", "", r#"{"message":"token expired"}"#)
            }
        })
        .await;
        let c = Client::builder(&CONN, oauth_creds())
            .base_url(&url)
            .refresh_url(format!("{url}/token"))
            .timeout(Duration::from_millis(300))
            .build()
            .expect("client");
        let e = c
            .execute("me", "get", json!({}))
            .await
            .expect_err("stalled refresh");
        texts.extend(err_texts(&e));
        assert_clean("oauth", &texts);
    });
    bounded.await.expect("scenario finished in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_account_keys_and_assertions_never_leak() {
    install();
    let bounded = tokio::time::timeout(Duration::from_secs(30), async {
        let creds =
            || Credentials::new("serviceAccount").set("credentials_json", service_account_json());
        let assertions = Arc::new(Mutex::new(Vec::new()));
        let mut texts = vec![format!("{:?}", creds())];
        // Minted → used; then a 401 mints again and the token endpoint rejects the assertion.
        for reject_second in [false, true] {
            let seen = assertions.clone();
            let minted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let url = serve(move |_, req| {
                if req.starts_with("POST /token") {
                    if let Some(a) = req.split("assertion=").nth(1)
                        && let Ok(mut s) = seen.lock()
                    {
                        s.push(a.trim().to_string());
                    }
                    if minted.fetch_add(1, Ordering::SeqCst) == 1 && reject_second {
                        return reply("400 Bad Request", "", r#"{"error":"invalid_grant"}"#);
                    }
                    return reply(
                        "200 OK",
                        "",
                        &format!(r#"{{"access_token":"{FRESH_ACCESS}"}}"#),
                    );
                }
                if req.contains(FRESH_ACCESS) && !reject_second {
                    reply("200 OK", "", r#"{"id":"u1"}"#)
                } else {
                    reply("401 Unauthorized", "", r#"{"message":"token expired"}"#)
                }
            })
            .await;
            let c = Client::builder(&CONN, creds())
                .base_url(&url)
                .refresh_url(format!("{url}/token"))
                .timeout(Duration::from_millis(300))
                .build()
                .expect("client");
            texts.push(format!("{c:?}"));
            match c.execute("me", "get", json!({})).await {
                Ok(r) => texts.push(format!("{r:?}")),
                Err(e) => {
                    assert!(reject_second && matches!(e, Error::Auth(_)), "{e:?}");
                    texts.extend(err_texts(&e));
                }
            }
        }
        let assertions = assertions.lock().map(|a| a.clone()).unwrap_or_default();
        assert_eq!(
            assertions.len(),
            3,
            "minted once, then twice with the rejection"
        );
        let captured = buffer().lock().map(|b| b.clone()).unwrap_or_default();
        for a in &assertions {
            assert!(a.len() > 300, "a signed assertion: {a}");
            assert!(
                !captured.contains(a.as_str()),
                "an assertion appears in the trace output"
            );
            assert!(
                texts.iter().all(|t| !t.contains(a.as_str())),
                "an assertion leaked"
            );
        }
        assert_clean("service account", &texts);
    });
    bounded.await.expect("scenario finished in time");
}
