//! Fault injection against hand-rolled loopback servers: every scenario ends in a correct
//! recovery or a typed error, never a panic, never a hang past the configured timeouts, never a
//! duplicated write.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use airbyte_agent_runtime::*;
use common::*;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Every scenario must finish well within this.
const LIMIT: Duration = Duration::from_secs(20);

const LIST_OP: OperationDescriptor = OperationDescriptor {
    response: ResponseDescriptor {
        record_extractor: Some("$.data"),
        meta_extractor: &[("has_more", "$.has_more")],
        ..RESPONSE
    },
    ..op("items", "list", ActionKind::List, Method::Get, "/items")
};
const CREATE_OP: OperationDescriptor = OperationDescriptor {
    params: &[body("name", ValueKind::String)],
    body: BodyDescriptor::Json,
    ..op(
        "items",
        "create",
        ActionKind::Create,
        Method::Post,
        "/items",
    )
};
static OPS: &[OperationDescriptor] = &[LIST_OP, CREATE_OP];
static LIST: &OperationDescriptor = &OPS[0];
static ENTITIES: &[EntityDescriptor] = &[EntityDescriptor {
    name: "items",
    description: "",
    operations: OPS,
}];
static CONN: ConnectorDescriptor = connector(std::slice::from_ref(&BEARER), ENTITIES);

static API_KEY: AuthSchemeDescriptor = AuthSchemeDescriptor {
    fields: &[field("key", true)],
    mapping: &[("api_key", "${key}")],
    ..scheme(
        "apikey",
        AuthKind::ApiKeyHeader {
            header: "X-Api-Key",
        },
    )
};
static API_KEY_CONN: ConnectorDescriptor = connector(std::slice::from_ref(&API_KEY), ENTITIES);

static OAUTH: AuthSchemeDescriptor = AuthSchemeDescriptor {
    fields: &[
        field("client_id", false),
        field("client_secret", false),
        field("refresh_token", true),
        field("access_token", false),
    ],
    ..scheme(
        "oauth",
        AuthKind::OAuth2(oauth2("https://auth.example.invalid/token")),
    )
};
static OAUTH_CONN: ConnectorDescriptor = connector(std::slice::from_ref(&OAUTH), ENTITIES);

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Item {
    id: String,
    created: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
#[allow(dead_code)]
struct ListMeta {
    has_more: Option<bool>,
}

/// One parsed request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Read one HTTP/1.1 request (headers + Content-Length body); `None` on EOF or garbage.
async fn read_request(s: &mut TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
        body,
    })
}

fn response(status: &str, extra: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// What the scripted server does with the n-th request (0-based).
type Script = Arc<dyn Fn(usize, &Seen) -> Action + Send + Sync>;

enum Action {
    /// Write these bytes and keep the connection.
    Reply(Vec<u8>),
    /// Write these bytes, then reset the connection (RST).
    ReplyThenReset(Vec<u8>),
    /// Write these bytes, then stall for this long before closing.
    ReplyThenStall(Vec<u8>, Duration),
    /// Say nothing for this long, then close.
    Stall(Duration),
}

struct Server {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
    fn count(&self, method: &str) -> usize {
        self.seen().iter().filter(|s| s.method == method).count()
    }
}

async fn serve(
    host: &str,
    script: impl Fn(usize, &Seen) -> Action + Send + Sync + 'static,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script: Script = Arc::new(script);
    let n = Arc::new(AtomicUsize::new(0));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let (script, seen, n) = (script.clone(), seen2.clone(), n.clone());
            tokio::spawn(async move {
                while let Some(req) = read_request(&mut s).await {
                    let i = n.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut g) = seen.lock() {
                        g.push(req.clone());
                    }
                    match script(i, &req) {
                        Action::Reply(b) => {
                            if s.write_all(&b).await.is_err() {
                                return;
                            }
                        }
                        Action::ReplyThenReset(b) => {
                            let _ = s.write_all(&b).await;
                            let _ = s.flush().await;
                            let _ = s.set_zero_linger();
                            return;
                        }
                        Action::ReplyThenStall(b, d) => {
                            let _ = s.write_all(&b).await;
                            tokio::time::sleep(d).await;
                            return;
                        }
                        Action::Stall(d) => {
                            tokio::time::sleep(d).await;
                            return;
                        }
                    }
                }
            });
        }
    });
    Server {
        url: format!("http://{host}:{port}"),
        seen,
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_secs(3))
}

fn client_for(d: &'static ConnectorDescriptor, creds: Credentials, url: &str) -> Client {
    Client::builder(d, creds)
        .base_url(url)
        .retry_policy(fast_retries())
        .timeout(Duration::from_millis(400))
        .connect_timeout(Duration::from_millis(400))
        .build()
        .expect("client builds")
}

fn ok_page() -> Vec<u8> {
    response(
        "200 OK",
        &[],
        br#"{"data":[{"id":"a","created":1},{"id":"b","created":2}],"has_more":false}"#,
    )
}

async fn list(c: &Client) -> Result<Page<Item, ListMeta>> {
    c.call_list::<Item, ListMeta>(LIST, Params::new()).await
}

/// Run a scenario under the global time limit.
async fn bounded<F: std::future::Future<Output = T>, T>(f: F) -> T {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("scenario exceeded its time limit")
}

#[tokio::test]
async fn connection_refused_is_a_network_error() {
    bounded(async {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", l.local_addr().expect("addr"));
        drop(l);
        let c = client_for(&CONN, bearer_creds(), &url);
        let t = Instant::now();
        let err = list(&c).await.expect_err("nothing listens there");
        assert!(matches!(err, Error::Network { .. }), "{err:?}");
        assert!(err.is_retryable());
        assert!(t.elapsed() < Duration::from_secs(5));
    })
    .await
}

#[tokio::test]
async fn reset_mid_body_is_a_network_error() {
    bounded(async {
        let s = serve("127.0.0.1", |_, _| {
            let mut head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n".to_vec();
            head.extend_from_slice(br#"{"data":[{"id":"a"},"#);
            Action::ReplyThenReset(head)
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = list(&c).await.expect_err("body was cut");
        assert!(
            matches!(err, Error::Network { .. } | Error::Timeout { .. }),
            "{err:?}"
        );
    })
    .await
}

#[tokio::test]
async fn slow_headers_time_out_after_the_retries() {
    bounded(async {
        let s = serve("127.0.0.1", |_, _| Action::Stall(Duration::from_secs(10))).await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let t = Instant::now();
        let err = list(&c).await.expect_err("server never answers");
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        // 3 attempts × 400 ms read timeout plus small backoffs.
        assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
        assert_eq!(s.count("GET"), 3, "idempotent GETs are retried on timeouts");
    })
    .await
}

#[tokio::test]
async fn slow_body_times_out() {
    bounded(async {
        let s = serve("127.0.0.1", |_, _| {
            let mut b =
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n"
                    .to_vec();
            b.extend_from_slice(b"{\"data\":[");
            Action::ReplyThenStall(b, Duration::from_secs(10))
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let t = Instant::now();
        let err = list(&c).await.expect_err("body stalls");
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    })
    .await
}

#[tokio::test]
async fn rate_limit_with_retry_after_seconds_then_success() {
    bounded(async {
        let s = serve("127.0.0.1", |i, _| {
            if i == 0 {
                Action::Reply(response(
                    "429 Too Many Requests",
                    &[("retry-after", "1".into())],
                    br#"{"message":"slow down"}"#,
                ))
            } else {
                Action::Reply(ok_page())
            }
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let t = Instant::now();
        let page = list(&c).await.expect("recovers after Retry-After");
        assert_eq!(page.data.len(), 2);
        assert!(
            t.elapsed() >= Duration::from_millis(950),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(s.count("GET"), 2);
    })
    .await
}

#[tokio::test]
async fn rate_limit_with_retry_after_http_date_then_success() {
    bounded(async {
        let s = serve("127.0.0.1", |i, _| {
            if i == 0 {
                let when = std::time::SystemTime::now() + Duration::from_secs(2);
                Action::Reply(response(
                    "429 Too Many Requests",
                    &[("retry-after", httpdate::fmt_http_date(when))],
                    br#"{"message":"slow down"}"#,
                ))
            } else {
                Action::Reply(ok_page())
            }
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let t = Instant::now();
        let page = list(&c).await.expect("recovers after the HTTP-date");
        assert_eq!(page.data.len(), 2);
        // HTTP-dates have one-second resolution: at least ~1 s of the 2 s remain.
        assert!(
            t.elapsed() >= Duration::from_millis(900),
            "{:?}",
            t.elapsed()
        );
    })
    .await
}

#[tokio::test]
async fn rate_limit_exhausted_is_typed_with_retry_after() {
    bounded(async {
        let s = serve("127.0.0.1", |_, _| {
            Action::Reply(response(
                "429 Too Many Requests",
                &[("retry-after", "0".into())],
                br#"{"message":"slow down"}"#,
            ))
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = list(&c).await.expect_err("always 429");
        match err {
            Error::RateLimited { retry_after, .. } => assert_eq!(retry_after, Some(Duration::ZERO)),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.count("GET"), 3);
    })
    .await
}

#[tokio::test]
async fn burst_of_5xx_then_success() {
    bounded(async {
        let s = serve("127.0.0.1", |i, _| match i {
            0 => Action::Reply(response("503 Service Unavailable", &[], b"{}")),
            1 => Action::Reply(response(
                "502 Bad Gateway",
                &[],
                b"<html>bad gateway</html>",
            )),
            _ => Action::Reply(ok_page()),
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let page = list(&c).await.expect("third attempt succeeds");
        assert_eq!(page.data.len(), 2);
        assert_eq!(s.count("GET"), 3);
    })
    .await
}

#[tokio::test]
async fn writes_are_never_repeated() {
    bounded(async {
        // A 503 on a POST is not retried.
        let s = serve("127.0.0.1", |_, _| {
            Action::Reply(response(
                "503 Service Unavailable",
                &[],
                br#"{"message":"busy"}"#,
            ))
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = c
            .execute("items", "create", json!({"name": "x"}))
            .await
            .expect_err("503");
        assert!(matches!(err, Error::Service(_)), "{err:?}");
        assert_eq!(s.count("POST"), 1);

        // A connection dropped after the server read the POST is not retried either.
        let s = serve("127.0.0.1", |_, _| Action::ReplyThenReset(Vec::new())).await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = c
            .execute("items", "create", json!({"name": "x"}))
            .await
            .expect_err("reset");
        assert!(matches!(err, Error::Network { .. }), "{err:?}");
        assert_eq!(s.count("POST"), 1);

        // A POST whose response never comes times out once.
        let s = serve("127.0.0.1", |_, _| Action::Stall(Duration::from_secs(10))).await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = c
            .execute("items", "create", json!({"name": "x"}))
            .await
            .expect_err("stall");
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        assert_eq!(s.count("POST"), 1);
    })
    .await
}

fn oauth_creds() -> Credentials {
    Credentials::new("oauth")
        .set("client_id", "cid".to_string())
        .set("client_secret", "oauth-client-secret-XYZ".to_string())
        .set("refresh_token", "refresh-token-XYZ".to_string())
        .set("access_token", "stale-access-token-XYZ".to_string())
}

#[tokio::test]
async fn unauthorized_refreshes_then_succeeds() {
    bounded(async {
        let s = serve("127.0.0.1", |_, req| {
            if req.path == "/token" {
                return Action::Reply(response(
                    "200 OK",
                    &[],
                    br#"{"access_token":"fresh-access-token-XYZ","token_type":"Bearer","expires_in":3600}"#,
                ));
            }
            if req.header("authorization") == Some("Bearer fresh-access-token-XYZ") {
                Action::Reply(ok_page())
            } else {
                Action::Reply(response("401 Unauthorized", &[], br#"{"message":"expired"}"#))
            }
        })
        .await;
        let refreshed = Arc::new(AtomicUsize::new(0));
        let r2 = refreshed.clone();
        let c = Client::builder(&OAUTH_CONN, oauth_creds())
            .base_url(&s.url)
            .refresh_url(format!("{}/token", s.url))
            .retry_policy(fast_retries())
            .timeout(Duration::from_millis(400))
            .on_token_refresh(move |_| {
                r2.fetch_add(1, Ordering::SeqCst);
            })
            .build()
            .expect("client");
        let page = list(&c).await.expect("refresh then replay");
        assert_eq!(page.data.len(), 2);
        assert_eq!(refreshed.load(Ordering::SeqCst), 1);
        let token_reqs: Vec<Seen> = s.seen().into_iter().filter(|r| r.path == "/token").collect();
        assert_eq!(token_reqs.len(), 1);
        let body = String::from_utf8_lossy(&token_reqs[0].body).to_string();
        assert!(body.contains("grant_type=refresh_token"), "{body}");
        // Later calls use the fresh token directly.
        list(&c).await.expect("second call");
        assert_eq!(s.seen().iter().filter(|r| r.path == "/token").count(), 1);
    })
    .await
}

#[tokio::test]
async fn rejected_refresh_is_an_auth_error() {
    bounded(async {
        let s = serve("127.0.0.1", |_, req| {
            if req.path == "/token" {
                Action::Reply(response(
                    "400 Bad Request",
                    &[],
                    br#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#,
                ))
            } else {
                Action::Reply(response(
                    "401 Unauthorized",
                    &[],
                    br#"{"message":"expired"}"#,
                ))
            }
        })
        .await;
        let c = Client::builder(&OAUTH_CONN, oauth_creds())
            .base_url(&s.url)
            .refresh_url(format!("{}/token", s.url))
            .retry_policy(fast_retries())
            .timeout(Duration::from_millis(400))
            .build()
            .expect("client");
        let err = list(&c).await.expect_err("refresh rejected");
        assert!(matches!(err, Error::Auth(_)), "{err:?}");
        let gets = s.seen().iter().filter(|r| r.path == "/items").count();
        assert!(gets <= 2, "no refresh loop: {gets} GETs");
        assert!(s.seen().iter().filter(|r| r.path == "/token").count() <= 2);
    })
    .await
}

#[tokio::test]
async fn truncated_and_malformed_json_are_response_errors() {
    bounded(async {
        for body in [
            &br#"{"data":[{"id":"a"},{"id":"#[..],
            br#"{"data":[{"id": nope}]}"#,
            b"\xff\xfe not json",
            br#"{"data":[{"id":"a"}]} trailing"#,
        ] {
            let b = body.to_vec();
            let s = serve("127.0.0.1", move |_, _| {
                Action::Reply(response("200 OK", &[], &b))
            })
            .await;
            let c = client_for(&CONN, bearer_creds(), &s.url);
            let err = list(&c).await.expect_err("bad body");
            assert!(
                matches!(err, Error::Response { status: 200, .. }),
                "{err:?}"
            );
            let err = c
                .execute("items", "list", json!({}))
                .await
                .expect_err("bad body");
            assert!(
                matches!(err, Error::Response { status: 200, .. }),
                "{err:?}"
            );
        }
    })
    .await
}

#[tokio::test]
async fn wrong_field_types_are_decode_errors_with_the_path() {
    bounded(async {
        let s = serve("127.0.0.1", |_, _| {
            Action::Reply(response(
                "200 OK",
                &[],
                br#"{"data":[{"id":"a","created":1},{"id":"b","created":"yesterday"}],"has_more":false}"#,
            ))
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let err = list(&c).await.expect_err("created is a string");
        match &err {
            Error::Decode { path, entity, action, .. } => {
                assert_eq!(path, "data[1].created");
                assert_eq!((entity.as_str(), action.as_str()), ("items", "list"));
            }
            other => panic!("{other:?}"),
        }
        // The untyped entry point still returns the data.
        let r = c.execute("items", "list", json!({})).await.expect("untyped");
        assert_eq!(r.data[1]["created"], json!("yesterday"));
    })
    .await
}

#[tokio::test]
async fn fifty_megabyte_body() {
    bounded(async {
        let mut body = String::with_capacity(51 << 20);
        body.push_str(r#"{"data":["#);
        let mut i = 0;
        while body.len() < 50 << 20 {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&format!(
                r#"{{"id":"item-{i:08}","created":{i},"padding":"{}"}}"#,
                "x".repeat(200)
            ));
            i += 1;
        }
        body.push_str(r#"],"has_more":false}"#);
        let resp = Arc::new(response("200 OK", &[], body.as_bytes()));
        let s = serve("127.0.0.1", move |_, _| Action::Reply(resp.to_vec())).await;
        let c = Client::builder(&CONN, bearer_creds())
            .base_url(&s.url)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let page = list(&c).await.expect("large page");
        assert_eq!(page.data.len(), i);
        assert_eq!(page.data[i - 1].id, format!("item-{:08}", i - 1));
    })
    .await
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_host() {
    bounded(async {
        // `localhost` and `127.0.0.1` are different hosts (different origins).
        let other = serve("localhost", |_, _| Action::Reply(ok_page())).await;
        let target = format!("{}/stolen", other.url);
        let s = serve("127.0.0.1", move |_, _| {
            Action::Reply(response("302 Found", &[("location", target.clone())], b""))
        })
        .await;
        for (conn, creds, header, secret) in [
            (
                &CONN,
                bearer_creds(),
                "authorization",
                "sk_test_secret_value",
            ),
            (
                &API_KEY_CONN,
                Credentials::new("apikey").set("key", "api-key-secret-XYZ".to_string()),
                "x-api-key",
                "api-key-secret-XYZ",
            ),
        ] {
            let c = client_for(conn, creds, &s.url);
            let _ = list(&c).await;
            let first = s.seen().last().cloned().expect("the API got the request");
            assert!(first.header(header).is_some_and(|v| v.contains(secret)));
            for r in other.seen() {
                for (k, v) in &r.headers {
                    assert!(!v.contains(secret), "{k} leaked to the other host");
                }
                assert!(r.header(header).is_none(), "{header} followed the redirect");
            }
        }
    })
    .await
}

#[tokio::test]
async fn same_host_redirect_keeps_working() {
    bounded(async {
        let s = serve("127.0.0.1", |_, req| {
            if req.path.starts_with("/items") {
                Action::Reply(response(
                    "301 Moved Permanently",
                    &[("location", "/v2/items".into())],
                    b"",
                ))
            } else if req.header("authorization") == Some("Bearer sk_test_secret_value") {
                Action::Reply(ok_page())
            } else {
                Action::Reply(response(
                    "401 Unauthorized",
                    &[],
                    br#"{"message":"no auth"}"#,
                ))
            }
        })
        .await;
        let c = client_for(&CONN, bearer_creds(), &s.url);
        let page = list(&c)
            .await
            .expect("same-origin redirect followed with auth");
        assert_eq!(page.data.len(), 2);
    })
    .await
}
